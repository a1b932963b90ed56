#!/usr/bin/env bash
# UER-py Quickstart: BERT (mlm + nsp) on the book review corpus (sentences, blank line between reviews).
set -euo pipefail
export TOTAL_STEPS=${TOTAL_STEPS:-5000}; export SAVE_STEPS=${SAVE_STEPS:-1000}
source "$(dirname "$0")/common.sh"
CORPUS=${CORPUS:-$UER_DIR/corpora/book_review_bert.txt}
preprocess book_review_bert "$CORPUS" bert
pretrain book_review_bert uer_bert_base bert 2e-5 "$@"
