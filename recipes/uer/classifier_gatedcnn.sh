#!/usr/bin/env bash
# GatedCNN-9 (gatedcnn_9_config sizes) with max pooling on ChnSentiCorp: 5 epochs, batch 64, lr 5e-5.
# PRETRAINED: the gatedcnn_lm.sh model (UER's wikizh_gatedcnn_model).
set -euo pipefail
source "$(dirname "$0")/finetune_common.sh"
DATA=${DATA:-$DATASETS/chnsenticorp}
PRETRAINED=${PRETRAINED-$WORK/gatedcnn_lm/checkpoints/checkpoint_last.pt}
finetune classifier_gatedcnn uer_classification "$DATA" uer_gatedcnn_9 5e-5 5 64 "$PRETRAINED" --pooling max "$@"
infer classifier_gatedcnn classifier "$DATA/test_nolabel.tsv" "$DATA/prediction.tsv"
