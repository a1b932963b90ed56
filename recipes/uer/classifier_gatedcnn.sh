#!/usr/bin/env bash
# GatedCNN-9 (gatedcnn_9_config sizes) with max pooling on ChnSentiCorp: 5 epochs, batch 64, lr 5e-5.
# PRETRAINED: the gatedcnn_lm.sh model (UER's wikizh_gatedcnn_model); empty: from scratch.
# Settings and SMOKE=1: see finetune_common.sh.
set -euo pipefail
SMOKE_SIZE_FLAGS=${SMOKE_SIZE_FLAGS:---emb-size 32 --hidden-size 32 --layers-num 2}
source "$(dirname "$0")/finetune_common.sh"
DATA=${DATA:-$DATASETS/chnsenticorp}
PRETRAINED=${PRETRAINED-$WORK/gatedcnn_lm/checkpoints/checkpoint_last.pt}
PREDICTION=${PREDICTION:-$DATA/prediction.tsv}
finetune classifier_gatedcnn uer_classification "$DATA" "${ARCH:-uer_gatedcnn_9}" "${LR:-5e-5}" "${EPOCHS:-5}" \
  "${BATCH:-64}" "$PRETRAINED" --pooling max "$@"
infer classifier_gatedcnn classifier "$DATA/test_nolabel.tsv" "$PREDICTION"
