# Shared settings and functions of the UER-py fine-tuning recipes (classification, DBQA, C3, NER, CMRC);
# sources common.sh. Every setting is an environment variable, and a recipe's defaults are the values of
# UER-py's README, so `DATA=... PRETRAINED=... bash recipes/uer/classifier.sh` is UER's command:
#   DATA        data folder (UER's datasets/<name>)
#   PRETRAINED  a converted model to start from (convert_uer_to_fairseq.py, or a pre-training recipe's
#               checkpoint); empty: train ARCH from scratch, with SIZE_FLAGS
#   ARCH        the model's arch (a pre-trained model brings its own sizes)
#   SIZE_FLAGS  model flags for training from scratch only (e.g. "--layers-num 1 --hidden-size 64"); further
#               fairseq-train flags go after the recipe's name (bash classifier.sh --dropout 0.2)
#   EPOCHS, BATCH, LR, SEQ_LENGTH, SEED  UER's --epochs_num, --batch_size, --learning_rate, --seq_length, --seed
#   WARMUP      UER's --warmup (0.1): linear warm-up over that fraction of the updates, then linear decay
#               to 0 at the last one (BertAdam's warmup_linear), as fairseq's polynomial_decay scheduler;
#               the update count is computed from the training file, EPOCHS and BATCH (train_updates).
#               Weight decay 0.01 as BertAdam's (fairseq's adam decays biases and LayerNorm too).
#   PREDICTION  the inference output (UER's --prediction_path; default DATA/prediction.tsv)
#   WORK        where checkpoints go ($WORK/<name>/checkpoints)
#   SMOKE=1     a check that a recipe runs end to end on small data (e.g. UER-py's datasets/test_data): from
#               scratch (PRETRAINED empty), a tiny model (SIZE_FLAGS from SMOKE_SIZE_FLAGS), 1 epoch, sequences
#               of 64 tokens, 20 pre-training steps; any variable set explicitly still wins.
if [[ -n ${SMOKE:-} ]]; then
  PRETRAINED=${PRETRAINED-}
  SIZE_FLAGS=${SIZE_FLAGS-${SMOKE_SIZE_FLAGS:---emb-size 32 --hidden-size 32 --feedforward-size 64 --heads-num 2 --layers-num 2}}
  EPOCHS=${EPOCHS:-1}
  SEQ_LENGTH=${SEQ_LENGTH:-64}
  TOTAL_STEPS=${TOTAL_STEPS:-20}; SAVE_STEPS=${SAVE_STEPS:-20}; REPORT_STEPS=${REPORT_STEPS:-5}
  PROCESSES=${PROCESSES:-1}
fi
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DATASETS=${DATASETS:-$UER_DIR/datasets}
SEQ_LENGTH=${SEQ_LENGTH:-128}
SEED=${SEED:-7}
WARMUP=${WARMUP:-0.1}
SIZE_FLAGS=${SIZE_FLAGS:-}

scratch_flags() {  # scratch_flags PRETRAINED: SIZE_FLAGS when there is no pre-trained model to take sizes from
  [[ -n $1 ]] || echo "$SIZE_FLAGS"
}

examples_in() {  # examples_in FILE: rows of a tsv after its header, or the questions of a C3 json
  case $1 in
    *.tsv) echo $(( $(wc -l < "$1") - 1 )) ;;
    *) "$PYTHON" -c 'import json, sys; print(sum(len(d[1]) for d in json.load(open(sys.argv[1], encoding="utf-8"))))' "$1" ;;
  esac
}

batches_of() {  # batches_of COUNT BATCH: batches of an epoch (the last one may be smaller)
  echo $(( ($1 + $2 - 1) / $2 ))
}

question_batches() {  # question_batches FILE BATCH: batches of a DBQA epoch, whole questions a batch, packed
  # in file order (fairseq packs them by length: a batch more or less); a --max-tokens flag is not counted
  awk -F'\t' -v limit="$2" '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == "qid") q = i; next }
    !($q in n) { order[++k] = $q } { n[$q]++ }
    END { for (i = 1; i <= k; i++) { size = n[order[i]]
            if (rows && rows + size > limit) { batches++; rows = 0 }
            rows += size }
          print batches + (rows > 0) }' "$1"
}

tagging_windows() {  # tagging_windows FILE SEQ_LENGTH: windows of a UER NER tsv (a character a token)
  awk -F'\t' -v width=$(( $2 - 2 )) '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == "text_a") c = i; next }
    { n = split($c, units, " "); w += (n > width) ? int((n + width - 1) / width) : 1 }
    END { print w + 0 }' "$1"
}

qa_windows() {  # qa_windows FILE SEQ_LENGTH DOC_STRIDE: windows of a SQuAD/CMRC json (a character a token)
  "$PYTHON" - "$@" <<'EOF'
import json, sys
path, length, stride = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
windows = 0
for article in json.load(open(path, encoding="utf-8"))["data"]:
    for paragraph in article["paragraphs"]:
        for qa in paragraph["qas"]:  # as data/squad_windows.py: [CLS] question (<= 64) [SEP] context [SEP]
            width, start = length - min(len(qa["question"]), 64) - 3, 0
            windows += 1
            while start + width < len(paragraph["context"]):
                start, windows = start + min(stride, width), windows + 1
print(windows)
EOF
}

