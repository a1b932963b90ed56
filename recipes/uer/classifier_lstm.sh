#!/usr/bin/env bash
# 2-layer LSTM (word embedding, mean pooling, lr 1e-3, 3 epochs, batch 64), UER-py's fast alternative to BERT.
# PRETRAINED: the lstm_lm.sh model (UER's reviews_lstm_model); PRETRAINED= (empty) trains from scratch.
set -euo pipefail
source "$(dirname "$0")/finetune_common.sh"
DATA=${DATA:-$DATASETS/douban_book_review}
PRETRAINED=${PRETRAINED-$WORK/lstm_lm/checkpoints/checkpoint_last.pt}
finetune classifier_lstm uer_classification "$DATA" uer_lstm 1e-3 3 64 "$PRETRAINED" --pooling mean "$@"
infer classifier_lstm classifier "$DATA/test_nolabel.tsv" "$DATA/prediction.tsv"
