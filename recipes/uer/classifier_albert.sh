#!/usr/bin/env bash
# ALBERT-base (factorized embedding, shared layers) on Douban book review; lr 4e-5, 5 epochs as in UER-py.
set -euo pipefail
source "$(dirname "$0")/finetune_common.sh"
DATA=${DATA:-$DATASETS/douban_book_review}
PRETRAINED=${PRETRAINED:-$WORK/albert/checkpoints/checkpoint_last.pt}
finetune classifier_albert uer_classification "$DATA" uer_albert_base 4e-5 5 32 "$PRETRAINED" "$@"
infer classifier_albert classifier "$DATA/test_nolabel.tsv" "$DATA/prediction.tsv"
