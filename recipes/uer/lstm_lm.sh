#!/usr/bin/env bash
# 2-layer LSTM with the lm target (models/rnn_config.json sizes).
set -euo pipefail
export TOTAL_STEPS=${TOTAL_STEPS:-20000}; export SAVE_STEPS=${SAVE_STEPS:-5000}
source "$(dirname "$0")/common.sh"
CORPUS=${CORPUS:-$UER_DIR/corpora/book_review.txt}
preprocess lstm_lm "$CORPUS" lm
pretrain lstm_lm uer_lstm lm 1e-3 "$@"