schedule_flags() {  # schedule_flags UPDATES: UER's --warmup then linear decay over UPDATES, for fairseq-train
  local warmup; warmup=$(awk -v u="$1" -v w="$WARMUP" 'BEGIN { printf "%d", u * w }')
  echo "--lr-scheduler polynomial_decay --warmup-updates $warmup --total-num-update $1"
}

train_updates() {  # train_updates TASK DATA EPOCHS BATCH: fairseq's updates over EPOCHS (DATA: folders joined by :)
  local task=$1 epochs=$3 batch=$4 per_epoch=0 folder n
  local IFS=:
  for folder in $2; do
    case $task in
      uer_dbqa) n=$(question_batches "$folder/train.tsv" "$batch") ;;
      uer_c3) n=$(batches_of "$(examples_in "$folder/train.json")" "$batch") ;;
      token_tagging) n=$(batches_of "$(tagging_windows "$folder/train.tsv" "$SEQ_LENGTH")" "$batch") ;;
      extractive_qa) n=$(batches_of "$(qa_windows "$folder/train.json" "$SEQ_LENGTH" "$DOC_STRIDE")" "$batch") ;;
      *) n=$(batches_of "$(examples_in "$folder/train.tsv")" "$batch") ;;
    esac
    per_epoch=$(( per_epoch + n ))
  done
  echo $(( per_epoch * epochs ))
}

hf_encoder() {  # hf_encoder NAME PRETRAINED_ARCH SCRATCH_ARCH: the encoder of the NER and CMRC recipes
  # PRETRAINED (default $WORK/NAME/encoder/model.pt) is converted from the Hugging Face folder HF_ENCODER (UER's
  # google_zh_model is bert-base-chinese) when missing, and read with its folder's vocab.txt by PRETRAINED_ARCH;
  # empty (or none): SCRATCH_ARCH from scratch with VOCAB. Sets PRETRAINED, ARCH and ENCODER_VOCAB.
  PRETRAINED=${PRETRAINED-$WORK/$1/encoder/model.pt}
  [[ $PRETRAINED == none ]] && PRETRAINED=
  if [[ -z $PRETRAINED ]]; then
    ARCH=${ARCH:-$3}; ENCODER_VOCAB=${ENCODER_VOCAB:-$VOCAB}
    return
  fi
  local dir; dir=$(dirname "$PRETRAINED")
  ARCH=${ARCH:-$2}; ENCODER_VOCAB=${ENCODER_VOCAB:-$dir/vocab.txt}
  if [[ ${STAGE:-1} -le 1 && ! -f $PRETRAINED ]]; then
    local hf=${HF_ENCODER:-pretrained/bert-base-chinese}
    echo "$PRETRAINED not found: converting $hf into $dir" >&2
    "$PYTHON" "$REPO/scripts/convert_hf_to_fairseq.py" --hf-dir "$hf" --out-dir "$dir"
    [[ -f $dir/vocab.txt ]] || cp "$hf/vocab.txt" "$dir/vocab.txt"
  fi
}

finetune() {  # finetune NAME TASK DATA ARCH LR EPOCHS BATCH [PRETRAINED or ""] [extra fairseq-train flags]
  local name=$1 task=$2 data=$3 arch=$4 lr=$5 epochs=$6 batch=$7 pretrained=${8:-}; shift 8
  local init=(); [[ -n $pretrained ]] && init=(--pretrained-model-path "$pretrained")
  local metric=accuracy; [[ $task == uer_dbqa ]] && metric=mrr
  local updates; updates=$(train_updates "$task" "$data" "$epochs" "$batch")
  # shellcheck disable=SC2046,SC2086
  "$FAIRSEQ_TRAIN" "$data" --user-dir "$REPO/fairseq_plugins" --task "$task" --vocab "$VOCAB" \
    --seq-length "$SEQ_LENGTH" --arch "$arch" $(scratch_flags "$pretrained") --target cls "${init[@]}" \
    --criterion uer_classification \
    --optimizer adamw_fused --adam-betas '(0.9,0.999)' --weight-decay 0.01 --lr "$lr" $(schedule_flags "$updates") \
    --max-epoch "$epochs" --batch-size "$batch" --required-batch-size-multiple 1 --seed "$SEED" \
    --best-checkpoint-metric "$metric" --maximize-best-checkpoint-metric --no-epoch-checkpoints \
    --log-interval "$REPORT_STEPS" --save-dir "$WORK/$name/checkpoints" $DEVICE_FLAGS "$@"
}

infer() {  # infer NAME SCRIPT TEST PREDICTION [extra flags], SCRIPT: classifier, dbqa or c3
  local name=$1 script=$2 test=$3 prediction=$4; shift 4
  mkdir -p "$(dirname "$prediction")"
  "$PYTHON" "$REPO/scripts/uer_infer_$script.py" --load-model-path "$WORK/$name/checkpoints/checkpoint_best.pt" \
    --test-path "$test" --prediction-path "$prediction" "$@"
}
