#!/usr/bin/env bash
# GatedCNN-9 with the lm target (models/gatedcnn_9_config.json sizes).
set -euo pipefail
export TOTAL_STEPS=${TOTAL_STEPS:-20000}; export SAVE_STEPS=${SAVE_STEPS:-5000}
source "$(dirname "$0")/common.sh"
CORPUS=${CORPUS:-$UER_DIR/corpora/book_review.txt}
preprocess gatedcnn_lm "$CORPUS" lm
pretrain gatedcnn_lm uer_gatedcnn_9 lm 1e-4 "$@"
