#!/usr/bin/env bash
# UER-py's machine reading comprehension example (run_cmrc.py + inference/run_cmrc_infer.py) on CMRC 2018:
#   python3 run_cmrc.py --pretrained_model_path models/google_zh_model.bin --vocab_path models/google_zh_vocab.txt \
#     --train_path datasets/cmrc2018/train.json --dev_path datasets/cmrc2018/dev.json \
#     --epochs_num 2 --batch_size 8 --seq_length 512 --encoder bert
#   python3 inference/run_cmrc_infer.py --load_model_path models/cmrc_model.bin --vocab_path models/google_zh_vocab.txt \
#     --test_path datasets/cmrc2018/test.json --prediction_path datasets/cmrc2018/prediction.json --seq_length 512
# Stages: 1 convert the encoder (Google's Chinese BERT as a Hugging Face folder, e.g. bert-base-chinese), 2 fine-tune
# (validation logs CMRC's official EM, F1 and their average, UER's model-selection score), 3 answer test.json
# (UER's prediction.json: {question id: answer}) and score dev.json with the official metric.
# UER flags -> here: --train_path/--dev_path -> DATA/train.json, DATA/dev.json; --seq_length 512 -> --max-length;
# --doc_stride 128 -> --doc-stride; --epochs_num -> --max-epoch; --batch_size -> --batch-size;
# --learning_rate 3e-5 --warmup 0.1 -> --lr with 10% linear warmup then linear decay;
# --encoder lstm|gru|cnn|... (no pre-trained BERT) -> ARCH_FLAGS="--arch uer_mrc_lstm" PRETRAINED=none, or a UER
# pre-training checkpoint with ARCH_FLAGS="--arch uer_mrc_bert_base --pretrained-model-path ckpt.pt" PRETRAINED=none.
# Differences: windows are cut in tokens (UER: characters, one token each), and a window holding only part of
# the answer targets [CLS] (BERT's rule; UER clips the answer to the window).
set -euo pipefail
source "$(dirname "$0")/common.sh"

DATA=${DATA:-$UER_DIR/datasets/cmrc2018}
HF_ENCODER=${HF_ENCODER:-pretrained/bert-base-chinese}
ENCODER_DIR=${ENCODER_DIR:-$WORK/cmrc/encoder}
SAVE_DIR=${SAVE_DIR:-$WORK/cmrc/checkpoints}
PRETRAINED=${PRETRAINED:-$ENCODER_DIR/model.pt}   # "none": the ARCH_FLAGS model without --pretrained-encoder
ARCH_FLAGS=${ARCH_FLAGS:---arch extractive_qa_base}
if [ "$PRETRAINED" = none ]; then MRC_VOCAB=${MRC_VOCAB:-$VOCAB}; else MRC_VOCAB=${MRC_VOCAB:-$ENCODER_DIR/vocab.txt}; fi
PREDICTION=${PREDICTION:-$DATA/prediction.json}
EPOCHS=${EPOCHS:-2}
BATCH=${BATCH:-8}
LR=${LR:-3e-5}
SEQ_LENGTH=${SEQ_LENGTH:-512}
DOC_STRIDE=${DOC_STRIDE:-128}
STAGE=${STAGE:-1}

if [ "$STAGE" -le 1 ] && [ "$PRETRAINED" != none ]; then
  "$PYTHON" "$REPO/scripts/convert_hf_to_fairseq.py" --hf-dir "$HF_ENCODER" --out-dir "$ENCODER_DIR"
  [ -f "$ENCODER_DIR/vocab.txt" ] || cp "$HF_ENCODER/vocab.txt" "$ENCODER_DIR/vocab.txt"
fi
if [ "$STAGE" -le 2 ]; then
  questions=$("$PYTHON" -c "import json,sys; print(sum(len(p['qas']) for a in json.load(open(sys.argv[1]))['data'] for p in a['paragraphs']))" "$DATA/train.json")
  updates=$(( (questions + BATCH - 1) / BATCH * EPOCHS ))  # about one window per question at 512 tokens
  init=()
  [ "$PRETRAINED" != none ] && init=(--pretrained-encoder "$PRETRAINED")
  # shellcheck disable=SC2086
  "$FAIRSEQ_TRAIN" "$DATA" --user-dir "$REPO/fairseq_plugins" --task extractive_qa --metric cmrc \
    --vocab "$MRC_VOCAB" --max-length "$SEQ_LENGTH" --doc-stride "$DOC_STRIDE" $ARCH_FLAGS "${init[@]}" \
    --criterion extractive_qa --optimizer adam --adam-betas '(0.9,0.999)' --weight-decay 0.01 --lr "$LR" \
    --lr-scheduler polynomial_decay --warmup-updates $(( updates / 10 )) --total-num-update "$updates" \
    --batch-size "$BATCH" --required-batch-size-multiple 1 --max-epoch "$EPOCHS" \
    --best-checkpoint-metric average --maximize-best-checkpoint-metric --no-epoch-checkpoints \
    --save-dir "$SAVE_DIR" $DEVICE_FLAGS
fi
if [ "$STAGE" -le 3 ]; then
  "$PYTHON" "$REPO/scripts/qa_predict.py" --load-model-path "$SAVE_DIR/checkpoint_best.pt" \
    --test-path "$DATA/test.json" --prediction-path "$PREDICTION"
  "$PYTHON" "$REPO/scripts/qa_predict.py" --load-model-path "$SAVE_DIR/checkpoint_best.pt" \
    --test-path "$DATA/dev.json" --prediction-path "$SAVE_DIR/dev.prediction.json" --evaluate \
    | tee "$SAVE_DIR/dev.scores.json"
fi
