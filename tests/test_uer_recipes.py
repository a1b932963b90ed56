"""The UER fine-tuning recipes (recipes/uer/*.sh): their update counts and learning-rate schedule (UER's
--warmup, computed in the shell), the label count of a distillation transfer set, and (slow) a subset of
the recipes run end to end in smoke mode on UER-py's test_data, checking prediction files and metrics."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cli_utils import REPO, write_lines
from shared_data import SHARED_DATA

RECIPES = REPO / "recipes" / "uer"
TEST_DATA = SHARED_DATA / "uer" / "test_data"
ZH_VOCAB = SHARED_DATA / "uer" / "vocab" / "google_zh_vocab.txt"


def shell(script: str, **env) -> str:
    """Run ``script`` in bash after sourcing finetune_common.sh; its stdout."""
    env = {**os.environ, "PYTHON": sys.executable, **{k: str(v) for k, v in env.items()}}
    proc = subprocess.run(["bash", "-c", f'set -euo pipefail; source "{RECIPES}/finetune_common.sh"; {script}'],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_update_counts_and_warmup_schedule(tmp_path):
    one = tmp_path / "one"
    write_lines(one / "train.tsv", ["label\ttext_a"] + ["0\tx"] * 130)   # 130 rows: 3 batches of 64
    two = tmp_path / "two"
    write_lines(two / "train.tsv", ["label\ttext_a"] + ["1\ty"] * 64)    # 1 batch
    assert shell(f"train_updates uer_classification {one} 3 64") == "9"
    assert shell(f"train_updates uer_classification {one}:{two} 2 64") == "8"  # multi-task: (3 + 1) x 2
    # DBQA: whole questions of 3, 2, 4 and 1 rows packed in file order; 5 rows a batch: [3+2] [4+1];
    # 4 rows a batch: [3] [2] [4] [1]
    rows = ["label\tqid\ttext_a\ttext_b"] + [f"0\t{q}\tq\ts" for q, n in (("a", 3), ("b", 2), ("c", 4), ("d", 1))
                                               for _ in range(n)]
    write_lines(tmp_path / "dbqa" / "train.tsv", rows)
    assert shell(f"train_updates uer_dbqa {tmp_path / 'dbqa'} 1 5") == "2"
    assert shell(f"train_updates uer_dbqa {tmp_path / 'dbqa'} 3 4") == "12"
    # NER: texts of 3, 10 and 25 characters at SEQ_LENGTH 12 (10 a window): 1 + 1 + 3 windows, 2 a batch -> 3
    write_lines(tmp_path / "ner" / "train.tsv", ["text_a\tlabel"] + [" ".join("字" * n) + "\t" + " ".join("O" * n)
                                                                      for n in (3, 10, 25)])
    assert shell(f"train_updates token_tagging {tmp_path / 'ner'} 1 2", SEQ_LENGTH=12) == "3"
    # CMRC, a 100-character context and 2 questions of 7: at 128 a window (width 128 - 7 - 3 = 118) each;
    # at 64 (width 54, stride 32) windows start at 0, 32 and 64: 6 windows, 2 a batch
    squad = {"data": [{"paragraphs": [{"context": "文" * 100, "qas": [
        {"id": str(i), "question": "问" * 7, "answers": [{"text": "文", "answer_start": 0}]} for i in range(2)]}]}]}
    (tmp_path / "cmrc").mkdir()
    (tmp_path / "cmrc" / "train.json").write_text(json.dumps(squad, ensure_ascii=False), encoding="utf-8")
    assert shell(f"train_updates extractive_qa {tmp_path / 'cmrc'} 2 1", SEQ_LENGTH=128, DOC_STRIDE=32) == "4"
    assert shell(f"train_updates extractive_qa {tmp_path / 'cmrc'} 1 2", SEQ_LENGTH=64, DOC_STRIDE=32) == "3"
    # UER's --warmup 0.1 of the updates, then linear decay to the last one
    assert shell("schedule_flags 24") == "--lr-scheduler polynomial_decay --warmup-updates 2 --total-num-update 24"
    assert shell("schedule_flags 101", WARMUP=0.25).split()[-3:] == ["25", "--total-num-update", "101"]


def test_distillation_transfer_set_counts_labels_from_its_logits(tmp_path):
    """A teacher that predicts one class only leaves a transfer set with labels 0 only: the logits column
    still says there are 3 labels (it used to build a 1-label classifier and stop)."""
    from fairseq_plugins.tasks.uer_classification import UerClassificationConfig, UerClassificationTask

    write_lines(tmp_path / "train.tsv", ["text_a\tlabel\tlogits", "a b\t0\t0.5 0.1 0.2", "b\t0\t0.9 -1 0"])
    vocab = write_lines(tmp_path / "vocab.txt", ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b"])
    cfg = UerClassificationConfig(data=str(tmp_path), vocab=str(vocab), tokenizer_kind="space", soft_targets=True)
    task = UerClassificationTask.setup_task(cfg)
    assert task.labels_nums == [3]
    assert len(task.load_dataset("train")) == 2


def dbqa_from_cmrc(source: Path, folder: Path, split: str):
    """DBQA rows from a CMRC file: each question against every sentence of its context (split after 。！？),
    label 1 for the sentence holding the answer's start."""
    rows = ["label\tqid\ttext_a\ttext_b"]
    for article in json.loads(source.read_text(encoding="utf-8"))["data"]:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"].replace("\t", " ").replace("\n", " ")
            sentences = [(m.start(), m.group()) for m in re.finditer(r"[^。！？]+[。！？]?", context)]
            for qa in paragraph["qas"]:
                start = qa["answers"][0]["answer_start"]
                for lo, sentence in sentences:
                    rows.append(f"{int(lo <= start < lo + len(sentence))}\t{qa['id']}\t{qa['question']}\t{sentence}")
    write_lines(folder / f"{split}.tsv", rows)
    return len(rows) - 1


