"""UER classification: tsv reading, pair inputs, fine-tuning through fairseq-train, and the inference script."""
import random

import pytest

from cli_utils import BIN, USER_DIR, json_logs, load_script, run_cli, run_script, write_lines
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

    assert float(valid[0]["valid_loss"]) > float(valid[-1]["valid_loss"])

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


def test_multi_task_shares_the_encoder_and_logs_each_data_set(tmp_path):
    rng = random.Random(2)
    a, b = tmp_path / "task_a", tmp_path / "task_b"
    for folder in (a, b):
        write_split(folder / "train.tsv", 96, rng)
        write_split(folder / "dev.tsv", 24, rng)
    # task_b has 2 labels: map group 2 to label 1
    for split in ("train", "dev"):
        path = b / f"{split}.tsv"
        path.write_text(path.read_text().replace("\n2\t", "\n1\t"), encoding="utf-8")
    vocab = write_vocab(tmp_path / "vocab.txt")
    out = fine_tune(f"{a}:{b}", vocab, tmp_path / "ckpt", "--pooling", "mean", "--max-epoch", "3", "--batch-size", "24")
    valid = json_logs(out.stdout + out.stderr, "valid")[-1]
    assert {"valid_task_a_accuracy", "valid_task_b_accuracy", "valid_task_a_f1_2", "valid_task_b_f1_1"} <= set(valid)
    assert "valid_task_b_f1_2" not in valid  # each data set has its own label count
    assert float(valid["valid_task_a_accuracy"]) >= 0.8 and float(valid["valid_task_b_accuracy"]) >= 0.8

    test = write_lines(tmp_path / "test.tsv", ["label\ttext_a", "0\tg0w1 g0w2 g0w3", "1\tg2w0 g2w4"])
    prediction = tmp_path / "prediction.tsv"
    infer = load_script("uer_infer_classifier")
    with pytest.raises(InputError, match="--dataset"):
        infer.main(["--load-model-path", str(tmp_path / "ckpt" / "checkpoint_best.pt"), "--test-path", str(test),
                    "--prediction-path", str(prediction), "--cpu"])
    infer.main(["--load-model-path", str(tmp_path / "ckpt" / "checkpoint_best.pt"), "--test-path", str(test),
                "--prediction-path", str(prediction), "--dataset", "task_b", "--output-prob", "--cpu"])
    rows = [line.split("\t") for line in prediction.read_text().splitlines()[1:]]
    assert [len(r[1].split()) for r in rows] == [2, 2]  # task_b's head


def test_distillation_learns_the_teacher_logits_column(data, tmp_path):
    folder, vocab = data
    lines = (folder / "train.tsv").read_text(encoding="utf-8").splitlines()
    teacher = ["label\ttext_a\tlogits"]
    for line in lines[1:]:
        label = int(line.split("\t")[0])
        teacher.append(f"{line}\t{' '.join('4' if c == label else '-2' for c in range(GROUPS))}")
    write_lines(folder / "train.tsv", teacher)
    out = fine_tune(folder, vocab, tmp_path / "ckpt", "--soft-targets", "--soft-alpha", "0.5", "--max-update", "12",
                    "--max-epoch", "1", "--lr", "1e-2", "--disable-validation", "--no-save")
    inner = json_logs(out.stdout + out.stderr, "train_inner")
    assert len(inner) == 12 and {"soft_mse", "hard_ce"} <= set(inner[0])
    mse = [float(x["soft_mse"]) for x in inner]
    assert sum(mse[-3:]) < 0.75 * sum(mse[:3])  # starts near (16 + 4 + 4) / 3 = 8


def test_soft_targets_without_a_logits_column_are_refused(data):
    folder, vocab = data
    cfg, task = _setup([folder, "--user-dir", USER_DIR, "--task", "uer_classification", "--vocab", vocab,
                        "--tokenizer-kind", "space", "--soft-targets", "--arch", "uer_bert_tiny", "--target", "cls"])
    with pytest.raises(InputError, match=r"train.tsv:1: logits: --soft-targets needs a logits column"):
        task.load_dataset("train")
    task.load_dataset("valid")  # other splits may lack it


