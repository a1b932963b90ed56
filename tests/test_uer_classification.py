"""UER classification: tsv reading, pair inputs, fine-tuning through fairseq-train, and the inference script."""
import random

import pytest

from cli_utils import BIN, USER_DIR, json_logs, run_cli, run_script, write_lines
from fairseq_plugins.data.uer_classification import check_labels, encode_examples, read_classification_tsv
from fairseq_plugins.errors import InputError
from fairseq_plugins.tokenization import build_tokenizer
from shared_data import SHARED_DATA

GROUPS = 3  # label = the word group a sentence is drawn from
WORDS = [f"g{g}w{i}" for g in range(GROUPS) for i in range(6)]
TINY = ("--target", "cls", "--emb-size", "32", "--hidden-size", "32", "--feedforward-size", "64",
        "--heads-num", "2", "--layers-num", "1", "--dropout", "0")


def write_vocab(path):
    return write_lines(path, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS])


def write_split(path, n, rng, pairs=False):
    header = "label\ttext_a\ttext_b" if pairs else "label\ttext_a"
    rows = []
    for _ in range(n):
        label = rng.randrange(GROUPS)
        words = [w for w in WORDS if w.startswith(f"g{label}")]
        text = " ".join(rng.choices(words, k=rng.randint(3, 8)))
        rows.append(f"{label}\t{text}" + (f"\t{' '.join(rng.choices(WORDS, k=3))}" if pairs else ""))
    return write_lines(path, [header, *rows])


@pytest.fixture
def data(tmp_path):
    rng = random.Random(0)
    folder = tmp_path / "data"
    write_split(folder / "train.tsv", 192, rng)
    write_split(folder / "dev.tsv", 48, rng)
    return folder, write_vocab(tmp_path / "vocab.txt")


def fine_tune(folder, vocab, save_dir, *extra):
    return run_cli([
        BIN / "fairseq-train", folder, "--user-dir", USER_DIR, "--cpu", "--task", "uer_classification",
        "--vocab", vocab, "--tokenizer-kind", "space", "--seq-length", "16",
        "--arch", "uer_bert_tiny", *TINY, "--criterion", "uer_classification",
        "--batch-size", "16", "--max-epoch", "4", "--optimizer", "adam", "--lr", "2e-3",
        "--lr-scheduler", "fixed", "--seed", "1", "--num-workers", "0", "--save-dir", save_dir,
        "--no-epoch-checkpoints", "--log-format", "json", "--log-interval", "1", "--no-progress-bar", *extra,
    ], timeout=180)


def test_fine_tuning_learns_and_infer_writes_one_prediction_per_line(data, tmp_path):
    folder, vocab = data
    out = fine_tune(folder, vocab, tmp_path / "ckpt", "--pooling", "mean")
    valid = json_logs(out.stdout + out.stderr, "valid")
    assert len(valid) == 4
    assert float(valid[-1]["valid_accuracy"]) >= 0.9  # chance is 1/3
    assert {"valid_f1_0", "valid_p_2", "valid_r_1", "valid_macro_f1"} <= set(valid[-1])
    assert float(valid[-1]["valid_macro_f1"]) >= 0.85

    assert float(valid[0]["valid_accuracy"]) < float(valid[-1]["valid_accuracy"])

    # Inference on a file without labels, as run_classifier_infer.py; the label count is in the checkpoint.
    (folder / "train.tsv").unlink()
    rng = random.Random(5)
    texts = [" ".join(rng.choices([w for w in WORDS if w.startswith(f"g{i % GROUPS}")], k=5)) for i in range(10)]
    test = write_lines(tmp_path / "test_nolabel.tsv", ["text_a", *texts])
    prediction = tmp_path / "prediction.tsv"
    run_script("uer_infer_classifier", "--load-model-path", tmp_path / "ckpt" / "checkpoint_best.pt",
               "--test-path", test, "--prediction-path", prediction, "--output-logits", "--output-prob", "--cpu")
    lines = prediction.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "label\tlogits\tprob"
    assert len(lines) == 1 + len(texts)
    rows = [line.split("\t") for line in lines[1:]]
    assert all(len(r[1].split()) == GROUPS and len(r[2].split()) == GROUPS for r in rows)
    assert all(abs(sum(map(float, r[2].split())) - 1) < 1e-4 for r in rows)
    correct = sum(int(r[0]) == i % GROUPS for i, r in enumerate(rows))
    assert correct >= 9


