#!/usr/bin/env bash
# ELMo-style: continue bilm pre-training of a BiLSTM on ChnSentiCorp text (seq 192, lr 5e-4, 5000 steps),
# then fine-tune it with mean pooling (5 epochs, batch 64, lr 5e-4). BASE: a bilstm model to start from
# (UER's mixed_corpus_elmo_model, converted; empty: from scratch). CORPUS: chnsenticorp.txt of UER-py's corpora.
set -euo pipefail
export TOTAL_STEPS=${TOTAL_STEPS:-5000}; export SAVE_STEPS=${SAVE_STEPS:-2500}; export BATCH_SIZE=${BATCH_SIZE:-64}
source "$(dirname "$0")/finetune_common.sh"
DATA=${DATA:-$DATASETS/chnsenticorp}
CORPUS=${CORPUS:-$UER_DIR/corpora/chnsenticorp.txt}
BASE=${BASE:-}
preprocess chnsenticorp_elmo "$CORPUS" bilm --seq-length 192
pretrain chnsenticorp_elmo uer_bilstm bilm 5e-4 ${BASE:+--finetune-from-model "$BASE"}
SEQ_LENGTH=192 finetune classifier_elmo uer_classification "$DATA" uer_bilstm 5e-4 5 64 \
  "$WORK/chnsenticorp_elmo/checkpoints/checkpoint_last.pt" --pooling mean "$@"
infer classifier_elmo classifier "$DATA/test_nolabel.tsv" "$DATA/prediction.tsv"
