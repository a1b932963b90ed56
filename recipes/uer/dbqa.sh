#!/usr/bin/env bash
# NLPCC-DBQA (UER-py's run_dbqa.py): question/sentence pairs ranked by BERT; best checkpoint by dev MRR.
set -euo pipefail
source "$(dirname "$0")/finetune_common.sh"
DATA=${DATA:-$DATASETS/nlpcc-dbqa}
PRETRAINED=${PRETRAINED:-$WORK/models/google_zh.pt}
finetune dbqa uer_dbqa "$DATA" uer_bert_base 2e-5 3 64 "$PRETRAINED" "$@"
infer dbqa dbqa "$DATA/test.tsv" "$DATA/prediction.tsv"
