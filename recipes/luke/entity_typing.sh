#!/usr/bin/env bash
# LUKE entity typing on Open Entity, mirroring the seed's `entity-typing run` commands:
#   1 convert the model   2 fine-tune (--train-batch-size=2 --gradient-accumulation-steps=2
#   --learning-rate=1e-5 --num-train-epochs=3 --fp16, seed 12)   3 evaluate a checkpoint (--no-train
#   --checkpoint-file): fairseq-validate logs micro precision / recall / F1 on dev and test.
# Data: ERNIE's OpenEntity (gdown --id 1HlWw7Q6-dFSm9jNSCh4VaBf1PlGqt9im; tar xzf data.tar.gz):
#   $DATA holds train.json, dev.json, test.json. Expected test F1 with luke-large: 78.2.
set -euo pipefail
source "$(dirname "$0")/common.sh"

DATA=${DATA:-data/OpenEntity}
SAVE_DIR=${SAVE_DIR:-$WORK/entity_typing}
CHECKPOINT=${CHECKPOINT:-$SAVE_DIR/checkpoint_best.pt}
BATCH=${BATCH:-2}
UPDATE_FREQ=${UPDATE_FREQ:-2}
LR=${LR:-1e-5}
EPOCHS=${EPOCHS:-3}
SEED=${SEED:-12}
EVAL_BATCH=${EVAL_BATCH:-32}
TASK_FLAGS=(--task luke_entity_typing --criterion luke_entity_typing)

if run 1; then convert; fi
if run 2; then
  examples=$("$PYTHON" -c "import json, sys; print(len(json.load(open(sys.argv[1]))))" "$DATA/train.json")
  log "fine-tune on $examples examples"
  finetune "$DATA" "$SAVE_DIR" "$(updates "$examples" "$BATCH" "$UPDATE_FREQ" "$EPOCHS")" "${TASK_FLAGS[@]}"
fi
if run 3; then
  log "evaluate $CHECKPOINT"
  fairseq-validate "$DATA" --user-dir "$USER_DIR" --vocab-dir "$MODEL" "${TASK_FLAGS[@]}" \
    --path "$CHECKPOINT" --valid-subset valid,test --batch-size "$EVAL_BATCH" $DEVICE_FLAGS
fi
