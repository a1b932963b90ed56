#!/usr/bin/env bash
# 2-layer LSTM (word embedding, mean pooling, lr 1e-3, 3 epochs, batch 64), UER-py's fast alternative to BERT.
# PRETRAINED: the lstm_lm.sh model (UER's reviews_lstm_model); PRETRAINED= (empty) trains from scratch.
# Settings and SMOKE=1: see finetune_common.sh.
set -euo pipefail
SMOKE_SIZE_FLAGS=${SMOKE_SIZE_FLAGS:---emb-size 32 --hidden-size 32}
source "$(dirname "$0")/finetune_common.sh"
DATA=${DATA:-$DATASETS/douban_book_review}
PRETRAINED=${PRETRAINED-$WORK/lstm_lm/checkpoints/checkpoint_last.pt}
PREDICTION=${PREDICTION:-$DATA/prediction.tsv}
finetune classifier_lstm uer_classification "$DATA" "${ARCH:-uer_lstm}" "${LR:-1e-3}" "${EPOCHS:-3}" "${BATCH:-64}" \
  "$PRETRAINED" --pooling mean "$@"
infer classifier_lstm classifier "$DATA/test_nolabel.tsv" "$PREDICTION"
