#!/usr/bin/env bash
# ELMo-style: two independent LSTM stacks (bilstm) with the bilm target (models/birnn_config.json sizes).
set -euo pipefail
export TOTAL_STEPS=${TOTAL_STEPS:-20000}; export SAVE_STEPS=${SAVE_STEPS:-5000}
source "$(dirname "$0")/common.sh"
CORPUS=${CORPUS:-$UER_DIR/corpora/chnsenticorp.txt}
preprocess bilstm_bilm "$CORPUS" bilm --seq-length 192
pretrain bilstm_bilm uer_bilstm bilm 5e-4 "$@"
