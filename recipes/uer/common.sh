# Shared settings for the UER-py recipes; every variable can be overridden from the environment.
REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PYTHON=${PYTHON:-python}
FAIRSEQ_TRAIN=${FAIRSEQ_TRAIN:-fairseq-train}
UER_DIR=${UER_DIR:-UER-py}                      # a UER-py checkout: corpora/, models/
VOCAB=${VOCAB:-$UER_DIR/models/google_zh_vocab.txt}
WORK=${WORK:-work/uer}
PROCESSES=${PROCESSES:-8}
GPUS=${GPUS:-1}                                  # UER --world_size; fairseq --distributed-world-size
TOTAL_STEPS=${TOTAL_STEPS:-100000}
SAVE_STEPS=${SAVE_STEPS:-10000}
REPORT_STEPS=${REPORT_STEPS:-100}
BATCH_SIZE=${BATCH_SIZE:-32}
DEVICE_FLAGS=${DEVICE_FLAGS:-}                   # e.g. --cpu, or --fp16 on GPUs

preprocess() {  # preprocess NAME CORPUS TARGET [extra preprocess_corpus.py flags]
  local name=$1 corpus=$2 target=$3; shift 3
  "$PYTHON" "$REPO/scripts/preprocess_corpus.py" --corpus-path "$corpus" --vocab-path "$VOCAB" \
    --dest-dir "$WORK/$name/data" --processes-num "$PROCESSES" --target "$target" "$@"
}

pretrain() {  # pretrain NAME ARCH TARGET LR [extra fairseq-train flags]
  local name=$1 arch=$2 target=$3 lr=$4; shift 4
  "$FAIRSEQ_TRAIN" "$WORK/$name/data" --user-dir "$REPO/fairseq_plugins" --task uer_pretrain \
    --arch "$arch" --target "$target" --criterion "uer_$target" \
    --optimizer adamw_fused --adam-betas '(0.9,0.999)' --weight-decay 0.01 --lr "$lr" \
    --lr-scheduler polynomial_decay --warmup-updates $((TOTAL_STEPS / 10)) --total-num-update "$TOTAL_STEPS" \
    --max-update "$TOTAL_STEPS" --save-interval-updates "$SAVE_STEPS" --log-interval "$REPORT_STEPS" \
    --batch-size "$BATCH_SIZE" --distributed-world-size "$GPUS" --disable-validation \
    --save-dir "$WORK/$name/checkpoints" $DEVICE_FLAGS "$@"
}
