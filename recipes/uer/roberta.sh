#!/usr/bin/env bash
# RoBERTa: dynamic masking, mlm target, one document a line (add --full-sentences for long documents).
set -euo pipefail
source "$(dirname "$0")/common.sh"
CORPUS=${CORPUS:-$UER_DIR/corpora/book_review.txt}
preprocess roberta "$CORPUS" mlm --dynamic-masking
pretrain roberta uer_bert_base mlm 1e-4 "$@"
