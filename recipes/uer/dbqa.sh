#!/usr/bin/env bash
# NLPCC-DBQA (UER-py's run_dbqa.py): question/sentence pairs ranked by BERT (3 epochs, batch 64, lr 2e-5);
# best checkpoint by dev MRR; batches hold whole questions (a question larger than BATCH rows, or than
# --max-tokens if given, has a batch of its own). Inference ranks test.tsv's candidates.
# Settings and SMOKE=1: see finetune_common.sh.
set -euo pipefail
source "$(dirname "$0")/finetune_common.sh"
DATA=${DATA:-$DATASETS/nlpcc-dbqa}
PRETRAINED=${PRETRAINED-$WORK/models/google_zh.pt}
PREDICTION=${PREDICTION:-$DATA/prediction.tsv}
finetune dbqa uer_dbqa "$DATA" "${ARCH:-uer_bert_base}" "${LR:-2e-5}" "${EPOCHS:-3}" "${BATCH:-64}" "$PRETRAINED" "$@"
infer dbqa dbqa "$DATA/test.tsv" "$PREDICTION"
