#!/usr/bin/env bash
# LUKE extractive QA on SQuAD 1.1 with Wikipedia entities, mirroring the seed's `reading-comprehension run`:
#   0 (STAGE=0) build the link database and redirects from Wikipedia dumps (the seed downloads enwiki_20160305.pkl,
#     enwiki_20181220_redirects.pkl, enwiki_20160305_redirects.pkl; we build ours with scripts/build_wiki_link_db.py)
#   1 convert the model   2 fine-tune (--num-gpus=8 --train-batch-size=2 --gradient-accumulation-steps=3
#   --learning-rate=15e-6 --num-train-epochs=2 --fp16 --no-negative, seed 14; max_seq_length 512,
#   doc_stride 128, max_query_length 64)   3 predict and score a checkpoint (--no-train --checkpoint-file):
#   n-best decode (20, max answer 30 tokens), predictions.json, official SQuAD v1.1 EM/F1 on dev.
# Data: train-v1.1.json and dev-v1.1.json copied to $DATA/train.json and $DATA/dev.json. Dumps: LINK_DUMP
#   (the paper's 2016-03-05 dump: mentions and link probabilities) and MODEL_DUMP (the dump of the entity
#   vocabulary, 2018-12-20 for LUKE's release: only its redirects are used). Expected dev EM/F1 with
#   luke-large: 89.8/95.0 (test 90.2/95.4).
set -euo pipefail
source "$(dirname "$0")/common.sh"

DATA=${DATA:-data/squad}
LINK_DUMP=${LINK_DUMP:-enwiki-20160305-pages-articles.xml.bz2}
MODEL_DUMP=${MODEL_DUMP:-}                        # empty: no model redirects
LINK_DB=${LINK_DB:-$WORK/enwiki_links.db}
LINK_REDIRECTS=${LINK_REDIRECTS:-$WORK/link_redirects.tsv}
MODEL_REDIRECTS=${MODEL_REDIRECTS:-$WORK/model_redirects.tsv}
WORKERS=${WORKERS:-8}
SAVE_DIR=${SAVE_DIR:-$WORK/squad}
CHECKPOINT=${CHECKPOINT:-$SAVE_DIR/checkpoint_best.pt}
GPUS=${GPUS:-8}
BATCH=${BATCH:-2}
UPDATE_FREQ=${UPDATE_FREQ:-3}
LR=${LR:-15e-6}
EPOCHS=${EPOCHS:-2}
SEED=${SEED:-14}
MAX_LENGTH=${MAX_LENGTH:-512}
DOC_STRIDE=${DOC_STRIDE:-128}
MAX_QUERY_LENGTH=${MAX_QUERY_LENGTH:-64}

entity_flags() {
  echo --wiki-link-db-file "$LINK_DB" --link-redirects-file "$LINK_REDIRECTS"
  [ -n "$MODEL_DUMP" ] && echo --model-redirects-file "$MODEL_REDIRECTS"
  return 0
}

if [ "$STAGE" -le 0 ]; then
  log "link database from $LINK_DUMP"
  "$PYTHON" "$REPO/scripts/build_wiki_link_db.py" --dump "$LINK_DUMP" --output "$LINK_DB" \
    --redirects-out "$LINK_REDIRECTS" --workers "$WORKERS"
  if [ -n "$MODEL_DUMP" ]; then
    log "redirects of $MODEL_DUMP"
    "$PYTHON" "$REPO/scripts/build_wiki_link_db.py" --dump "$MODEL_DUMP" --output "$WORK/model_links.db" \
      --redirects-out "$MODEL_REDIRECTS" --workers "$WORKERS"
  fi
fi
if run 1; then convert; fi
if run 2; then
  windows=$("$PYTHON" -c "import sys; from fairseq_plugins.data.squad_format import read_squad
from fairseq_plugins.data.squad_windows import build_qa_windows
from fairseq_plugins.tasks._luke_vocab import folder_tokenizer
print(len(build_qa_windows(read_squad(sys.argv[1]), folder_tokenizer(sys.argv[2])[0], *map(int, sys.argv[3:]))[0]))" \
    "$DATA/train.json" "$MODEL" "$MAX_LENGTH" "$MAX_QUERY_LENGTH" "$DOC_STRIDE")
  log "fine-tune on $windows windows with $GPUS GPUs"
  distributed=(); [ "$GPUS" -gt 1 ] && distributed=(--distributed-world-size "$GPUS")
  # --no-negative: SQuAD 1.1 has no unanswerable questions (--metric squad_v1).
  finetune "$DATA" "$SAVE_DIR" "$(updates "$windows" "$((BATCH * GPUS))" "$UPDATE_FREQ" "$EPOCHS")" \
    --task luke_squad --criterion luke_squad $(entity_flags) --max-length "$MAX_LENGTH" \
    --doc-stride "$DOC_STRIDE" --max-query-length "$MAX_QUERY_LENGTH" --max-answer-length 30 --n-best 20 \
    --metric squad_v1 "${distributed[@]}"
fi
if run 3; then
  log "predict dev with $CHECKPOINT"
  "$PYTHON" "$REPO/scripts/qa_predict.py" --checkpoint "$CHECKPOINT" --input "$DATA/dev.json" \
    --output "$SAVE_DIR/predictions.json" --nbest-output "$SAVE_DIR/nbest_predictions.json" --vocab-dir "$MODEL" \
    --evaluate
fi
