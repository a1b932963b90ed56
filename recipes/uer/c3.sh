#!/usr/bin/env bash
# C3 multiple-choice reading comprehension (UER-py's run_c3.py): DATA/{train,dev,test}.json, seq 512,
# 8 questions (x 4 choices) a batch, lr 2e-5, 8 epochs; inference writes one json line per test question.
# Settings and SMOKE=1: see finetune_common.sh.
set -euo pipefail
[[ -n ${SMOKE:-} ]] || SEQ_LENGTH=${SEQ_LENGTH:-512}
source "$(dirname "$0")/finetune_common.sh"
DATA=${DATA:-$DATASETS/c3}
PRETRAINED=${PRETRAINED-$WORK/models/google_zh.pt}
PREDICTION=${PREDICTION:-$DATA/prediction.jsonl}
finetune c3 uer_c3 "$DATA" "${ARCH:-uer_bert_base}" "${LR:-2e-5}" "${EPOCHS:-8}" "${BATCH:-8}" "$PRETRAINED" "$@"
infer c3 c3 "$DATA/test.json" "$PREDICTION" --output-prob
