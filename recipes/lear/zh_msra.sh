#!/usr/bin/env bash
# LEAR, MSRA (flat, Chinese): the seed README's command. LEAR used chinese-roberta-wwm-ext-large (its test F1: 95.58).
# Only dev and test ship here, so by default it trains on dev and scores test (TRAIN_SUBSET=train with the full data).
set -euo pipefail
DATA=${DATA:-data/lear/zh_msra} HF_ENCODER=${HF_ENCODER:-pretrained/chinese-roberta-wwm-ext-large} \
  TRAIN_SUBSET=${TRAIN_SUBSET:-dev} VALID_SUBSET=${VALID_SUBSET:-test} \
  exec bash "$(dirname "$0")/train_eval.sh"
