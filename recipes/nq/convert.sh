#!/usr/bin/env bash
# Step 0: the Hugging Face encoder -> a fairseq checkpoint (model.pt, vocab, arch_args.txt) the stages start from.
set -euo pipefail
source "$(dirname "$0")/common.sh"
"$PYTHON" "$REPO/scripts/convert_hf_to_fairseq.py" --hf-dir "$HF_ENCODER" --out-dir "$ENCODER_DIR"
[ -f "$ENCODER_DIR/vocab.txt" ] || cp "$HF_ENCODER/vocab.txt" "$ENCODER_DIR/vocab.txt"
