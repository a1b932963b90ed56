#!/usr/bin/env bash
# The SQuAD 2.0 pre-fine-tuning of the first-place ensemble (squad_finetuning/*/run.sh: --version_2_with_negative,
# lr 1e-5, 2 epochs, max_seq_length 384, doc_stride 128): the nq_reader model (answer type + start/end) on SQuAD 2.0,
# scored with the official EM/F1 and the no-answer threshold (validation logs it at the threshold; the
# prediction step adds the official best-threshold search).
set -euo pipefail
source "$(dirname "$0")/common.sh"
SAVE_DIR=${SAVE_DIR:-$WORK/squad2}
# shellcheck disable=SC2086
"$FAIRSEQ_TRAIN" "$SQUAD_DIR" --user-dir "$REPO/fairseq_plugins" --task extractive_qa --vocab "$VOCAB" \
  --metric squad_v2 --max-length "$MAX_LENGTH" --max-query-length "$MAX_QUERY_LENGTH" --doc-stride "$DOC_STRIDE" \
  --arch "$ARCH" --pretrained-encoder "$ENCODER_DIR/model.pt" --criterion nq_reader \
  --optimizer adamw_fused --lr "$SQUAD_LR" --lr-scheduler fixed --batch-size "$BATCH" --required-batch-size-multiple 1 \
  --max-epoch "$SQUAD_EPOCHS" --no-epoch-checkpoints --best-checkpoint-metric f1 --maximize-best-checkpoint-metric \
  --save-dir "$SAVE_DIR" $DEVICE_FLAGS $EXTRA_TRAIN_FLAGS
"$PYTHON" "$REPO/scripts/qa_predict.py" --checkpoint "$SAVE_DIR/checkpoint_best.pt" --input "$SQUAD_DIR/dev.json" \
  --output "$SAVE_DIR/dev.predictions.json" --evaluate | tee "$SAVE_DIR/dev.scores.json"
