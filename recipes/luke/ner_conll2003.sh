#!/usr/bin/env bash
# LUKE span-enumeration NER on CoNLL-2003, mirroring the seed's `ner run` commands:
#   1 convert the model   2 fine-tune (--train-batch-size=2 --gradient-accumulation-steps=4
#   --learning-rate=1e-5 --num-train-epochs=5 --fp16, seed 35; max_seq_length 512, max_mention_length 16)
#   3 predict and score a checkpoint (--no-train --checkpoint-file): seqeval entity F1 on valid and test.
# Data: the original eng.train / eng.testa / eng.testb (IOB1) copied to $DATA/{train,valid,test}.txt.
# Expected test F1 with luke-large: 94.3.
set -euo pipefail
source "$(dirname "$0")/common.sh"

DATA=${DATA:-data/conll2003}
TAGGING_SCHEME=${TAGGING_SCHEME:-iob1}            # iob2 for the Hugging Face / CoNLL-2003 re-releases
SAVE_DIR=${SAVE_DIR:-$WORK/ner_conll2003}
CHECKPOINT=${CHECKPOINT:-$SAVE_DIR/checkpoint_best.pt}
BATCH=${BATCH:-2}
UPDATE_FREQ=${UPDATE_FREQ:-4}
LR=${LR:-1e-5}
EPOCHS=${EPOCHS:-5}
SEED=${SEED:-35}
MAX_SEQ_LENGTH=${MAX_SEQ_LENGTH:-512}
MAX_MENTION_LENGTH=${MAX_MENTION_LENGTH:-16}

if run 1; then convert; fi
if run 2; then
  sentences=$("$PYTHON" -c "import sys; from fairseq_plugins.data.conll import read_conll
print(sum(len(d.sentences) for d in read_conll(sys.argv[1], sys.argv[2])))" "$DATA/train.txt" "$TAGGING_SCHEME")
  log "fine-tune on $sentences sentences"
  finetune "$DATA" "$SAVE_DIR" "$(updates "$sentences" "$BATCH" "$UPDATE_FREQ" "$EPOCHS")" \
    --task luke_ner --criterion luke_span_ner --tagging-scheme "$TAGGING_SCHEME" \
    --max-seq-length "$MAX_SEQ_LENGTH" --max-mention-length "$MAX_MENTION_LENGTH"
fi
if run 3; then
  for split in valid test; do
    log "predict $split with $CHECKPOINT"
    "$PYTHON" "$REPO/scripts/predict_luke_ner.py" --checkpoint "$CHECKPOINT" --input "$DATA/$split.txt" \
      --output "$SAVE_DIR/$split.pred.txt" --vocab-dir "$MODEL"
  done
fi
