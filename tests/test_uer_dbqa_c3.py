"""UER DBQA (answer-sentence ranking, MRR/MAP) and C3 (multiple choice): training through fairseq-train,
validation metrics, the inference scripts, and bad input."""
import json
import random

import pytest

from cli_utils import BIN, USER_DIR, json_logs, load_script, run_cli, write_lines
from fairseq_plugins.data.uer_c3 import read_c3_json
from fairseq_plugins.data.uer_classification import ClassificationExample
from fairseq_plugins.data.uer_dbqa import DbqaDataset, read_dbqa_tsv
from fairseq_plugins.errors import InputError
from shared_data import SHARED_DATA

WORDS = [f"w{i}" for i in range(20)]
TINY = ("--arch", "uer_bert_tiny", "--target", "cls", "--emb-size", "32", "--hidden-size", "32",
        "--feedforward-size", "64", "--heads-num", "2", "--layers-num", "1", "--dropout", "0")


def train(task, folder, vocab, save_dir, *extra, tokenizer="space"):
    return run_cli([
        BIN / "fairseq-train", folder, "--user-dir", USER_DIR, "--cpu", "--task", task, "--vocab", vocab,
        "--tokenizer-kind", tokenizer, *TINY, "--criterion", "uer_classification", "--optimizer", "adam",
        "--lr", "3e-3", "--lr-scheduler", "fixed", "--seed", "1", "--num-workers", "0", "--save-dir", save_dir,
        "--no-epoch-checkpoints", "--log-format", "json", "--log-interval", "1", "--no-progress-bar",
        "--required-batch-size-multiple", "1", *extra,
    ], timeout=180)


def write_dbqa(path, questions, rng):
    """Each question has 3-5 candidates; the answer sentence carries the word 'ans'."""
    rows = ["label\tqid\ttext_a\ttext_b"]
    for q in range(questions):
        candidates = rng.randint(3, 5)
        answer = rng.randrange(candidates)
        question = " ".join(rng.choices(WORDS, k=3))
        for c in range(candidates):
            sentence = rng.choices(WORDS, k=4) + (["ans"] if c == answer else [])
            rng.shuffle(sentence)
            rows.append(f"{int(c == answer)}\t{q}\t{question}\t{' '.join(sentence)}")
    return write_lines(path, rows)


def test_dbqa_learns_to_rank_and_inference_agrees_with_validation(tmp_path):
    rng = random.Random(0)
    folder = tmp_path / "dbqa"
    write_dbqa(folder / "train.tsv", 32, rng)
    write_dbqa(folder / "dev.tsv", 10, rng)
    vocab = write_lines(tmp_path / "vocab.txt", ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "ans", *WORDS])
    out = train("uer_dbqa", folder, vocab, tmp_path / "ckpt", "--seq-length", "16", "--batch-size", "16",
                "--max-epoch", "4")
    valid = json_logs(out.stdout + out.stderr, "valid")
    assert {"valid_mrr", "valid_map", "valid_accuracy", "valid_f1_1"} <= set(valid[-1])
    assert float(valid[-1]["valid_mrr"]) >= 0.9 > float(valid[0]["valid_mrr"]) - 0.5  # random ranking: ~0.5

    prediction = tmp_path / "prediction.tsv"
    load_script("uer_infer_dbqa").main(["--load-model-path", str(tmp_path / "ckpt" / "checkpoint_last.pt"),
                                        "--test-path", str(folder / "dev.tsv"), "--prediction-path",
                                        str(prediction), "--cpu"])
    rows = [line.split("\t") for line in prediction.read_text().splitlines()]
    assert rows[0] == ["qid", "label", "score", "rank"] and len(rows) == len((folder / "dev.tsv").read_text()
                                                                             .splitlines())
    ranks = {}
    for qid, _, _, rank in rows[1:]:
        ranks.setdefault(qid, []).append(int(rank))
    assert all(sorted(r) == list(range(1, len(r) + 1)) for r in ranks.values())


def dbqa_batches(max_tokens, max_sentences):
    """Questions (as sets of their numbers) per batch, and the count of oversized questions, for four questions:
    q0 3 rows of 5 tokens, q1 2 rows of 10, q2 6 rows of 4, q3 1 row of 30. fairseq hands the indices
    sorted by length, so questions come in the order q2, q0, q1, q3."""
    shape = {0: (3, 5), 1: (2, 10), 2: (6, 4), 3: (1, 30)}
    examples = [ClassificationExample([5] * length, [1] * length, 0, None, q)
                for q, (rows, length) in shape.items() for _ in range(rows)]
    dataset = DbqaDataset(examples, pad=0)
    batches = dataset.batch_by_size(dataset.ordered_indices(), max_tokens, max_sentences)
    assert sorted(int(i) for b in batches for i in b) == list(range(len(examples)))
    return [{examples[i].group for i in b} for b in batches], dataset.oversized_questions


