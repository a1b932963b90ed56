#!/usr/bin/env bash
# Multi-task classification (UER-py's run_mt_classifier.py): one BERT encoder, a head per data folder
# (FOLDERS, ':'-separated), 1 epoch, batch 64, lr 2e-5. Validation logs <folder>_accuracy per data set;
# inference labels PREDICT_FOLDER's test_nolabel.tsv with that folder's head.
# Settings and SMOKE=1: see finetune_common.sh.
set -euo pipefail
source "$(dirname "$0")/finetune_common.sh"
FOLDERS=${FOLDERS:-$DATASETS/douban_book_review:$DATASETS/chnsenticorp}
PRETRAINED=${PRETRAINED-$WORK/models/google_zh.pt}
PREDICT_FOLDER=${PREDICT_FOLDER:-${FOLDERS##*:}}
PREDICTION=${PREDICTION:-$PREDICT_FOLDER/prediction.tsv}
finetune classifier_mt uer_classification "$FOLDERS" "${ARCH:-uer_bert_base}" "${LR:-2e-5}" "${EPOCHS:-1}" \
  "${BATCH:-64}" "$PRETRAINED" "$@"
infer classifier_mt classifier "$PREDICT_FOLDER/test_nolabel.tsv" "$PREDICTION" \
  --dataset "$(basename "$PREDICT_FOLDER")"
