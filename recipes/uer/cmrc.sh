#!/usr/bin/env bash
# UER-py's machine reading comprehension example (run_cmrc.py + inference/run_cmrc_infer.py) on CMRC 2018:
#   python3 run_cmrc.py --pretrained_model_path models/google_zh_model.bin --vocab_path models/google_zh_vocab.txt \
#     --train_path datasets/cmrc2018/train.json --dev_path datasets/cmrc2018/dev.json \
#     --epochs_num 2 --batch_size 8 --seq_length 512 --encoder bert
#   python3 inference/run_cmrc_infer.py --load_model_path models/cmrc_model.bin --vocab_path models/google_zh_vocab.txt \
#     --test_path datasets/cmrc2018/test.json --prediction_path datasets/cmrc2018/prediction.json --seq_length 512
# Stages: 1 convert the encoder (Google's Chinese BERT as a Hugging Face folder HF_ENCODER, e.g. bert-base-chinese)
# when PRETRAINED does not exist yet, 2 fine-tune (validation logs CMRC's official EM, F1 and their average, UER's
# model-selection score), 3 answer test.json (UER's prediction.json: {question id: answer}) and score dev.json.
# UER flags -> here: --train_path/--dev_path -> DATA/train.json, DATA/dev.json; --seq_length 512 -> SEQ_LENGTH
# (--max-length); --doc_stride 128 -> DOC_STRIDE; --epochs_num -> EPOCHS; --batch_size -> BATCH;
# --learning_rate 3e-5 --warmup 0.1 -> LR, WARMUP (linear warm-up then linear decay, see finetune_common.sh);
# --encoder lstm|gru|cnn|... (no pre-trained BERT) -> PRETRAINED= ARCH=uer_mrc_lstm (SIZE_FLAGS for sizes).
# PRETRAINED: a converted BERT (convert_hf_to_fairseq.py; its folder's vocab.txt is used); empty: ARCH (default
# uer_mrc_bert_base) from scratch with VOCAB. SMOKE=1: see finetune_common.sh (sequences of 128 tokens here,
# since a window holds a question of up to 64).
# Differences: windows are cut in tokens (UER: characters, one token each), and a window holding only part of
# the answer targets [CLS] (BERT's rule; UER clips the answer to the window).
set -euo pipefail
if [[ -n ${SMOKE:-} ]]; then SEQ_LENGTH=${SEQ_LENGTH:-128}; else SEQ_LENGTH=${SEQ_LENGTH:-512}; fi
source "$(dirname "$0")/finetune_common.sh"

DATA=${DATA:-$UER_DIR/datasets/cmrc2018}
SAVE_DIR=${SAVE_DIR:-$WORK/cmrc/checkpoints}
STAGE=${STAGE:-1}
hf_encoder cmrc extractive_qa_base uer_mrc_bert_base  # stage 1
PREDICTION=${PREDICTION:-$DATA/prediction.json}
EPOCHS=${EPOCHS:-2}
BATCH=${BATCH:-8}
LR=${LR:-3e-5}
DOC_STRIDE=${DOC_STRIDE:-128}

if [[ $STAGE -le 2 ]]; then
  init=(); [[ -n $PRETRAINED ]] && init=(--pretrained-encoder "$PRETRAINED")
  # shellcheck disable=SC2046,SC2086
  "$FAIRSEQ_TRAIN" "$DATA" --user-dir "$REPO/fairseq_plugins" --task extractive_qa --metric cmrc \
    --vocab "$ENCODER_VOCAB" --max-length "$SEQ_LENGTH" --doc-stride "$DOC_STRIDE" \
    --arch "$ARCH" $(scratch_flags "$PRETRAINED") \
    "${init[@]}" --criterion extractive_qa --optimizer adamw_fused --adam-betas '(0.9,0.999)' --weight-decay 0.01 \
    --lr "$LR" $(schedule_flags "$(train_updates extractive_qa "$DATA" "$EPOCHS" "$BATCH")") \
    --batch-size "$BATCH" --required-batch-size-multiple 1 --max-epoch "$EPOCHS" --seed "$SEED" \
    --best-checkpoint-metric average --maximize-best-checkpoint-metric --no-epoch-checkpoints \
    --log-interval "$REPORT_STEPS" --save-dir "$SAVE_DIR" $DEVICE_FLAGS "$@"
fi
if [[ $STAGE -le 3 ]]; then
  mkdir -p "$(dirname "$PREDICTION")"
  "$PYTHON" "$REPO/scripts/qa_predict.py" --load-model-path "$SAVE_DIR/checkpoint_best.pt" \
    --test-path "$DATA/test.json" --prediction-path "$PREDICTION"
  "$PYTHON" "$REPO/scripts/qa_predict.py" --load-model-path "$SAVE_DIR/checkpoint_best.pt" \
    --test-path "$DATA/dev.json" --prediction-path "$SAVE_DIR/dev.prediction.json" --evaluate \
    | tee "$SAVE_DIR/dev.scores.json"
fi