def run_recipe(name: str, work: Path, **env) -> str:
    """A recipe in smoke mode (SMOKE=1: tiny model from scratch, 1 epoch); its stdout and stderr."""
    env = {**os.environ, "SMOKE": "1", "OMP_NUM_THREADS": "1", "WORK": str(work), "VOCAB": str(ZH_VOCAB),
           "PYTHON": sys.executable, "FAIRSEQ_TRAIN": str(Path(sys.executable).parent / "fairseq-train"),
           "DEVICE_FLAGS": "--cpu --num-workers 0", **{k: str(v) for k, v in env.items()}}
    proc = subprocess.run(["bash", str(RECIPES / f"{name}.sh")], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, f"{name}: exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout + proc.stderr


def metric(log: str, name: str) -> float:
    """The last validation value of ``name`` in a fairseq log."""
    values = re.findall(rf"valid on 'valid' subset \|.*?\| {name} ([0-9.]+)", log)
    assert values, f"no validation {name} in the log"
    return float(values[-1])


def tsv_rows(path: Path):
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.slow
@pytest.mark.skipif(not TEST_DATA.is_dir(), reason="shared data absent")
def test_recipes_run_end_to_end_in_smoke_mode(tmp_path):
    """classifier (BERT, logits and probabilities), classifier_lstm, multi-task, DBQA (made from CMRC), NER
    and CMRC, each trained from scratch for an epoch on test_data, then its inference step."""
    book, senti = TEST_DATA / "book_review", TEST_DATA / "chnsenticorp"
    test_rows = len(tsv_rows(book / "test_nolabel.tsv")) - 1

    log = run_recipe("classifier", tmp_path, DATA=book, PREDICTION=tmp_path / "classifier.tsv")
    assert 0 <= metric(log, "accuracy") <= 1 and "macro_f1" in log
    rows = tsv_rows(tmp_path / "classifier.tsv")
    assert rows[0] == ["label", "logits", "prob"] and len(rows) == test_rows + 1
    assert all(len(r) == 3 and len(r[1].split()) == 2 and abs(sum(map(float, r[2].split())) - 1) < 1e-4
               for r in rows[1:])
    assert re.search(r"'lr_scheduler': \{'_name': 'polynomial_decay', 'warmup_updates': 0, .*'total_num_update': "
                     r"4\.0", log)  # 200 rows / 64 = 4 updates; 10% of 4 rounds down to 0

    log = run_recipe("classifier_lstm", tmp_path, DATA=senti, PREDICTION=tmp_path / "lstm.tsv")
    assert 0 <= metric(log, "accuracy") <= 1
    rows = tsv_rows(tmp_path / "lstm.tsv")
    assert rows[0] == ["label"] and len(rows) == len(tsv_rows(senti / "test_nolabel.tsv"))

    log = run_recipe("classifier_multitask", tmp_path, FOLDERS=f"{book}:{senti}", PREDICTION=tmp_path / "mt.tsv")
    assert 0 <= metric(log, "book_review_accuracy") <= 1 and 0 <= metric(log, "chnsenticorp_accuracy") <= 1
    assert len(tsv_rows(tmp_path / "mt.tsv")) == len(tsv_rows(senti / "test_nolabel.tsv"))

    dbqa = tmp_path / "dbqa"
    dbqa_from_cmrc(TEST_DATA / "cmrc" / "train.json", dbqa, "train")
    candidates = dbqa_from_cmrc(TEST_DATA / "cmrc" / "dev.json", dbqa, "dev")
    dbqa_from_cmrc(TEST_DATA / "cmrc" / "dev.json", dbqa, "test")
    log = run_recipe("dbqa", tmp_path, DATA=dbqa, PREDICTION=tmp_path / "dbqa.tsv")
    assert 0 < metric(log, "mrr") <= 1 and 0 < metric(log, "map") <= 1
    rows = tsv_rows(tmp_path / "dbqa.tsv")
    assert rows[0] == ["qid", "label", "score", "rank"] and len(rows) == candidates + 1
    assert re.search(r"MRR [0-9.]+ +MAP [0-9.]+ +\(3 questions", log)

    ner = TEST_DATA / "msra_ner"
    log = run_recipe("ner", tmp_path, DATA=ner, PREDICTION=tmp_path / "ner.tsv")
    assert 0 <= metric(log, "f1") <= 100
    expected = tsv_rows(ner / "test_nolabel.tsv")
    rows = tsv_rows(tmp_path / "ner.tsv")
    assert len(rows) == len(expected) and all(len(r[-1].split()) == len(e[0].split())
                                              for r, e in zip(rows[1:], expected[1:]))
    assert (tmp_path / "ner" / "checkpoints" / "test.scores.txt").read_text().strip()

    cmrc = TEST_DATA / "cmrc"
    log = run_recipe("cmrc", tmp_path, DATA=cmrc, PREDICTION=tmp_path / "cmrc.json")
    assert 0 <= metric(log, "average") <= 100
    answers = json.loads((tmp_path / "cmrc.json").read_text(encoding="utf-8"))
    questions = [q["id"] for a in json.loads((cmrc / "test.json").read_text(encoding="utf-8"))["data"]
                 for p in a["paragraphs"] for q in p["qas"]]
    assert sorted(answers) == sorted(questions) and all(isinstance(a, str) for a in answers.values())
    scores = json.loads((tmp_path / "cmrc" / "checkpoints" / "dev.scores.json").read_text())
    assert scores["metric"] == "cmrc" and scores["total"] == 3 and scores["missing"] == 0
    assert 0 <= scores["exact_match"] <= scores["f1"] <= 100
