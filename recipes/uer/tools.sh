#!/usr/bin/env bash
# UER-py's "Scripts" section on a checkpoint of these recipes (default: quickstart_bert.sh's last one).
# MODEL=... LM_MODEL=... override; TEXT is one sentence a line (cloze lines may hold [MASK]).
set -euo pipefail
source "$(dirname "$0")/common.sh"
MODEL=${MODEL:-$WORK/book_review_bert/checkpoints/checkpoint_last.pt}
LM_MODEL=${LM_MODEL:-$WORK/gpt/checkpoints/checkpoint_last.pt}
TEXT=${TEXT:-$UER_DIR/datasets/cloze_input.txt}
OUT=${OUT:-$WORK/tools}
mkdir -p "$OUT"
tool() { "$PYTHON" "$REPO/scripts/$1.py" "${@:2}"; }
M=(--load-model-path "$MODEL" --vocab-path "$VOCAB")

tool build_vocab --corpus-path "$UER_DIR/corpora/book_review.txt" --vocab-path "$OUT/book_review_vocab.txt" \
  --tokenizer char --workers-num "$PROCESSES"
tool diff_vocab --vocab-1 "$VOCAB" --vocab-2 "$OUT/book_review_vocab.txt"
tool check_model "${M[@]}" --quiet
tool cloze_test "${M[@]}" --input-path "$TEXT" --output-path "$OUT/cloze_output.txt" --topn 10
tool extract_features "${M[@]}" --input-path "$TEXT" --output-path "$OUT/features.pt" --pooling mean
tool extract_embeddings "${M[@]}" --word-embedding-path "$OUT/embeddings.txt"
head -n 20 "$OUT/book_review_vocab.txt" | tail -n 10 > "$OUT/target_words.txt"
tool topn_words_indep "${M[@]}" --target-words-path "$OUT/target_words.txt" --cand-vocab-path "$OUT/book_review_vocab.txt"
tool dynamic_vocab_adapter --old-model-path "$MODEL" --old-vocab-path "$VOCAB" \
  --new-vocab-path "$OUT/book_review_vocab.txt" --new-model-path "$OUT/adapted/model.pt"
if [[ -f "$LM_MODEL" ]]; then
  head -n 3 "$TEXT" | sed 's/\[MASK\]//g' > "$OUT/beginnings.txt"
  tool generate_lm --load-model-path "$LM_MODEL" --vocab-path "$VOCAB" --test-path "$OUT/beginnings.txt" \
    --prediction-path "$OUT/generated.txt" --seq-length 128 --top-k 70 --seed 7
fi
