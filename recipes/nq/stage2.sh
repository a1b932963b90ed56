#!/usr/bin/env bash
# Stage 2, the final models (bert-base-uncased_1, albert-xxlarge-v2_{2,3}, bert-large-uncased_{4,5}): negatives
# drawn in proportion to the mined p(answer), plus hard negatives of unanswered documents. NAME names the model;
# FROM_SQUAD=1 starts it from the SQuAD 2.0 stage (the ALBERT models), else from the encoder.
set -euo pipefail
source "$(dirname "$0")/common.sh"
NAME=${NAME:-model1}
init=()
[ "${FROM_SQUAD:-0}" = 1 ] && init=(--finetune-from-model "${SQUAD_CHECKPOINT:-$WORK/squad2/checkpoint_best.pt}")
nq_train "$WORK/$NAME" "$STAGE2_EPOCHS" --negative-distributions "${NEGATIVES:-$WORK/negatives.jsonl}" \
  --negative-row-rate "$NEGATIVE_ROW_RATE" --seed "${SEED:-1}" "${init[@]}"