def _setup(argv):
    from fairseq import options, tasks
    from fairseq.dataclass.utils import convert_namespace_to_omegaconf

    parser = options.get_training_parser()
    cfg = convert_namespace_to_omegaconf(options.parse_args_and_arch(parser, [str(x) for x in argv]))
    return cfg, tasks.setup_task(cfg.task)


def test_pretrained_model_path_starts_the_body_and_sets_the_architecture(data, tmp_path):
    import torch
    from omegaconf import OmegaConf
    from fairseq_plugins.conversion.fairseq_checkpoint import save_checkpoint
    from fairseq_plugins.models.uer import UerModel

    folder, vocab = data
    common = [folder, "--user-dir", USER_DIR, "--task", "uer_classification", "--vocab", vocab,
              "--tokenizer-kind", "space", "--criterion", "uer_classification", "--optimizer", "adam"]
    # a "pre-trained" 2-layer LSTM with the lm target, as UER's reviews_lstm_model
    cfg, task = _setup([*common, "--arch", "uer_lstm", "--target", "cls", "--emb-size", "16", "--hidden-size", "16"])
    pre_cfg = OmegaConf.merge(cfg.model, {"target": "lm"})
    pretrained = UerModel(pre_cfg, task.dictionary)
    save_checkpoint(str(tmp_path / "pre.pt"), OmegaConf.create({"model": pre_cfg}), pretrained)
    # fine-tuning names another arch: the checkpoint's architecture wins, dropout and pooling stay the user's
    cfg, task = _setup([*common, "--arch", "uer_bert_tiny", *TINY, "--pooling", "max", "--dropout", "0.2",
                        "--pretrained-model-path", tmp_path / "pre.pt"])
    model = task.build_model(cfg.model)
    assert (cfg.model.encoder, cfg.model.embedding, cfg.model.hidden_size) == ("lstm", "word", 16)
    assert (cfg.model.dropout, model.pooling, cfg.model.target) == (0.2, "max", "cls")
    for name, tensor in pretrained.body.state_dict().items():
        assert torch.equal(model.body.state_dict()[name], tensor), name
    # another vocabulary is refused by name
    bigger = write_lines(tmp_path / "vocab2.txt", ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, "extra"])
    cfg, task = _setup([*common[:6], bigger, *common[7:], "--arch", "uer_lstm", "--target", "cls",
                        "--pretrained-model-path", tmp_path / "pre.pt"])
    with pytest.raises(InputError, match="--pretrained-model-path: 23 embedding rows"):
        task.build_model(cfg.model)


@pytest.mark.parametrize("encoder,bidirectional", [("transformer", False), ("gpt", False), ("lstm", False),
                                                   ("gatedcnn", False), ("cnn", False), ("bilstm", False),
                                                   ("gru", True)])
def test_every_pooling_works_for_any_encoder_and_ignores_padding(tmp_path, encoder, bidirectional):
    import torch
    from fairseq_plugins.models.uer import UerModel, UerConfig

    dictionary = build_tokenizer("space", write_vocab(tmp_path / "vocab.txt")).dictionary
    short = torch.tensor([[2, 7, 8, 3]])
    batch = torch.tensor([[2, 7, 8, 3, 0, 0], [2, 7, 8, 9, 10, 3]])  # row 0 is short, padded
    for pooling in ("first", "mean", "max", "last"):
        torch.manual_seed(0)
        cfg = UerConfig(embedding="word" if encoder != "transformer" else "word_pos_seg", encoder=encoder,
                        bidirectional=bidirectional, target="cls", emb_size=16, hidden_size=16, feedforward_size=32,
                        heads_num=2, layers_num=2,
                        dropout=0.0, pooling=pooling, max_seq_length=16, remove_embedding_layernorm=True)
        model = UerModel(cfg, dictionary, labels_num=3).eval()
        alone = model(short)["cls"]
        assert alone.shape == (1, 3) and torch.isfinite(alone).all()
        assert torch.allclose(model(batch)["cls"][0], alone[0], atol=1e-5), pooling
