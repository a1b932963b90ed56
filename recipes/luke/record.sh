#!/usr/bin/env bash
# LUKE cloze QA on ReCoRD, mirroring the seed's `entity-span-qa run` commands:
#   1 convert the model   2 fine-tune (--num-gpus=8 --train-batch-size=1 --gradient-accumulation-steps=4
#   --learning-rate=1e-5 --num-train-epochs=2 --fp16, seed 4; max_seq_length 512, doc_stride 128,
#   max_query_length 90; the best dev exact match kept)   3 predict and score a checkpoint (--no-train
#   --checkpoint-file): predictions.json and the official ReCoRD EM/F1 on dev.
# Data: ReCoRD v1.0 (https://sheng-z.github.io/ReCoRD-explorer/) train.json and dev.json in $DATA (SuperGLUE's
#   train.jsonl / val.jsonl work too). Expected dev EM/F1 with luke-large: about 90.8/91.4 (test 90.6/91.2).
set -euo pipefail
source "$(dirname "$0")/common.sh"

DATA=${DATA:-data/record}
SAVE_DIR=${SAVE_DIR:-$WORK/record}
CHECKPOINT=${CHECKPOINT:-$SAVE_DIR/checkpoint_best.pt}
GPUS=${GPUS:-8}                                   # the seed's --num-gpus; 1 without distributed training
BATCH=${BATCH:-1}
UPDATE_FREQ=${UPDATE_FREQ:-4}
LR=${LR:-1e-5}
EPOCHS=${EPOCHS:-2}
SEED=${SEED:-4}
MAX_SEQ_LENGTH=${MAX_SEQ_LENGTH:-512}
DOC_STRIDE=${DOC_STRIDE:-128}
MAX_QUERY_LENGTH=${MAX_QUERY_LENGTH:-90}
TASK_FLAGS=(--task luke_record --criterion luke_record --max-seq-length "$MAX_SEQ_LENGTH"
            --doc-stride "$DOC_STRIDE" --max-query-length "$MAX_QUERY_LENGTH")

if run 1; then convert; fi
if run 2; then
  # Updates count windows (a long passage gives several), as LUKE's steps count its features.
  windows=$("$PYTHON" -c "import sys; from fairseq_plugins.tasks.luke_record import LukeRecordConfig, LukeRecordTask
cfg = LukeRecordConfig(data=sys.argv[1], vocab_dir=sys.argv[2], max_seq_length=int(sys.argv[3]),
                       doc_stride=int(sys.argv[4]), max_query_length=int(sys.argv[5]))
task = LukeRecordTask.setup_task(cfg)
print(len(task.build_dataset(task.split_path('train'), keep_empty=False)))" \
    "$DATA" "$MODEL" "$MAX_SEQ_LENGTH" "$DOC_STRIDE" "$MAX_QUERY_LENGTH")
  log "fine-tune on $windows windows with $GPUS GPUs"
  distributed=(); [ "$GPUS" -gt 1 ] && distributed=(--distributed-world-size "$GPUS")
  finetune "$DATA" "$SAVE_DIR" "$(updates "$windows" "$((BATCH * GPUS))" "$UPDATE_FREQ" "$EPOCHS")" \
    "${TASK_FLAGS[@]}" "${distributed[@]}" --best-checkpoint-metric em
fi
if run 3; then
  dev=$(ls "$DATA"/dev.json "$DATA"/val.jsonl 2>/dev/null | head -1)
  log "predict $dev with $CHECKPOINT"
  "$PYTHON" "$REPO/scripts/predict_luke_record.py" --checkpoint "$CHECKPOINT" --input "$dev" \
    --output "$SAVE_DIR/predictions.json" --vocab-dir "$MODEL"
fi
