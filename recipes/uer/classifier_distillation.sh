#!/usr/bin/env bash
# Distillation as in UER-py: a BERT-large teacher is fine-tuned, labels a transfer set (TEXT: a tsv with a
# text_a header, e.g. the training texts) with its logits, and a 3-layer BERT-tiny student learns labels
# and logits (--soft-targets --soft-alpha 0.5: 0.5 x MSE on logits + 0.5 x cross-entropy).
set -euo pipefail
source "$(dirname "$0")/finetune_common.sh"
DATA=${DATA:-$DATASETS/douban_book_review}
TEACHER=${TEACHER:-$WORK/models/bert_large.pt}     # BERT-large pre-trained (converted)
STUDENT=${STUDENT:-$WORK/models/bert_tiny.pt}      # BERT-tiny pre-trained (converted)
TEXT=${TEXT:-$WORK/distillation/text.tsv}
mkdir -p "$WORK/distillation/data"
if [[ ! -f $TEXT ]]; then  # default transfer set: the training texts
  mkdir -p "$(dirname "$TEXT")"
  awk -F'\t' 'NR==1{for(i=1;i<=NF;i++) if($i=="text_a") c=i} {print $c}' "$DATA/train.tsv" > "$TEXT"
fi
finetune teacher uer_classification "$DATA" uer_bert_large 2e-5 3 32 "$TEACHER"
infer teacher classifier "$TEXT" "$WORK/distillation/label_logits.tsv" --output-logits
# text_label_logits.tsv = text.tsv and label_logits.tsv side by side (header: text_a label logits)
paste "$TEXT" "$WORK/distillation/label_logits.tsv" > "$WORK/distillation/data/train.tsv"
cp "$DATA/dev.tsv" "$DATA/test.tsv" "$WORK/distillation/data/"
finetune student uer_classification "$WORK/distillation/data" uer_bert_tiny 1e-4 3 64 "$STUDENT" \
  --soft-targets --soft-alpha 0.5 "$@"
infer student classifier "$DATA/test_nolabel.tsv" "$DATA/prediction.tsv"
