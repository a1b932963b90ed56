#!/usr/bin/env bash
# ELMo-style: continue bilm pre-training of a BiLSTM on ChnSentiCorp text (seq 192, lr 5e-4, 5000 steps,
# batch 64), then fine-tune it with mean pooling (5 epochs, batch 64, lr 5e-4, seq 192). BASE: a bilstm model
# to start from (UER's mixed_corpus_elmo_model, converted; empty: from scratch). CORPUS: one text a line
# (chnsenticorp.txt of UER-py's corpora). Settings and SMOKE=1: see finetune_common.sh.
set -euo pipefail
if [[ -z ${SMOKE:-} ]]; then
  export TOTAL_STEPS=${TOTAL_STEPS:-5000} SAVE_STEPS=${SAVE_STEPS:-2500} SEQ_LENGTH=${SEQ_LENGTH:-192}
fi
export BATCH_SIZE=${BATCH_SIZE:-64}
SMOKE_SIZE_FLAGS=${SMOKE_SIZE_FLAGS:---emb-size 32 --hidden-size 32}
source "$(dirname "$0")/finetune_common.sh"
DATA=${DATA:-$DATASETS/chnsenticorp}
CORPUS=${CORPUS:-$UER_DIR/corpora/chnsenticorp.txt}
BASE=${BASE:-}
PREDICTION=${PREDICTION:-$DATA/prediction.tsv}
preprocess chnsenticorp_elmo "$CORPUS" bilm --seq-length "$SEQ_LENGTH"
# shellcheck disable=SC2046,SC2086
pretrain chnsenticorp_elmo "${ARCH:-uer_bilstm}" bilm 5e-4 $(scratch_flags "$BASE") ${BASE:+--finetune-from-model "$BASE"}
finetune classifier_elmo uer_classification "$DATA" "${ARCH:-uer_bilstm}" "${LR:-5e-4}" "${EPOCHS:-5}" "${BATCH:-64}" \
  "$WORK/chnsenticorp_elmo/checkpoints/checkpoint_last.pt" --pooling mean "$@"
infer classifier_elmo classifier "$DATA/test_nolabel.tsv" "$PREDICTION"
