#!/usr/bin/env bash
# GPT: causal transformer with the lm target; UER's gpt is post-LN with BERT-base sizes.
set -euo pipefail
source "$(dirname "$0")/common.sh"
CORPUS=${CORPUS:-$UER_DIR/corpora/book_review.txt}
preprocess gpt "$CORPUS" lm
pretrain gpt uer_bert_base lm 1e-4 --embedding word_pos --encoder gpt "$@"
