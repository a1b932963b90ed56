#!/usr/bin/env bash
# LEAR, ACE-2004 (nested, English): span classifier on, spans up to 32 word pieces scored.
set -euo pipefail
DATA=${DATA:-data/lear/ace2004} HF_ENCODER=${HF_ENCODER:-pretrained/bert-large-cased} \
  EXTRA_FLAGS=${EXTRA_FLAGS:---nested --max-span-length 32} \
  exec bash "$(dirname "$0")/train_eval.sh"
