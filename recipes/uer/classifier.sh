#!/usr/bin/env bash
# UER-py's run_classifier.py quickstart: BERT-base on Douban book review, then inference.
# PRETRAINED: google_zh_model converted, or the book_review model of quickstart_bert.sh. Pairs (LCQMC):
# DATA=$DATASETS/lcqmc — the tsv's text_b column makes it pair classification.
set -euo pipefail
source "$(dirname "$0")/finetune_common.sh"
DATA=${DATA:-$DATASETS/douban_book_review}
PRETRAINED=${PRETRAINED:-$WORK/quickstart_bert/checkpoints/checkpoint_last.pt}
finetune classifier uer_classification "$DATA" uer_bert_base 2e-5 3 32 "$PRETRAINED" "$@"
infer classifier classifier "$DATA/test_nolabel.tsv" "$DATA/prediction.tsv" --output-logits --output-prob
