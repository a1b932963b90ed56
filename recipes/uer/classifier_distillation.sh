#!/usr/bin/env bash
# Distillation as in UER-py's README: a BERT-large teacher is fine-tuned (3 epochs, batch 32), labels a transfer
# set (TEXT: a tsv with a text_a header, default the training texts) with its logits, and a 3-layer BERT-tiny
# student learns labels and logits (3 epochs, batch 64, --soft-targets --soft-alpha 0.5: 0.5 x MSE on the
# logits + 0.5 x cross-entropy). Both at UER's default lr 2e-5 with warm-up 0.1.
# TEACHER, STUDENT: converted bert_large / bert_tiny models (empty: from scratch, TEACHER_ARCH/STUDENT_ARCH).
# Settings and SMOKE=1: see finetune_common.sh.
set -euo pipefail
source "$(dirname "$0")/finetune_common.sh"
DATA=${DATA:-$DATASETS/douban_book_review}
if [[ -n ${SMOKE:-} ]]; then TEACHER=${TEACHER-}; STUDENT=${STUDENT-}; fi
TEACHER=${TEACHER-$WORK/models/bert_large.pt}
STUDENT=${STUDENT-$WORK/models/bert_tiny.pt}
TEXT=${TEXT:-$WORK/distillation/text.tsv}
PREDICTION=${PREDICTION:-$DATA/prediction.tsv}
mkdir -p "$WORK/distillation/data"
if [[ ! -f $TEXT ]]; then  # default transfer set: the training texts
  mkdir -p "$(dirname "$TEXT")"
  awk -F'\t' 'NR==1{for(i=1;i<=NF;i++) if($i=="text_a"||$i=="text_b") c[++n]=i}
              {s=$c[1]; for(j=2;j<=n;j++) s=s"\t"$c[j]; print s}' "$DATA/train.tsv" > "$TEXT"
fi
finetune teacher uer_classification "$DATA" "${TEACHER_ARCH:-uer_bert_large}" "${TEACHER_LR:-2e-5}" "${EPOCHS:-3}" \
  "${TEACHER_BATCH:-32}" "$TEACHER"
infer teacher classifier "$TEXT" "$WORK/distillation/label_logits.tsv" --output-logits
# text_label_logits.tsv = text.tsv and label_logits.tsv side by side (header: text_a [text_b] label logits)
paste "$TEXT" "$WORK/distillation/label_logits.tsv" > "$WORK/distillation/data/train.tsv"
cp "$DATA/dev.tsv" "$WORK/distillation/data/"
finetune student uer_classification "$WORK/distillation/data" "${STUDENT_ARCH:-uer_bert_tiny}" "${STUDENT_LR:-2e-5}" \
  "${EPOCHS:-3}" "${STUDENT_BATCH:-64}" "$STUDENT" --soft-targets --soft-alpha "${SOFT_ALPHA:-0.5}" "$@"
infer student classifier "$DATA/test_nolabel.tsv" "$PREDICTION"
