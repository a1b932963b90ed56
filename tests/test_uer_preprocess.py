"""preprocess_corpus.py -> fairseq-train --task uer_pretrain, per pipeline; config reading; bad input."""
import json

import numpy as np
import pytest
from fairseq import options
from fairseq.data import data_utils

from fairseq_plugins.data.uer_config import read_uer_config
from fairseq_plugins.errors import InputError

from cli_utils import BIN, USER_DIR, json_logs, load_script, run_cli
from uer_corpus_utils import CLUE_DIR, SPECIALS, write_corpus, write_vocab

preprocess = load_script("preprocess_corpus")
TINY = ["--layers-num", "2", "--hidden-size", "32", "--emb-size", "32", "--feedforward-size", "64",
        "--heads-num", "2", "--dropout", "0"]


def prepare(tmp_path, target, *extra, corpus_target=None):
    vocab = write_vocab(tmp_path / "vocab.txt")
    corpus = write_corpus(tmp_path / f"{target}.txt", corpus_target or target)
    dest = tmp_path / f"bin-{target}"
    meta = preprocess.main(["--corpus-path", str(corpus), "--valid-corpus-path", str(corpus), "--vocab-path",
                            str(vocab), "--tokenizer", "space", "--target", target, "--dest-dir", str(dest),
                            "--seq-length", "32", "--dup-factor", "2", *extra])
    return dest, meta


# One real CLI run per distinct data pipeline.
PIPELINES = [
    ("bert", "uer_bert_tiny", [], []),                                              # static masking + NSP
    ("albert", "uer_albert_base", ["--dynamic-masking", "--whole-word-masking", "--segmenter", "tokenizer"],
     ["--whole-word-masking"]),                                                      # dynamic WWM + SOP
    ("mlm", "uer_bert_tiny", ["--dynamic-masking", "--full-sentences"], ["--target", "mlm", "--span-masking"]),
    ("lm", "uer_lstm", [], []),
    ("bilm", "uer_bilstm", [], ["--lr", "1e-2"]),
    ("cls", "uer_gatedcnn_9", [], ["--target", "cls", "--kernel-size", "2"]),
]


@pytest.mark.parametrize("target,arch,prep_flags,train_flags", PIPELINES, ids=[p[0] for p in PIPELINES])
def test_fairseq_train_cli_smoke(tmp_path, target, arch, prep_flags, train_flags):
    dest, meta = prepare(tmp_path, target, *prep_flags)
    assert meta["splits"]["train"]["instances"] > 10
    proc = run_cli([BIN / "fairseq-train", dest, "--user-dir", USER_DIR, "--cpu", "--task", "uer_pretrain",
                    "--arch", arch, "--criterion", f"uer_{target}", *TINY,
                    "--batch-size", "8", "--max-update", "30", "--optimizer", "adam", "--lr", "3e-3",
                    "--lr-scheduler", "fixed", "--seed", "1", "--num-workers", "0", "--save-dir", tmp_path / "ckpt",
                    "--no-save", "--log-format", "json", "--log-interval", "1", "--no-progress-bar", *train_flags],
                   timeout=180)
    logs = json_logs(proc.stdout + proc.stderr, "train_inner")
    assert len(logs) == 30
    # Each update sees other batches (and fresh masks): compare five-update averages. From BERT/UER's
    # N(0, 0.02) start the first loss is near log(vocabulary), so a few updates do not show a fall.
    losses = [float(r["loss"]) for r in logs]
    assert sum(losses[-5:]) < sum(losses[:5]), losses
    assert json_logs(proc.stdout + proc.stderr, "valid")


def test_criterion_must_match_target_and_data_must_match(tmp_path):
    dest, _ = prepare(tmp_path, "lm")
    base = [BIN / "fairseq-train", dest, "--user-dir", USER_DIR, "--cpu", "--task", "uer_pretrain", *TINY,
            "--max-update", "1", "--batch-size", "4", "--optimizer", "adam", "--lr", "1e-3", "--no-save"]
    with pytest.raises(RuntimeError, match="built for target 'lm'.*preprocess_corpus.py --target mlm"):
        run_cli([*base, "--arch", "uer_bert_tiny", "--target", "mlm", "--criterion", "uer_mlm"])
    with pytest.raises(RuntimeError, match="use --criterion uer_lm"):
        run_cli([*base, "--arch", "uer_lstm", "--criterion", "uer_mlm"])
    with pytest.raises(RuntimeError, match="encoder gpt cannot train target bilm.*Valid encoder"):
        run_cli([*base, "--arch", "uer_gpt2_base", "--target", "bilm", "--criterion", "uer_bilm"])


def test_one_and_two_processes_write_the_same_instances(tmp_path):
    vocab, corpus = write_vocab(tmp_path / "v.txt"), write_corpus(tmp_path / "c.txt", "bert", n_docs=120)
    outputs = []
    for n in (1, 2):
        dest = tmp_path / f"p{n}"
        preprocess.main(["--corpus-path", str(corpus), "--vocab-path", str(vocab), "--tokenizer", "space",
                         "--dest-dir", str(dest), "--processes-num", str(n), "--docs-buffer-size", "30"])
        src = data_utils.load_indexed_dataset(str(dest / "train.src"), None, "mmap")
        outputs.append([src[i].tolist() for i in range(len(src))])
    assert outputs[0] == outputs[1] and len(outputs[0]) > 100


