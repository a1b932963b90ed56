#!/usr/bin/env bash
# Prediction and evaluation (code/validation/valid.py): candidate pruning by cheaper models (reduce1: keep 10 with
# p > 0.2; reduce2: keep 4 with p > 0.35), then the weighted ensemble (0.3/0.3/0.2/0.2 in the solution) of the
# stage-2 models, probabilities averaged; writes the official prediction json and the Kaggle csv, and prints
# nq_eval (best-threshold long/short F1, R@P) and Kaggle micro-F1 when the rows carry annotations.
# MODELS="model1 model2", WEIGHTS="0.6 0.4", PRUNE="stage1:10:0.2 model1:4:0.35" (checkpoint_last.pt of each).
set -euo pipefail
source "$(dirname "$0")/common.sh"
MODELS=${MODELS:-model1}
INPUT=${INPUT:-$(ls -d "$NQ_DATA"/valid.jsonl* 2>/dev/null || ls "$NQ_DATA"/valid/*.json)}
OUT=${OUT:-$WORK/predictions}
mkdir -p "$OUT"
checkpoints=() prune=()
for m in $MODELS; do checkpoints+=("$WORK/$m/checkpoint_last.pt"); done
for p in ${PRUNE:-}; do IFS=: read -r m k minp <<<"$p"; prune+=(--prune "$WORK/$m/checkpoint_last.pt" "$k" "$minp"); done
weights=(); [ -n "${WEIGHTS:-}" ] && read -r -a weights <<<"--weights $WEIGHTS"
# shellcheck disable=SC2086
"$PYTHON" "$REPO/scripts/nq_predict.py" --checkpoint "${checkpoints[@]}" "${weights[@]}" "${prune[@]}" \
  --input $INPUT --output "$OUT/predictions.json" --kaggle-csv "$OUT/submission.csv" \
  --batch-size "${PREDICT_BATCH:-64}" | tee "$OUT/scores.json"
