#!/usr/bin/env bash
# UER-py's NER example (finetune/run_ner.py + inference/run_ner_infer.py) on MSRA-NER:
#   python3 run_ner.py --pretrained_model_path models/google_zh_model.bin --vocab_path models/google_zh_vocab.txt \
#     --train_path datasets/msra_ner/train.tsv --dev_path datasets/msra_ner/dev.tsv --test_path datasets/msra_ner/test.tsv \
#     --label2id_path datasets/msra_ner/label2id.json --epochs_num 5 --batch_size 16 --encoder bert
#   python3 inference/run_ner_infer.py --load_model_path models/ner_model.bin ... \
#     --test_path datasets/msra_ner/test_nolabel.tsv --prediction_path datasets/msra_ner/prediction.tsv
# Stages: 1 convert the encoder (Google's Chinese BERT as a Hugging Face folder, e.g. bert-base-chinese;
# an ALBERT folder works the same), 2 fine-tune (best checkpoint by dev entity F1), 3 tag test_nolabel.tsv
# (UER's prediction.tsv) and score test.tsv.
# UER flags -> here: --label2id_path -> --label2id (default DATA/label2id.json); --epochs_num -> --max-epoch;
# --batch_size -> --batch-size; --seq_length 128 -> --max-length 128 (longer texts are windowed, not cut);
# --learning_rate 2e-5 --warmup 0.1 -> --lr 2e-5 with 10% linear warmup then linear decay;
# --encoder lstm|gru|cnn|... (no pre-trained model) -> ARCH_FLAGS="--arch uer_tagger_lstm" PRETRAINED=none.
set -euo pipefail
source "$(dirname "$0")/common.sh"

DATA=${DATA:-$UER_DIR/datasets/msra_ner}
HF_ENCODER=${HF_ENCODER:-pretrained/bert-base-chinese}
ENCODER_DIR=${ENCODER_DIR:-$WORK/ner/encoder}
SAVE_DIR=${SAVE_DIR:-$WORK/ner/checkpoints}
PRETRAINED=${PRETRAINED:-$ENCODER_DIR/model.pt}   # "none": train the ARCH_FLAGS model from scratch
ARCH_FLAGS=${ARCH_FLAGS:---arch token_tagger}
if [ "$PRETRAINED" = none ]; then NER_VOCAB=${NER_VOCAB:-$VOCAB}; else NER_VOCAB=${NER_VOCAB:-$ENCODER_DIR/vocab.txt}; fi
PREDICTION=${PREDICTION:-$DATA/prediction.tsv}
EPOCHS=${EPOCHS:-5}
BATCH=${BATCH:-16}
LR=${LR:-2e-5}
SEQ_LENGTH=${SEQ_LENGTH:-128}
STAGE=${STAGE:-1}

if [ "$STAGE" -le 1 ] && [ "$PRETRAINED" != none ]; then
  "$PYTHON" "$REPO/scripts/convert_hf_to_fairseq.py" --hf-dir "$HF_ENCODER" --out-dir "$ENCODER_DIR"
fi
if [ "$STAGE" -le 2 ]; then
  lines=$(( $(wc -l < "$DATA/train.tsv") - 1 ))
  updates=$(( (lines + BATCH - 1) / BATCH * EPOCHS ))
  init=()
  [ "$PRETRAINED" != none ] && init=(--pretrained-encoder "$PRETRAINED")
  # shellcheck disable=SC2086
  "$FAIRSEQ_TRAIN" "$DATA" --user-dir "$REPO/fairseq_plugins" --task token_tagging --vocab "$NER_VOCAB" \
    --max-length "$SEQ_LENGTH" $ARCH_FLAGS "${init[@]}" --criterion token_tagging \
    --optimizer adam --adam-betas '(0.9,0.999)' --weight-decay 0.01 --lr "$LR" \
    --lr-scheduler polynomial_decay --warmup-updates $(( updates / 10 )) --total-num-update "$updates" \
    --batch-size "$BATCH" --required-batch-size-multiple 1 --max-epoch "$EPOCHS" \
    --best-checkpoint-metric f1 --maximize-best-checkpoint-metric --no-epoch-checkpoints \
    --save-dir "$SAVE_DIR" $DEVICE_FLAGS
fi
if [ "$STAGE" -le 3 ]; then
  "$PYTHON" "$REPO/scripts/predict_tags.py" --checkpoint "$SAVE_DIR/checkpoint_best.pt" \
    --input "$DATA/test_nolabel.tsv" --output "$PREDICTION"
  "$PYTHON" "$REPO/scripts/predict_tags.py" --checkpoint "$SAVE_DIR/checkpoint_best.pt" \
    --input "$DATA/test.tsv" --output "$SAVE_DIR/test.prediction.tsv" | tee "$SAVE_DIR/test.scores.txt"
fi
