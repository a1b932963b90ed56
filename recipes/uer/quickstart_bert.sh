#!/usr/bin/env bash
# UER-py Quickstart: BERT (mlm + nsp) on the book review corpus (sentences, blank line between reviews),
# starting, as UER's --pretrained_model_path does, from Google's Chinese BERT (UER-py's google_zh_model.bin)
# when it is there; PRETRAINED= (empty) trains from scratch.
set -euo pipefail
export TOTAL_STEPS=${TOTAL_STEPS:-5000}; export SAVE_STEPS=${SAVE_STEPS:-1000}
source "$(dirname "$0")/common.sh"
CORPUS=${CORPUS:-$UER_DIR/corpora/book_review_bert.txt}
PRETRAINED=${PRETRAINED-$UER_DIR/models/google_zh_model.bin}
preprocess book_review_bert "$CORPUS" bert
START=()
if [[ -n "$PRETRAINED" && -f "$PRETRAINED" ]]; then
  "$PYTHON" "$REPO/scripts/convert_uer_to_fairseq.py" --input-model-path "$PRETRAINED" --vocab-path "$VOCAB" \
    --arch uer_bert_base --target bert --out-dir "$WORK/google_zh"
  START=(--uer-config "$WORK/google_zh/uer_config.json" --finetune-from-model "$WORK/google_zh/model.pt")
fi
pretrain book_review_bert uer_bert_base bert 2e-5 "${START[@]}" "$@"
# UER's book_review_model.bin, for UER-py's run_classifier.py:
"$PYTHON" "$REPO/scripts/convert_fairseq_to_uer.py" --checkpoint "$WORK/book_review_bert/checkpoints/checkpoint_last.pt" \
  --output-model-path "$WORK/book_review_model.bin"
# ... and as Google's TensorFlow BERT folder (bert_model.ckpt.*, bert_config.json, vocab.txt):
"$PYTHON" "$REPO/scripts/convert_fairseq_to_google.py" --checkpoint "$WORK/book_review_bert/checkpoints/checkpoint_last.pt" \
  --out-dir "$WORK/book_review_google"
