# Shared settings and stages of the LUKE recipes (sourced); every variable can be overridden.
#
# The seed's trainer (LUKE examples/legacy/utils/trainer.py) -> fairseq:
#   --train-batch-size B --gradient-accumulation-steps A -> --batch-size B --update-freq A
#   --learning-rate 1e-5 -> --lr 1e-5; --num-train-epochs N -> --max-epoch N
#   AdamW betas (0.9,0.98), eps 1e-6, weight decay 0.01, linear warmup 6% then linear decay, no grad
#   clipping -> --optimizer adamw_fused --adam-betas '(0.9,0.98)' --adam-eps 1e-6 --weight-decay 0.01
#   --lr-scheduler polynomial_decay --warmup-updates 6% --total-num-update (--clip-norm 0 is the default).
#   Not mapped: correct_bias=False (fairseq's adam always corrects), decay-free bias/LayerNorm (all decay).
#   --fp16 (apex O2) -> --fp16; best dev epoch kept -> --best-checkpoint-metric f1.
#   --model-file luke_large_500k.tar.gz -> a Hugging Face LUKE folder converted once (stage 1).
REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PYTHON=${PYTHON:-python}
FAIRSEQ_TRAIN=${FAIRSEQ_TRAIN:-fairseq-train}
USER_DIR=${USER_DIR:-$REPO/fairseq_plugins}
HF_MODEL=${HF_MODEL:-studio-ousia/luke-large}    # a Hugging Face LUKE (or BERT/RoBERTa for LUKE-lite) folder
WORK=${WORK:-work/luke}
MODEL=${MODEL:-$WORK/model}                       # the converted model: model.pt, dict.txt, arch_args.txt, ...
DEVICE_FLAGS=${DEVICE_FLAGS:---fp16}              # --cpu without a GPU
STAGE=${STAGE:-1}
STOP_STAGE=${STOP_STAGE:-3}

log() { echo "== $*" >&2; }
run() { [ "$STAGE" -le "$1" ] && [ "$1" -le "$STOP_STAGE" ]; }

convert() {  # stage 1: the Hugging Face checkpoint -> our luke checkpoint and vocabularies
  log "convert $HF_MODEL -> $MODEL"
  "$PYTHON" "$REPO/scripts/convert_luke_hf_to_fairseq.py" --hf-dir "$HF_MODEL" --out-dir "$MODEL"
}

updates() {  # updates EXAMPLES BATCH UPDATE_FREQ EPOCHS: optimizer steps of the whole run
  local per_update=$(( $2 * $3 ))
  echo $(( ($1 + per_update - 1) / per_update * $4 ))
}

finetune() {  # finetune DATA SAVE_DIR TOTAL_UPDATES [task flags]: the seed's optimiser and schedule
  local data=$1 save_dir=$2 total=$3; shift 3
  "$FAIRSEQ_TRAIN" "$data" --user-dir "$USER_DIR" --vocab-dir "$MODEL" $(cat "$MODEL/arch_args.txt") \
    --finetune-from-model "$MODEL/model.pt" \
    --optimizer adamw_fused --adam-betas '(0.9,0.98)' --adam-eps 1e-6 --weight-decay 0.01 --lr "$LR" \
    --lr-scheduler polynomial_decay --warmup-updates $(( total * 6 / 100 )) --total-num-update "$total" \
    --batch-size "$BATCH" --update-freq "$UPDATE_FREQ" --max-epoch "$EPOCHS" --seed "$SEED" \
    --best-checkpoint-metric f1 --maximize-best-checkpoint-metric --no-epoch-checkpoints \
    --save-dir "$save_dir" $DEVICE_FLAGS "$@"
}
