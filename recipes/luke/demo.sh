#!/usr/bin/env bash
# The `make demo-luke` job: LUKE's entity pre-training end to end on generated data (no download, no
# ../shared): a small MediaWiki dump with hyperlinks (some anchors ambiguous) -> entity vocabulary ->
# binarized instances -> fairseq-train --task luke_pretrain (masked words + masked entities) -> held-out
# masked entity accuracy against the frequency baselines. A few minutes on 2 CPU cores.
set -euo pipefail

OUT=${OUT:-demo_output/luke}
MAX_UPDATE=${MAX_UPDATE:-300}
PY=${PYTHON:-python}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
USER_DIR=$REPO/fairseq_plugins
SCRIPTS=$REPO/scripts
log() { echo "== $*" >&2; }
rm -rf "$OUT/checkpoints"
mkdir -p "$OUT"

log "1/5 generate a small Wikipedia-style dump and its WordPiece vocabulary"
$PY "$REPO/recipes/luke/demo_dump.py" --out-dir "$OUT"

log "2/5 entity vocabulary from the dump's links (redirects resolved)"
$PY "$SCRIPTS/build_entity_vocab.py" --dump "$OUT/dump.xml" --output "$OUT/entity_vocab.jsonl" 2>/dev/null

log "3/5 pre-training instances: words + hyperlink entity spans, held-out articles by title hash"
$PY "$SCRIPTS/preprocess_luke_pretrain.py" --dump "$OUT/dump.xml" --model-dir "$OUT/model" \
  --entity-vocab "$OUT/entity_vocab.jsonl" --out-dir "$OUT/data" --max-seq-length 64 --valid-ratio 0.2 \
  --no-progress 2>/dev/null

log "4/5 pre-train a small LUKE: $MAX_UPDATE updates, masked-LM + masked entity prediction"
fairseq-train "$OUT/data" --user-dir "$USER_DIR" --cpu --task luke_pretrain --criterion luke_pretrain \
  --arch luke_tiny --encoder-layers 2 --encoder-embed-dim 64 --encoder-ffn-embed-dim 128 \
  --encoder-attention-heads 2 --entity-emb-size 32 --max-positions 64 --no-entity-aware-attention \
  --optimizer adamw_fused --adam-betas '(0.9,0.98)' --lr 5e-3 --lr-scheduler polynomial_decay \
  --warmup-updates $((MAX_UPDATE / 10)) --total-num-update "$MAX_UPDATE" --max-update "$MAX_UPDATE" \
  --batch-size 16 --num-workers 0 --required-batch-size-multiple 1 --seed 1 \
  --save-dir "$OUT/checkpoints" --no-epoch-checkpoints --disable-validation \
  --log-format simple --log-interval 50 --no-progress-bar 2>&1 \
  | grep -o "num_updates=[0-9]*\|mlm_loss=[0-9.]*\|entity_loss=[0-9.]*\|entity_acc=[0-9.]*" \
  | paste -d' ' - - - - | sed 's/^/   /'

log "5/5 held-out masked entity prediction (each held-out entity masked once, words visible)"
$PY "$SCRIPTS/evaluate_luke_entities.py" --checkpoint "$OUT/checkpoints/checkpoint_last.pt" \
  --output "$OUT/valid.entities.jsonl" 2>/dev/null
echo "predictions: $OUT/valid.entities.jsonl"
