#!/usr/bin/env bash
# LEAR, OntoNotes 4 (flat, Chinese): the seed README's command (LEAR's reported F1 82.45 README / 82.95 paper).
set -euo pipefail
DATA=${DATA:-data/lear/zh_onto4} HF_ENCODER=${HF_ENCODER:-pretrained/chinese-roberta-wwm-ext-large} \
  exec bash "$(dirname "$0")/train_eval.sh"
