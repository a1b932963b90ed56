# Shared settings for the UER-py fine-tuning recipes (classification, DBQA, C3); sources common.sh.
# Pre-trained models: fairseq checkpoints of the uer model, from our pre-training recipes
# ($WORK/<name>/checkpoints/checkpoint_last.pt) or converted from UER-py's .bin files.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DATASETS=${DATASETS:-$UER_DIR/datasets}
SEQ_LENGTH=${SEQ_LENGTH:-128}

finetune() {  # finetune NAME TASK DATA ARCH LR EPOCHS BATCH [PRETRAINED or ""] [extra fairseq-train flags]
  local name=$1 task=$2 data=$3 arch=$4 lr=$5 epochs=$6 batch=$7 pretrained=${8:-}; shift 8
  local init=(); [[ -n $pretrained ]] && init=(--pretrained-model-path "$pretrained")
  local metric=accuracy; [[ $task == uer_dbqa ]] && metric=mrr
  "$FAIRSEQ_TRAIN" "$data" --user-dir "$REPO/fairseq_plugins" --task "$task" --vocab "$VOCAB" \
    --seq-length "$SEQ_LENGTH" --arch "$arch" --target cls "${init[@]}" --criterion uer_classification \
    --optimizer adam --lr "$lr" --lr-scheduler fixed --max-epoch "$epochs" --batch-size "$batch" \
    --required-batch-size-multiple 1 --best-checkpoint-metric "$metric" --maximize-best-checkpoint-metric \
    --no-epoch-checkpoints --log-interval "$REPORT_STEPS" --save-dir "$WORK/$name/checkpoints" $DEVICE_FLAGS "$@"
}

infer() {  # infer NAME SCRIPT TEST PREDICTION [extra flags], SCRIPT: classifier, dbqa or c3
  local name=$1 script=$2 test=$3 prediction=$4; shift 4
  "$PYTHON" "$REPO/scripts/uer_infer_$script.py" --load-model-path "$WORK/$name/checkpoints/checkpoint_best.pt" \
    --test-path "$test" --prediction-path "$prediction" "$@"
}