@pytest.mark.skipif(not (CLUE_DIR / "corpora").is_dir(), reason="CLUE corpus sample not present")
def test_clue_corpus_whole_word_masking_with_jieba(tmp_path):
    dest = tmp_path / "clue"
    text = (CLUE_DIR / "corpora" / "CLUECorpusSmall_bert_sampled.txt").read_text(encoding="utf-8").split("\n")[:400]
    (tmp_path / "clue.txt").write_text("\n".join(text) + "\n", encoding="utf-8")
    meta = preprocess.main(["--corpus-path", str(tmp_path / "clue.txt"), "--vocab-path",
                            str(CLUE_DIR / "vocab" / "google_zh_vocab.txt"), "--tokenizer", "char", "--target", "bert",
                            "--dest-dir", str(dest), "--whole-word-masking", "--dup-factor", "1"])
    src = data_utils.load_indexed_dataset(str(dest / "train.src"), None, "mmap")
    tgt = data_utils.load_indexed_dataset(str(dest / "train.tgt"), None, "mmap")
    starts = data_utils.load_indexed_dataset(str(dest / "train.wordstart"), None, "mmap")
    assert meta["splits"]["train"]["instances"] == len(src) > 50
    multi_char_words = 0
    for i in range(len(src)):
        tokens, flags = src[i].numpy(), starts[i].numpy().copy()
        special = np.isin(tokens, [101, 102])
        flags[special | np.roll(special, 1)] = 1  # truncation may cut a word at a pair's edge
        chosen, word = tgt[i].numpy() != 0, np.cumsum(flags)
        assert src[i][0] == 101 and (src[i] == 102).sum() == 2  # [CLS] a [SEP] b [SEP]
        for w in np.unique(word[chosen]):
            assert chosen[word == w].all()   # jieba words masked whole
            multi_char_words += (word == w).sum() > 1
    assert multi_char_words > 20


def test_bad_input_errors(tmp_path):
    vocab = write_vocab(tmp_path / "v.txt")
    args = ["--vocab-path", str(vocab), "--tokenizer", "space", "--dest-dir", str(tmp_path / "out")]
    (tmp_path / "empty.txt").write_text("\n\n", encoding="utf-8")
    with pytest.raises(InputError, match="empty.txt: the corpus holds no documents"):
        preprocess.main(["--corpus-path", str(tmp_path / "empty.txt"), *args])
    (tmp_path / "latin1.txt").write_bytes("w1 w2\nw3 caf\xe9\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin1.txt:2: not UTF-8"):
        preprocess.main(["--corpus-path", str(tmp_path / "latin1.txt"), *args, "--target", "mlm"])
    (tmp_path / "unknown.txt").write_text("zz yy\n", encoding="utf-8")
    with pytest.raises(InputError, match="no bert instance could be built from 1 documents"):
        preprocess.main(["--corpus-path", str(tmp_path / "unknown.txt"), *args])  # one sentence: nothing to pair
    no_mask = write_vocab(tmp_path / "nomask.txt", specials=[s for s in SPECIALS if s != "[MASK]"])
    with pytest.raises(InputError, match=r"nomask.txt: the vocabulary lacks \[MASK\]"):
        preprocess.main(["--corpus-path", str(tmp_path / "unknown.txt"), *args, "--vocab-path", str(no_mask)])
    (tmp_path / "cls.txt").write_text("label\ttext_a\nyes\tw1 w2\n", encoding="utf-8")
    with pytest.raises(InputError, match="cls.txt:2: label: expected 'label<TAB>text'"):
        preprocess.main(["--corpus-path", str(tmp_path / "cls.txt"), *args, "--target", "cls"])


def test_uer_json_configs_become_options(tmp_path):
    bert = tmp_path / "bert.json"
    bert.write_text(json.dumps({"emb_size": 256, "feedforward_size": 1024, "hidden_size": 256, "hidden_act": "gelu",
                                "heads_num": 4, "layers_num": 4, "max_seq_length": 512, "dropout": 0.1,
                                "data_processor": "albert", "embedding": ["word", "pos", "seg"],
                                "encoder": "transformer", "mask": "causal", "target": ["mlm", "sp"]}))
    assert read_uer_config(bert) == {"emb_size": 256, "feedforward_size": 1024, "hidden_size": 256,
                                     "hidden_act": "gelu", "heads_num": 4, "layers_num": 4, "max_seq_length": 512,
                                     "dropout": 0.1, "embedding": "word_pos_seg", "encoder": "gpt",
                                     "target": "albert"}
    gcnn = tmp_path / "gcnn.json"
    gcnn.write_text(json.dumps({"emb_size": 128, "hidden_size": 807, "layers_num": 9, "kernel_size": 4,
                                "block_size": 2, "dropout": 0.1, "embedding": "word", "encoder": "gatedcnn",
                                "remove_embedding_layernorm": True, "target": ["lm"], "hidden_act": "gelu_fast"}))
    parser = options.get_training_parser()
    args = options.parse_args_and_arch(parser, ["data", "--user-dir", str(USER_DIR), "--task", "uer_pretrain",
                                                "--arch", "uer_bert_base", "--uer-config", str(gcnn),
                                                "--layers-num", "3"])
    # explicit flag > config > arch
    assert (args.layers_num, args.hidden_size, args.encoder, args.kernel_size, args.heads_num) == (3, 807, "gatedcnn",
                                                                                                   4, 12)
    assert args.hidden_act == "gelu_accurate" and args.remove_embedding_layernorm is True
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"hidden_size": 64, "relative_position_embedding": True}))
    with pytest.raises(InputError, match="bad.json: relative_position_embedding: unsupported option"):
        read_uer_config(bad)
    bad.write_text(json.dumps({"layers_num": "12"}))
    with pytest.raises(InputError, match="layers_num: expected a positive integer"):
        read_uer_config(bad)
