#!/usr/bin/env bash
# ALBERT-base (factorized embedding 128, shared layers) on Douban book review: lr 4e-5, 5 epochs, batch 32
# as in UER-py's README. PRETRAINED: albert_base_zh converted, or albert.sh's model; empty: from scratch.
# Settings and SMOKE=1: see finetune_common.sh (here the smoke model keeps a factorized embedding).
set -euo pipefail
SMOKE_SIZE_FLAGS=${SMOKE_SIZE_FLAGS:---emb-size 16 --hidden-size 32 --feedforward-size 64 --heads-num 2 --layers-num 2}
source "$(dirname "$0")/finetune_common.sh"
DATA=${DATA:-$DATASETS/douban_book_review}
PRETRAINED=${PRETRAINED-$WORK/albert/checkpoints/checkpoint_last.pt}
PREDICTION=${PREDICTION:-$DATA/prediction.tsv}
finetune classifier_albert uer_classification "$DATA" "${ARCH:-uer_albert_base}" "${LR:-4e-5}" "${EPOCHS:-5}" \
  "${BATCH:-32}" "$PRETRAINED" "$@"
infer classifier_albert classifier "$DATA/test_nolabel.tsv" "$PREDICTION"
