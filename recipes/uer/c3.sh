#!/usr/bin/env bash
# C3 multiple-choice reading comprehension (UER-py's run_c3.py): DATA/{train,dev,test}.json, seq 512,
# 8 questions (x 4 choices) a batch, lr 2e-5, 8 epochs.
set -euo pipefail
source "$(dirname "$0")/finetune_common.sh"
DATA=${DATA:-$DATASETS/c3}
PRETRAINED=${PRETRAINED:-$WORK/models/google_zh.pt}
SEQ_LENGTH=512 finetune c3 uer_c3 "$DATA" uer_bert_base 2e-5 8 8 "$PRETRAINED" "$@"
infer c3 c3 "$DATA/test.json" "$DATA/prediction.jsonl"