def test_pairs_get_uer_segment_ids_and_truncate(tmp_path):
    tokenizer = build_tokenizer("space", write_vocab(tmp_path / "vocab.txt"))
    path = write_lines(tmp_path / "pairs.tsv", ["text_b\tlabel\ttext_a", "g1w0 g1w1\t1\tg0w0 g0w1 g0w2"])
    rows = read_classification_tsv(path)
    assert (rows[0].label, rows[0].text_a, rows[0].text_b) == (1, "g0w0 g0w1 g0w2", "g1w0 g1w1")
    d = tokenizer.dictionary
    (example,) = encode_examples(rows, tokenizer, seq_length=64, name="pairs")
    a, b = [d.index(w) for w in ("g0w0", "g0w1", "g0w2")], [d.index(w) for w in ("g1w0", "g1w1")]
    assert example.tokens == [d.index("[CLS]"), *a, d.index("[SEP]"), *b, d.index("[SEP]")]
    assert example.segments == [1, 1, 1, 1, 1, 2, 2, 2]
    (cut,) = encode_examples(rows, tokenizer, seq_length=6, name="pairs")
    assert cut.tokens == example.tokens[:6] and cut.segments == [1, 1, 1, 1, 1, 2]


def test_pair_fine_tuning_runs(tmp_path):
    rng = random.Random(1)
    folder = tmp_path / "data"
    write_split(folder / "train.tsv", 32, rng, pairs=True)
    write_split(folder / "dev.tsv", 16, rng, pairs=True)
    out = fine_tune(folder, write_vocab(tmp_path / "vocab.txt"), tmp_path / "ckpt", "--max-epoch", "1")
    assert json_logs(out.stdout + out.stderr, "valid")


@pytest.mark.parametrize("lines, line, field, words", [
    ([], 1, None, "header"),
    (["0\tg0w0"], 1, "0", "header row"),
    (["label\ttext_a", "0\tg0w0\textra"], 2, "columns", "expected 2"),
    (["label\ttext_a", "x\tg0w0"], 2, "label", "integer"),
    (["text_a", "g0w0"], 1, "label", "no 'label'"),
    (["label\ttext_a\tlogits", "1\tg0w0\t0.5 a"], 2, "logits", "numbers"),
])
def test_bad_tsv_names_file_line_and_field(tmp_path, lines, line, field, words):
    path = tmp_path / "bad.tsv"
    path.write_text("".join(f"{x}\n" for x in lines), encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_classification_tsv(path)
    assert (err.value.path, err.value.line, err.value.field) == (str(path), line, field)
    assert words in err.value.message


def test_labels_outside_range_and_logits_count_are_refused(tmp_path):
    path = write_lines(tmp_path / "dev.tsv", ["label\ttext_a\tlogits", "1\tg0w0\t0.1 0.9", "2\tg0w1\t0 0"])
    rows = read_classification_tsv(path)
    assert rows[0].logits == [0.1, 0.9]
    with pytest.raises(InputError, match=r"dev.tsv:3: label: label 2 is outside 0..1"):
        check_labels(rows, 2, path)
    with pytest.raises(InputError, match=r"dev.tsv:2: logits: 2 logits for 3 labels"):
        check_labels(rows, 3, path)


def test_fairseq_train_refuses_a_pretraining_target(data, tmp_path):
    folder, vocab = data
    with pytest.raises(RuntimeError, match="add --target cls"):
        fine_tune(folder, vocab, tmp_path / "ckpt", "--target", "bert")


@pytest.mark.skipif(not (SHARED_DATA / "uer" / "test_data" / "book_review").is_dir(), reason="shared data absent")
def test_book_review_smoke(tmp_path):
    out = fine_tune(SHARED_DATA / "uer" / "test_data" / "book_review", SHARED_DATA / "uer" / "vocab" /
                    "google_zh_vocab.txt", tmp_path / "ckpt", "--tokenizer-kind", "bert", "--seq-length", "64",
                    "--max-update", "3", "--max-epoch", "1", "--no-save")
    (valid,) = json_logs(out.stdout + out.stderr, "valid")
    assert 0 <= float(valid["valid_accuracy"]) <= 1 and "valid_f1_1" in valid
