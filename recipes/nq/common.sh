# Shared settings of the NQ recipes (Kaggle TF2-QA first place); every variable can be overridden from the environment.
# Data: NQ_DATA holds the simplified NQ splits as the nq_reader task reads them (train.jsonl.gz or train/*.json,
# valid.jsonl.gz = NQ dev with 5 annotations); SQUAD_DIR holds SQuAD 2.0 as train.json and dev.json
# (train-v2.0.json and dev-v2.0.json renamed). The encoder is any Hugging Face BERT folder, converted once.
REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PYTHON=${PYTHON:-python}
FAIRSEQ_TRAIN=${FAIRSEQ_TRAIN:-fairseq-train}
WORK=${WORK:-work/nq}
NQ_DATA=${NQ_DATA:-data/nq}
SQUAD_DIR=${SQUAD_DIR:-data/squad2}
HF_ENCODER=${HF_ENCODER:-pretrained/bert-base-uncased}
ENCODER_DIR=${ENCODER_DIR:-$WORK/encoder}
VOCAB=${VOCAB:-$ENCODER_DIR/vocab.txt}
MAX_LENGTH=${MAX_LENGTH:-384}       # the solution: 384 in stage 1, 360 for the final models
MAX_QUERY_LENGTH=${MAX_QUERY_LENGTH:-64}
DOC_STRIDE=${DOC_STRIDE:-128}
BATCH=${BATCH:-8}                   # sequences per update and GPU (3 docs x (pos + neg) + 2 hard negatives)
LR=${LR:-2e-5}
SQUAD_LR=${SQUAD_LR:-1e-5}          # the solution's ALBERT SQuAD 2.0 run: lr 1e-5, 2 epochs, 384/128
SQUAD_EPOCHS=${SQUAD_EPOCHS:-2}
STAGE1_EPOCHS=${STAGE1_EPOCHS:-2}
STAGE2_EPOCHS=${STAGE2_EPOCHS:-3}
NEGATIVE_ROW_RATE=${NEGATIVE_ROW_RATE:-0.67}   # 2 negative-document sequences per 3 positive documents
ARCH=${ARCH:-nq_reader_base}        # sizes come from the converted encoder
DEVICE_FLAGS=${DEVICE_FLAGS:-}      # e.g. --cpu, or --fp16 on GPUs
EXTRA_TRAIN_FLAGS=${EXTRA_TRAIN_FLAGS:-}

nq_train() {  # nq_train SAVE_DIR EPOCHS [extra fairseq-train flags]
  local save_dir=$1 epochs=$2; shift 2
  # shellcheck disable=SC2086
  "$FAIRSEQ_TRAIN" "$NQ_DATA" --user-dir "$REPO/fairseq_plugins" --task nq_reader --vocab "$VOCAB" \
    --max-length "$MAX_LENGTH" --max-query-length "$MAX_QUERY_LENGTH" --doc-stride "$DOC_STRIDE" \
    --arch "$ARCH" --pretrained-encoder "$ENCODER_DIR/model.pt" --criterion nq_reader \
    --optimizer adamw_fused --lr "$LR" --lr-scheduler fixed --batch-size "$BATCH" --required-batch-size-multiple 1 \
    --max-epoch "$epochs" --no-epoch-checkpoints --save-dir "$save_dir" $DEVICE_FLAGS $EXTRA_TRAIN_FLAGS "$@"
}
