#!/usr/bin/env bash
# The BIO token-classification baseline for LEAR: the same encoder, data, batch, epochs and learning rate as
# train_eval.sh, with a linear tag classifier on each word's first word piece instead of LEAR's head.
# Nested gold entities are flattened to the outermost for training (the dropped ones are counted in the log)
# and all of them stay in the test gold set, so the score is comparable with LEAR's.
# Stages: 1 convert the Hugging Face encoder, 2 train (best checkpoint by dev entity F1), 3 predict + score test.
#   DATA=data/lear/ace2004 HF_ENCODER=pretrained/bert-large-cased bash recipes/lear/bio_baseline.sh
set -euo pipefail

: "${DATA:?folder with train/dev/test .json and label_map.json}"
: "${HF_ENCODER:?Hugging Face BERT folder (config.json, weights, vocab.txt)}"
WORK=${WORK:-work/lear_bio/$(basename "$DATA")}
TRAIN_SUBSET=${TRAIN_SUBSET:-train}
VALID_SUBSET=${VALID_SUBSET:-dev}
TEST_SUBSET=${TEST_SUBSET:-test}
BATCH=${BATCH:-8}
LR=${LR:-8e-6}
EPOCHS=${EPOCHS:-5}
MAX_LENGTH=${MAX_LENGTH:-128}
EXTRA_FLAGS=${EXTRA_FLAGS:-}
PYTHON=${PYTHON:-python}
FAIRSEQ_TRAIN=${FAIRSEQ_TRAIN:-fairseq-train}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
STAGE=${STAGE:-1}

mkdir -p "$WORK"
if [ "$STAGE" -le 1 ]; then
  "$PYTHON" "$REPO/scripts/convert_hf_to_fairseq.py" --hf-dir "$HF_ENCODER" --out-dir "$WORK/encoder"
fi
if [ "$STAGE" -le 2 ]; then
  lines=$(wc -l < "$DATA/$TRAIN_SUBSET.json")
  updates=$(( (lines + BATCH - 1) / BATCH * EPOCHS ))
  # shellcheck disable=SC2086
  "$FAIRSEQ_TRAIN" "$DATA" --user-dir "$REPO/fairseq_plugins" --task token_tagging --data-format lear_jsonl \
    --vocab "$WORK/encoder/vocab.txt" --max-length "$MAX_LENGTH" \
    --arch token_tagger --pretrained-encoder "$WORK/encoder/model.pt" --criterion token_tagging \
    --train-subset "$TRAIN_SUBSET" --valid-subset "$VALID_SUBSET" \
    --optimizer adamw_fused --lr "$LR" --weight-decay 0.01 --adam-eps 1e-8 \
    --lr-scheduler polynomial_decay --warmup-updates $(( updates / 10 )) --total-num-update "$updates" \
    --clip-norm 1.0 --batch-size "$BATCH" --required-batch-size-multiple 1 --max-epoch "$EPOCHS" --seed 42 \
    --best-checkpoint-metric f1 --maximize-best-checkpoint-metric --no-epoch-checkpoints \
    --save-dir "$WORK/checkpoints" --log-format simple --log-interval 50 $EXTRA_FLAGS
fi
if [ "$STAGE" -le 3 ]; then
  "$PYTHON" "$REPO/scripts/predict_tags.py" --checkpoint "$WORK/checkpoints/checkpoint_best.pt" \
    --input "$DATA/$TEST_SUBSET.json" --output "$WORK/$TEST_SUBSET.predictions.jsonl" | tee "$WORK/$TEST_SUBSET.scores.txt"
fi
