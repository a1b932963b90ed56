#!/usr/bin/env bash
# ALBERT: mlm + sentence order, factorized embedding (emb 128) and cross-layer parameter sharing.
set -euo pipefail
source "$(dirname "$0")/common.sh"
CORPUS=${CORPUS:-$UER_DIR/corpora/book_review_bert.txt}
preprocess albert "$CORPUS" albert
pretrain albert uer_albert_base albert 1e-4 "$@"
