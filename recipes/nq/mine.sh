#!/usr/bin/env bash
# Hard-negative mining (code/1_1/hnm_set*.py): p(answer) = 1 - p(no answer) of every non-gold candidate of every
# training document under the stage-1 model, the distribution stage 2 draws negatives from.
set -euo pipefail
source "$(dirname "$0")/common.sh"
CHECKPOINT=${CHECKPOINT:-$WORK/stage1/checkpoint_last.pt}
TRAIN_INPUT=${TRAIN_INPUT:-$(ls -d "$NQ_DATA"/train.jsonl* 2>/dev/null || ls "$NQ_DATA"/train/*.json)}
# shellcheck disable=SC2086
"$PYTHON" "$REPO/scripts/nq_mine_negatives.py" --checkpoint "$CHECKPOINT" --input $TRAIN_INPUT \
  --output "${NEGATIVES:-$WORK/negatives.jsonl}" --batch-size "${PREDICT_BATCH:-64}"
