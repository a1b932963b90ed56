#!/usr/bin/env bash
# UER-py's NER example (finetune/run_ner.py + inference/run_ner_infer.py) on MSRA-NER:
#   python3 run_ner.py --pretrained_model_path models/google_zh_model.bin --vocab_path models/google_zh_vocab.txt \
#     --train_path datasets/msra_ner/train.tsv --dev_path datasets/msra_ner/dev.tsv --test_path datasets/msra_ner/test.tsv \
#     --label2id_path datasets/msra_ner/label2id.json --epochs_num 5 --batch_size 16 --encoder bert
#   python3 inference/run_ner_infer.py --load_model_path models/ner_model.bin ... \
#     --test_path datasets/msra_ner/test_nolabel.tsv --prediction_path datasets/msra_ner/prediction.tsv
# Stages: 1 convert the encoder (Google's Chinese BERT as a Hugging Face folder HF_ENCODER, e.g. bert-base-chinese;
# an ALBERT folder works the same) when PRETRAINED does not exist yet, 2 fine-tune (best checkpoint by dev entity
# F1), 3 tag test_nolabel.tsv (UER's prediction.tsv) and score test.tsv.
# UER flags -> here: --label2id_path -> --label2id (default DATA/label2id.json); --epochs_num -> EPOCHS;
# --batch_size -> BATCH; --seq_length 128 -> SEQ_LENGTH (--max-length; longer texts are windowed, not cut);
# --learning_rate 2e-5 --warmup 0.1 -> LR, WARMUP (linear warm-up then linear decay, see finetune_common.sh);
# --encoder lstm|gru|cnn|... (no pre-trained model) -> PRETRAINED= ARCH=uer_tagger_lstm (SIZE_FLAGS for sizes).
# PRETRAINED: a converted BERT (convert_hf_to_fairseq.py; its folder's vocab.txt is used); empty: ARCH (default
# uer_tagger_bert_base) from scratch with VOCAB. UER_PRETRAINED: instead, a UER pre-training checkpoint (ours, or
# a UER-py .bin through convert_uer_to_fairseq.py) for a uer_tagger_* ARCH (UER's --pretrained_model_path).
# SMOKE=1: see finetune_common.sh.
set -euo pipefail
source "$(dirname "$0")/finetune_common.sh"

DATA=${DATA:-$UER_DIR/datasets/msra_ner}
SAVE_DIR=${SAVE_DIR:-$WORK/ner/checkpoints}
STAGE=${STAGE:-1}
hf_encoder ner token_tagger uer_tagger_bert_base  # stage 1
PREDICTION=${PREDICTION:-$DATA/prediction.tsv}
EPOCHS=${EPOCHS:-5}
BATCH=${BATCH:-16}
LR=${LR:-2e-5}

if [[ $STAGE -le 2 ]]; then
  init=(); [[ -n $PRETRAINED ]] && init=(--pretrained-encoder "$PRETRAINED")
  [[ -n ${UER_PRETRAINED:-} ]] && init=(--pretrained-model-path "$UER_PRETRAINED")
  # shellcheck disable=SC2046,SC2086
  "$FAIRSEQ_TRAIN" "$DATA" --user-dir "$REPO/fairseq_plugins" --task token_tagging --vocab "$ENCODER_VOCAB" \
    --max-length "$SEQ_LENGTH" --arch "$ARCH" $(scratch_flags "$PRETRAINED") "${init[@]}" --criterion token_tagging \
    --optimizer adamw_fused --adam-betas '(0.9,0.999)' --weight-decay 0.01 --lr "$LR" \
    $(schedule_flags "$(train_updates token_tagging "$DATA" "$EPOCHS" "$BATCH")") \
    --batch-size "$BATCH" --required-batch-size-multiple 1 --max-epoch "$EPOCHS" --seed "$SEED" \
    --best-checkpoint-metric f1 --maximize-best-checkpoint-metric --no-epoch-checkpoints \
    --log-interval "$REPORT_STEPS" --save-dir "$SAVE_DIR" $DEVICE_FLAGS "$@"
fi
if [[ $STAGE -le 3 ]]; then
  mkdir -p "$(dirname "$PREDICTION")"
  "$PYTHON" "$REPO/scripts/predict_tags.py" --checkpoint "$SAVE_DIR/checkpoint_best.pt" \
    --input "$DATA/test_nolabel.tsv" --output "$PREDICTION"
  "$PYTHON" "$REPO/scripts/predict_tags.py" --checkpoint "$SAVE_DIR/checkpoint_best.pt" \
    --input "$DATA/test.tsv" --output "$SAVE_DIR/test.prediction.tsv" | tee "$SAVE_DIR/test.scores.txt"
fi
