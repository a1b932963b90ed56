#!/usr/bin/env bash
# LEAR fine-tuning and test scoring, shared by the dataset recipes beside this file.
# Stages: 1 convert the Hugging Face encoder, 2 train (best checkpoint by dev span F1), 3 predict + score test.
# LEAR's flags -> fairseq: per_gpu_train_batch_size 8 -> --batch-size 8; learning_rate 8e-6 -> --lr 8e-6;
# task_layer_lr 10 -> --task-layer-lr 10 with --optimizer lear_adam; num_train_epochs 5 -> --max-epoch 5;
# max_seq_length 128 -> --max-length 128; AdamW wd 0.01, eps 1e-8, warmup 0.1 linear, clip 1.0, seed 42.
set -euo pipefail

: "${DATA:?folder with train/dev/test .json and the label files}"
: "${HF_ENCODER:?Hugging Face BERT folder (config.json, weights, vocab.txt)}"
WORK=${WORK:-work/lear/$(basename "$DATA")}
TRAIN_SUBSET=${TRAIN_SUBSET:-train}
VALID_SUBSET=${VALID_SUBSET:-dev}
TEST_SUBSET=${TEST_SUBSET:-test}
BATCH=${BATCH:-8}
LR=${LR:-8e-6}
TASK_LAYER_LR=${TASK_LAYER_LR:-10}
EPOCHS=${EPOCHS:-5}
MAX_LENGTH=${MAX_LENGTH:-128}
EXTRA_FLAGS=${EXTRA_FLAGS:-}          # e.g. "--nested --max-span-length 32"
PYTHON=${PYTHON:-python}
FAIRSEQ_TRAIN=${FAIRSEQ_TRAIN:-fairseq-train}
USER_DIR=${USER_DIR:-$(dirname "$0")/../../fairseq_plugins}
STAGE=${STAGE:-1}

mkdir -p "$WORK"
if [ "$STAGE" -le 1 ]; then
  "$PYTHON" "$(dirname "$0")/../../scripts/convert_hf_to_fairseq.py" --hf-dir "$HF_ENCODER" --out-dir "$WORK/encoder"
fi
if [ "$STAGE" -le 2 ]; then
  lines=$(wc -l < "$DATA/$TRAIN_SUBSET.json")
  updates=$(( (lines + BATCH - 1) / BATCH * EPOCHS ))
  # shellcheck disable=SC2046,SC2086
  "$FAIRSEQ_TRAIN" "$DATA" --user-dir "$USER_DIR" --task lear_ner --vocab "$WORK/encoder/vocab.txt" \
    --max-length "$MAX_LENGTH" --arch lear --pretrained-encoder "$WORK/encoder/model.pt" \
    --criterion lear_span --train-subset "$TRAIN_SUBSET" --valid-subset "$VALID_SUBSET" \
    --optimizer lear_adam --lr "$LR" --task-layer-lr "$TASK_LAYER_LR" --weight-decay 0.01 --adam-eps 1e-8 \
    --lr-scheduler polynomial_decay --warmup-updates $(( updates / 10 )) --total-num-update "$updates" \
    --clip-norm 1.0 --batch-size "$BATCH" --required-batch-size-multiple 1 --max-epoch "$EPOCHS" --seed 42 \
    --best-checkpoint-metric f1 --maximize-best-checkpoint-metric --no-epoch-checkpoints \
    --save-dir "$WORK/checkpoints" --log-format simple --log-interval 50 $EXTRA_FLAGS
fi
if [ "$STAGE" -le 3 ]; then
  "$PYTHON" "$(dirname "$0")/../../scripts/lear_predict.py" --checkpoint "$WORK/checkpoints/checkpoint_best.pt" \
    --input "$DATA/$TEST_SUBSET.json" --output "$WORK/$TEST_SUBSET.predictions.jsonl" | tee "$WORK/$TEST_SUBSET.scores.json"
fi