def test_dbqa_batches_honour_max_tokens_with_whole_questions():
    # padded tokens (rows x longest): q2+q0 = 9 x 5 = 45 <= 60; + q1 would be 11 x 10; q1+q3 = 3 x 30
    assert dbqa_batches(60, None) == ([{2, 0}, {1}, {3}], 0)
    # q2 (6 x 4 = 24) and q3 (30) are over 20 alone: a batch each, counted; q1 (2 x 10) fits exactly
    assert dbqa_batches(20, None) == ([{2}, {0}, {1}, {3}], 2)
    # --batch-size still holds (q2 has 6 rows > 4: alone, counted); both limits together
    assert dbqa_batches(None, 4) == ([{2}, {0}, {1, 3}], 1)
    assert dbqa_batches(60, 8) == ([{2}, {0, 1}, {3}], 0)  # q2+q0 = 9 rows > 8; q0+q1 = 5 x 10 = 50


@pytest.mark.parametrize("lines, line, field", [
    (["label\ttext_a\ttext_b", "1\tq\ts"], 1, "qid"),
    (["label\tqid\ttext_a\ttext_b", "2\t1\tq\ts"], 2, "label"),
    (["label\tqid\ttext_a\ttext_b", "1\t1\tq"], 2, "columns"),
    (["label\tqid\ttext_a", "1\t1\tq"], 1, "text_b"),
    (["1\t1\tq\ts"], 1, "1"),
])
def test_bad_dbqa_file_names_line_and_field(tmp_path, lines, line, field):
    path = write_lines(tmp_path / "dev.tsv", lines)
    with pytest.raises(InputError) as err:
        read_dbqa_tsv(path)
    assert (err.value.path, err.value.line, err.value.field) == (str(path), line, field)


C3_DEV = SHARED_DATA / "uer" / "c3_dev.json"


@pytest.mark.skipif(not C3_DEV.is_file(), reason="shared data absent")
def test_c3_trains_evaluates_and_infers(tmp_path):
    documents = json.loads(C3_DEV.read_text(encoding="utf-8"))
    folder = tmp_path / "c3"
    folder.mkdir()
    (folder / "train.json").write_text(json.dumps(documents[:12], ensure_ascii=False), encoding="utf-8")
    (folder / "dev.json").write_text(json.dumps(documents[12:20], ensure_ascii=False), encoding="utf-8")
    questions = read_c3_json(folder / "dev.json")
    assert all(len(q.choices) == 4 for q in questions) and all(q.label is not None for q in questions)
    vocab = SHARED_DATA / "uer" / "vocab" / "google_zh_vocab.txt"
    out = train("uer_c3", folder, vocab, tmp_path / "ckpt", "--seq-length", "64", "--batch-size", "4",
                "--max-update", "3", tokenizer="bert")
    (valid,) = json_logs(out.stdout + out.stderr, "valid")
    assert {"valid_accuracy", "valid_f1_3"} <= set(valid)

    test = tmp_path / "test.json"
    for document in documents[12:20]:
        for question in document[1]:
            question.pop("answer")
    test.write_text(json.dumps(documents[12:20], ensure_ascii=False), encoding="utf-8")
    prediction = tmp_path / "prediction.jsonl"
    load_script("uer_infer_c3").main(["--load-model-path", str(tmp_path / "ckpt" / "checkpoint_last.pt"),
                                      "--test-path", str(test), "--prediction-path", str(prediction),
                                      "--output-prob", "--cpu"])
    records = [json.loads(line) for line in prediction.read_text(encoding="utf-8").splitlines()]
    assert len(records) == len(questions) and records[0]["id"] == f"{documents[12][2]}-0"
    assert all(0 <= r["label"] < 4 and abs(sum(r["prob"]) - 1) < 1e-4 for r in records)


def test_c3_bad_input(tmp_path):
    path = tmp_path / "dev.json"
    path.write_text(json.dumps([[["passage"], [{"question": "q", "choice": ["a", "b"], "answer": "c"}], "d1"]]))
    with pytest.raises(InputError, match="answer 'c' is not one of the choices"):
        read_c3_json(path)
    path.write_text(json.dumps([[["passage"], [{"question": "q", "choice": ["a"] * 5, "answer": "a"}], "d1"]]))
    with pytest.raises(InputError, match="5 choices"):
        read_c3_json(path)
    (question,) = read_c3_json(path, max_choices_num=5)
    path.write_text(json.dumps([[["p"], [{"question": "q", "choice": ["a", "b"], "answer": "B"}], "d1"]]))
    (question,) = read_c3_json(path)
    assert question.choices == ["a", "b", "no answer", "no answer"] and question.label == 1
