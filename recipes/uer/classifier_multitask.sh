#!/usr/bin/env bash
# Multi-task classification (UER-py's run_mt_classifier.py): one BERT encoder, a head per data folder
# (':'-separated), 1 epoch, batch 64. Validation logs <folder>_accuracy per data set.
set -euo pipefail
source "$(dirname "$0")/finetune_common.sh"
FOLDERS=${FOLDERS:-$DATASETS/douban_book_review:$DATASETS/chnsenticorp}
PRETRAINED=${PRETRAINED:-$WORK/models/google_zh.pt}
finetune classifier_mt uer_classification "$FOLDERS" uer_bert_base 2e-5 1 64 "$PRETRAINED" "$@"
infer classifier_mt classifier "$DATASETS/chnsenticorp/test_nolabel.tsv" "$DATASETS/chnsenticorp/prediction.tsv" \
  --dataset chnsenticorp
