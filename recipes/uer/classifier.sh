#!/usr/bin/env bash
# UER-py's run_classifier.py example: BERT-base on Douban book review (3 epochs, batch 64, lr 2e-5, warm-up 0.1,
# seq 128), then inference/run_classifier_infer.py on test_nolabel.tsv with logits and probabilities.
# PRETRAINED: google_zh_model converted (convert_uer_to_fairseq.py), or the book_review model of
# quickstart_bert.sh; empty: from scratch. Pairs (LCQMC): DATA=$DATASETS/lcqmc (a text_b column).
# Settings and SMOKE=1: see finetune_common.sh.
set -euo pipefail
source "$(dirname "$0")/finetune_common.sh"
DATA=${DATA:-$DATASETS/douban_book_review}
PRETRAINED=${PRETRAINED-$WORK/quickstart_bert/checkpoints/checkpoint_last.pt}
PREDICTION=${PREDICTION:-$DATA/prediction.tsv}
finetune classifier uer_classification "$DATA" "${ARCH:-uer_bert_base}" "${LR:-2e-5}" "${EPOCHS:-3}" "${BATCH:-64}" \
  "$PRETRAINED" "$@"
infer classifier classifier "$DATA/test_nolabel.tsv" "$PREDICTION" --output-logits --output-prob
