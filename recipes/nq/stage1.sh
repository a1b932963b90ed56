#!/usr/bin/env bash
# Stage 1 (code/1_1): every answered document gives its gold candidate and one uniformly drawn negative,
# redrawn each epoch. FROM_SQUAD=1 starts from the SQuAD 2.0 stage (squad2.sh) instead of the plain encoder.
set -euo pipefail
source "$(dirname "$0")/common.sh"
SAVE_DIR=${SAVE_DIR:-$WORK/stage1}
init=()
[ "${FROM_SQUAD:-0}" = 1 ] && init=(--finetune-from-model "${SQUAD_CHECKPOINT:-$WORK/squad2/checkpoint_best.pt}")
nq_train "$SAVE_DIR" "$STAGE1_EPOCHS" "${init[@]}"
