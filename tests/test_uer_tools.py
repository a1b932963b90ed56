"""UER-py's tool scripts on tiny checkpoints: vocabulary building and diffing, model check, cloze test,
embeddings and features, nearest neighbours, the vocabulary adapter, and text generation.

The checkpoints are built in-process (fairseq config from the real argument parser, weights trained a
few hundred tiny steps to memorise two sentences) and written as fairseq checkpoints, so the tools load
them exactly as they load ``fairseq-train`` output.
"""
import numpy as np
import pytest
import torch

from cli_utils import load_script, write_lines
from fairseq_plugins.conversion.fairseq_checkpoint import build_cfg, save_checkpoint
from fairseq_plugins.data.vocab_dictionary import VocabDictionary
from fairseq_plugins.errors import InputError
from fairseq_plugins.generation import SamplingConfig, filter_logits, next_token
from fairseq_plugins.tool_model import build_model, load_tool_model, run_cli

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = [f"w{i}" for i in range(24)]
SENTENCES = [["w1", "w2", "w3", "w4", "w5", "w6"], ["w10", "w11", "w12", "w13", "w14"]]
UER_TINY = ["--emb-size", "32", "--hidden-size", "32", "--feedforward-size", "64", "--heads-num", "2",
            "--layers-num", "1", "--dropout", "0", "--max-seq-length", "32"]

tools = {name: load_script(name) for name in (
    "build_vocab", "diff_vocab", "check_model", "cloze_test", "extract_features", "extract_embeddings",
    "topn_words_indep", "topn_words_dep", "dynamic_vocab_adapter", "generate_lm")}


def make_checkpoint(folder, arch, criterion, flags, task="uer_pretrain", train=None, steps=0):
    """Build the model ``flags`` describe over the test vocabulary, optionally train it, save it."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = write_lines(folder / "vocab.txt", SPECIALS + WORDS)
    cfg = build_cfg(folder, task, arch, criterion, {}, flags)
    dictionary = VocabDictionary(SPECIALS + WORDS)
    torch.manual_seed(0)
    model = build_model(cfg, dictionary)
    if train is not None:
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
        for step in range(steps):
            optimizer.zero_grad()
            train(model, dictionary, step).backward()
            optimizer.step()
    path = folder / "checkpoint.pt"
    save_checkpoint(str(path), cfg, model.eval())
    return path, vocab


def ids(dictionary, words):
    return [dictionary.bos(), *(dictionary.index(w) for w in words), dictionary.eos()]


def mlm_step(model, dictionary, step):
    """Both sentences, a different token of each masked every step (UER segments: 1)."""
    rows = [ids(dictionary, s) for s in SENTENCES]
    width = max(map(len, rows))
    tokens = torch.tensor([r + [dictionary.pad()] * (width - len(r)) for r in rows])
    masked = torch.zeros_like(tokens, dtype=torch.bool)
    for i, r in enumerate(rows):
        masked[i, 1 + (step + i) % (len(r) - 2)] = True
    inputs = tokens.masked_fill(masked, dictionary.mask())
    logits = model(inputs, segment_labels=tokens.ne(dictionary.pad()).long(), masked_tokens=masked)["mlm"]
    return torch.nn.functional.cross_entropy(logits, tokens[masked])


def lm_step(model, dictionary, step):
    rows = [ids(dictionary, s) for s in SENTENCES]
    width = max(map(len, rows))
    tokens = torch.tensor([r + [dictionary.pad()] * (width - len(r)) for r in rows])
    logits = model(tokens[:, :-1])["lm"]
    return torch.nn.functional.cross_entropy(logits.transpose(1, 2), tokens[:, 1:], ignore_index=dictionary.pad())


@pytest.fixture(scope="module")
def mlm(tmp_path_factory):
    return make_checkpoint(tmp_path_factory.mktemp("mlm"), "uer_bert_tiny", "uer_mlm",
                           ["--target", "mlm", *UER_TINY], train=mlm_step, steps=150)


@pytest.fixture(scope="module")
def gpt(tmp_path_factory):
    return make_checkpoint(tmp_path_factory.mktemp("gpt"), "uer_gpt2_distil", "uer_lm",
                           [*UER_TINY, "--tie-weights"], train=lm_step, steps=120)


@pytest.fixture(scope="module")
def bert_plugin(tmp_path_factory):
    return make_checkpoint(tmp_path_factory.mktemp("bert"), "bert_plugin_tiny", "masked_lm",
                           ["--encoder-layers", "1", "--encoder-embed-dim", "16", "--encoder-ffn-embed-dim", "32",
                            "--encoder-attention-heads", "2", "--max-positions", "32"], task="vocab_masked_lm")


def model_args(checkpoint):
    path, vocab = checkpoint
    return ["--load-model-path", str(path), "--vocab-path", str(vocab), "--tokenizer", "space", "--cpu"]


# ---------------------------------------------------------------------- vocabularies

def test_build_vocab_counts_orders_and_is_the_same_with_several_processes(tmp_path):
    corpus = write_lines(tmp_path / "corpus.txt", ["b a b", "c b", "", "a d"] * 30 + ["e"])
    out = tmp_path / "v1.txt"
    tokens = tools["build_vocab"].main(["--corpus-path", str(corpus), "--vocab-path", str(out),
                                        "--tokenizer", "space", "--min-count", "2"])
    # b: 90, a: 60, then c and d with 30 each in order of first appearance; e (1) is under --min-count.
    assert tokens == SPECIALS + ["b", "a", "c", "d"]
    assert out.read_text(encoding="utf-8").split("\n")[:-1] == tokens
    out2 = tmp_path / "v2.txt"
    tools["build_vocab"].main(["--corpus-path", str(corpus), "--vocab-path", str(out2), "--tokenizer", "space",
                               "--min-count", "2", "--workers-num", "2"])
    assert out2.read_bytes() == out.read_bytes()

    chinese = write_lines(tmp_path / "zh.txt", ["我爱北京。", "Hello, World!"])
    bert = tools["build_vocab"].main(["--corpus-path", str(chinese), "--vocab-path", str(tmp_path / "v3.txt"),
                                      "--tokenizer", "bert", "--lowercase", "--reserved"])
    assert set(bert) == {"我", "爱", "北", "京", "。", "hello", ",", "world", "!"}
    char = tools["build_vocab"].main(["--corpus-path", str(chinese), "--vocab-path", str(tmp_path / "v4.txt"),
                                      "--tokenizer", "char", "--reserved", "--max-size", "3"])
    assert char == ["l", "o", "我"]  # l: 3, o: 2, then the first of the characters seen once


def test_build_vocab_reports_a_bad_line(tmp_path):
    corpus = tmp_path / "bad.txt"
    corpus.write_bytes(b"ok line\n\xff\xfe broken\n")
    with pytest.raises(InputError, match=r"bad.txt:2: not UTF-8"):
        tools["build_vocab"].main(["--corpus-path", str(corpus), "--vocab-path", str(tmp_path / "v.txt")])


def test_diff_vocab_counts(tmp_path, capsys):
    a = write_lines(tmp_path / "a.txt", ["[PAD]", "x", "y", "z"])
    b = tmp_path / "b_dict.txt"
    b.write_text("y 5\nz 3\nq 1\n", encoding="utf-8")  # fairseq dict.txt format
    result = tools["diff_vocab"].main(["--vocab-1", str(a), "--vocab-2", str(b), "--output-dir", str(tmp_path / "d")])
    assert result == {"size_1": 4, "size_2": 3, "only_1": 2, "only_2": 1, "both": 2}
    assert (tmp_path / "d" / "only_1.txt").read_text().split() == ["[PAD]", "x"]
    assert (tmp_path / "d" / "both.txt").read_text().split() == ["y", "z"]
    assert "| vocab_2 - vocab_1 |  | 1 |" in capsys.readouterr().out


# ---------------------------------------------------------------------- model check and cloze test

def test_check_model_lists_every_tensor_and_counts_parameters(mlm, bert_plugin, capsys):
    assert tools["check_model"].main(model_args(mlm)[:4])
    out = capsys.readouterr().out
    tool = load_tool_model(mlm[0], vocab=mlm[1])
    total = sum(p.numel() for p in tool.model.parameters())
    assert f"parameters: {total:,}" in out
    assert "| mlm_head.bias | 29 | float32 | 29 |" in out
    assert "tied to body.embeddings.embed_tokens.weight" in out  # the encoder core holds the same module
    assert "OK" in out.splitlines()[-1]
    assert tools["check_model"].main(model_args(bert_plugin)[:4] + ["--quiet"])
    assert "bert_plugin (1 layers, hidden 16)" in capsys.readouterr().out


def test_check_model_flags_nan_weights(mlm, tmp_path, capsys):
    state = torch.load(mlm[0], weights_only=False)
    state["model"]["mlm_head.dense.weight"][0, 0] = float("nan")
    bad = tmp_path / "bad.pt"
    torch.save(state, bad)
    assert not tools["check_model"].main(["--load-model-path", str(bad), "--vocab-path", str(mlm[1]), "--quiet"])
    out = capsys.readouterr().out
    assert "non-finite tensors: mlm_head.dense.weight" in out and "PROBLEMS FOUND" in out


def test_cloze_test_predicts_the_memorised_token(mlm, tmp_path):
    inputs = write_lines(tmp_path / "cloze.txt", ["w1 w2 [MASK] w4 w5 w6", "w10 [MASK] w12 w13 [MASK]",
                                                  "w1 w2 w3 w4 w5 w6", ""])
    out = tmp_path / "cloze_out.txt"
    done = tools["cloze_test"].main(model_args(mlm) + ["--input-path", str(inputs), "--output-path", str(out),
                                                       "--topn", "3", "--batch-size", "2"])
    blocks = out.read_text(encoding="utf-8").split("\n\n")
    assert blocks[0].splitlines() == ["[CLS] w1 w2 [MASK] w4 w5 w6 [SEP]", blocks[0].splitlines()[1]]
    first = [line.split()[2] for line in blocks[0].splitlines()[1:]]
    assert first == ["w3"]
    second = [line.split()[2] for line in blocks[1].splitlines() if line.startswith("Predicted")]
    assert second == ["w11", "w14"]
    # A line without [MASK] gets one token masked at random, and the true token is given.
    third = blocks[2].splitlines()
    assert third[-1].startswith("Correct answer: ") and third[1].split()[2] == third[-1].split()[-1]
    assert done == 4


def test_cloze_test_needs_a_masked_lm(gpt, tmp_path):
    inputs = write_lines(tmp_path / "cloze.txt", ["w1 [MASK]"])
    with pytest.raises(InputError, match="no masked-LM head"):
        tools["cloze_test"].main(model_args(gpt) + ["--input-path", str(inputs), "--output-path",
                                                    str(tmp_path / "o.txt")])


# ---------------------------------------------------------------------- embeddings and features

def test_extract_embeddings_writes_the_table_with_its_vocabulary(mlm, tmp_path):
    out = tmp_path / "emb.txt"
    table = tools["extract_embeddings"].main(model_args(mlm)[:4] + ["--word-embedding-path", str(out)])
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == f"{len(SPECIALS) + len(WORDS)} 32"
    assert [line.split()[0] for line in lines[1:]] == SPECIALS + WORDS
    row = torch.tensor([float(x) for x in lines[1 + 7].split()[1:]])
    assert torch.allclose(row, table[7], atol=1e-5)
    state = torch.load(mlm[0], weights_only=False)
    assert torch.equal(table, state["model"]["body.embeddings.embed_tokens.weight"])
    tools["extract_embeddings"].main(model_args(mlm)[:4] + ["--word-embedding-path", str(tmp_path / "emb.npy")])
    assert np.array_equal(np.load(tmp_path / "emb.npy"), table.numpy())
    assert (tmp_path / "emb.npy.vocab.txt").read_text().split() == SPECIALS + WORDS


@pytest.mark.parametrize("pooling", ["first", "mean", "max", "last"])
def test_extract_features_pools_real_tokens_only(mlm, tmp_path, pooling):
    lines = ["w1 w2 w3", "w10 w11 w12 w13 w14 w15 w16", "", "w5"]
    inputs = write_lines(tmp_path / "in.txt", lines)
    args = model_args(mlm) + ["--input-path", str(inputs), "--pooling", pooling]
    batched = tools["extract_features"].main(args + ["--output-path", str(tmp_path / "f.pt"), "--batch-size", "4"])
    alone = tools["extract_features"].main(args + ["--output-path", str(tmp_path / "f.npy"), "--batch-size", "1"])
    assert batched.shape == (4, 32)
    assert torch.allclose(batched, alone, atol=1e-5)  # padding in a batch changes nothing
    assert torch.equal(torch.load(tmp_path / "f.pt"), batched)
    # By hand for the first line: [CLS] w1 w2 w3 [SEP].
    tool = load_tool_model(mlm[0], vocab=mlm[1], tokenizer="space", device="cpu")
    tokens, segments = tool.collate(tool.encode(lines[:1], 16)[0])
    states = tool.hidden_states(tokens, segments)[0]
    expected = {"first": states[0], "mean": states.mean(0), "max": states.max(0).values, "last": states[-1]}[pooling]
    assert torch.allclose(batched[0], expected, atol=1e-5)


def test_extract_features_of_a_bert_plugin_model_as_text(bert_plugin, tmp_path):
    inputs = write_lines(tmp_path / "in.txt", ["w1 w2", "w3"])
    features = tools["extract_features"].main(model_args(bert_plugin) + [
        "--input-path", str(inputs), "--output-path", str(tmp_path / "f.txt"), "--pooling", "mean"])
    rows = [[float(x) for x in line.split()] for line in (tmp_path / "f.txt").read_text().splitlines()]
    assert torch.allclose(torch.tensor(rows), features, atol=1e-4) and features.shape == (2, 16)


# ---------------------------------------------------------------------- nearest neighbours

@pytest.fixture(scope="module")
def twin(mlm, tmp_path_factory):
    """The memorised model with w7's embedding row made an exact copy of w3's: w7 is then w3's nearest
    neighbour in every sense (similarity 1 alone and in any context)."""
    state = torch.load(mlm[0], weights_only=False)
    table = state["model"]["body.embeddings.embed_tokens.weight"]
    table[len(SPECIALS) + 7] = table[len(SPECIALS) + 3]
    path = tmp_path_factory.mktemp("twin") / "checkpoint.pt"
    torch.save(state, path)
    return path, mlm[1]


def test_topn_words_indep(twin, tmp_path):
    words = write_lines(tmp_path / "words.txt", ["w3", "unknownword", "w10 ignored fields"])
    out = tmp_path / "out.txt"
    results = tools["topn_words_indep"].main(model_args(twin)[:4] + ["--target-words-path", str(words),
                                                                     "--topn", "5", "--output-path", str(out)])
    assert results["w3"][0][0] == "w7" and results["w3"][0][1] == pytest.approx(1.0, abs=1e-5)
    assert all(word != "w3" for word, _ in results["w3"]) and len(results["w3"]) == 5
    assert "w10" in results and "(not in the vocabulary)" in out.read_text()
    sims = [s for _, s in results["w10"]]
    assert sims == sorted(sims, reverse=True)
    # Candidates restricted to a list; words outside the model's vocabulary are left out and counted.
    cand = write_lines(tmp_path / "cand.txt", ["w4", "w5", "notthere"])
    restricted = tools["topn_words_indep"].main(model_args(twin)[:4] + [
        "--target-words-path", str(words), "--cand-vocab-path", str(cand), "--output-path", str(out)])
    assert {w for w, _ in restricted["w3"]} == {"w4", "w5"}


def test_topn_words_dep(twin, tmp_path):
    sentences = write_lines(tmp_path / "sent.tsv", ["w1 w2 w3 w4\tw3", "w5 w6\tw9"])
    out = tmp_path / "out.txt"
    results = tools["topn_words_dep"].main(model_args(twin) + ["--sent-path", str(sentences), "--topn", "4",
                                                               "--batch-size", "7", "--output-path", str(out)])
    assert results[0][0][0] == "w7" and results[0][0][1] == pytest.approx(1.0, abs=1e-5)
    assert all(word != "w3" for word, _ in results[0])
    assert results[1] is None and "not a token of the sentence" in out.read_text()
    bad = write_lines(tmp_path / "bad.tsv", ["w1 w2\tw1", "no word column here"])
    with pytest.raises(InputError, match=r"bad.tsv:2: columns: expected 'sentence<TAB>word'"):
        tools["topn_words_dep"].main(model_args(twin) + ["--sent-path", str(bad)])


# ---------------------------------------------------------------------- vocabulary adapter

def test_dynamic_vocab_adapter_keeps_shared_rows_and_logits(mlm, tmp_path):
    new_words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "w12", "new1", "w1", "w2", "w3", "w6", "new2",
                 "w5", "w4"]
    new_vocab = write_lines(tmp_path / "task_vocab.txt", new_words)
    out = tmp_path / "adapted" / "model.pt"
    tools["dynamic_vocab_adapter"].main(["--old-model-path", str(mlm[0]), "--old-vocab-path", str(mlm[1]),
                                         "--new-vocab-path", str(new_vocab), "--new-model-path", str(out)])
    old = load_tool_model(mlm[0], vocab=mlm[1], tokenizer="space", device="cpu")
    new = load_tool_model(out, tokenizer="space", device="cpu")  # finds adapted/dict.txt
    assert new.dictionary.symbols == new_words and new.vocab_path == str(tmp_path / "adapted" / "dict.txt")
    shared = [w for w in new_words if w in old.dictionary.indices]
    old_ids = [old.dictionary.index(w) for w in shared]
    new_ids = [new.dictionary.index(w) for w in shared]
    old_state, new_state = old.model.state_dict(), new.model.state_dict()
    for name in ("body.embeddings.embed_tokens.weight", "mlm_head.weight", "mlm_head.bias"):
        assert new_state[name].size(0) == len(new_words)
        assert torch.equal(new_state[name][new_ids], old_state[name][old_ids])
    assert torch.equal(new_state["mlm_head.dense.weight"], old_state["mlm_head.dense.weight"])
    # A sentence of shared tokens: the same states, and the same logits for every shared token.
    text = ["w1 w2 [MASK] w4 w5 w6"]
    old_seq, new_seq = old.encode_masked(text, 16)[0], new.encode_masked(text, 16)[0]
    old_logits = old.mlm_logits(old.hidden_states(*old.collate(old_seq)))
    new_logits = new.mlm_logits(new.hidden_states(*new.collate(new_seq)))
    assert torch.allclose(old_logits[..., old_ids], new_logits[..., new_ids], atol=1e-5)
    # It is the memorised sentence: the adapted model still predicts the token.
    assert new.dictionary[int(new_logits[0, 3].argmax())] == "w3"


def test_adapter_refuses_to_overwrite_another_vocabulary(mlm, tmp_path):
    other = write_lines(tmp_path / "dict.txt", ["[PAD]", "[UNK]", "x"])
    new_vocab = write_lines(tmp_path / "v" / "task_vocab.txt", SPECIALS + ["w1"])
    with pytest.raises(InputError, match="holds another vocabulary"):
        tools["dynamic_vocab_adapter"].main(["--old-model-path", str(mlm[0]), "--old-vocab-path", str(mlm[1]),
                                             "--new-vocab-path", str(new_vocab),
                                             "--new-model-path", str(other.parent / "m.pt")])


# ---------------------------------------------------------------------- generation

def test_filter_logits_by_hand():
    logits = torch.log(torch.tensor([0.5, 0.05, 0.3, 0.15]))
    assert torch.isinf(filter_logits(logits, top_k=2)).tolist() == [False, True, False, True]
    # Nucleus 0.7: 0.5 alone is below it, 0.5 + 0.3 crosses it -> keep those two.
    assert torch.isinf(filter_logits(logits, top_p=0.7)).tolist() == [False, True, False, True]
    assert torch.isinf(filter_logits(logits, top_p=0.85)).tolist() == [False, True, False, False]
    assert not torch.isinf(filter_logits(logits, top_k=0, top_p=0.0)).any()
    generator = torch.Generator().manual_seed(0)
    draws = {next_token(logits, SamplingConfig(top_k=2), generator) for _ in range(200)}
    assert draws == {0, 2}


def generate(checkpoint, tmp_path, name, *flags):
    out = tmp_path / f"{name}.txt"
    prompts = write_lines(tmp_path / "prompts.txt", ["w1 w2", "w10", "w20 w21"])
    return tools["generate_lm"].main(model_args(checkpoint) + ["--test-path", str(prompts), "--prediction-path",
                                                               str(out), "--seq-length", "12", *flags]), out


def test_generation_greedy_continues_the_memorised_sentence(gpt, tmp_path):
    outputs, out = generate(gpt, tmp_path, "greedy", "--greedy")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "w1 w2 w3 w4 w5 w6" and lines[1] == "w10 w11 w12 w13 w14"  # stopped at [SEP]
    assert len(outputs[2]) <= 12 and outputs[2][:3] == [2, len(SPECIALS) + 20, len(SPECIALS) + 21]
    again, _ = generate(gpt, tmp_path, "greedy2", "--greedy", "--seed", "99")
    assert again == outputs
    top1, _ = generate(gpt, tmp_path, "top1", "--top-k", "1", "--temperature", "3")
    assert top1 == outputs


def test_generation_is_reproducible_with_a_seed(gpt, tmp_path):
    flags = ("--top-k", "0", "--top-p", "0.99", "--temperature", "5", "--no-stop-at-eos")
    first, _ = generate(gpt, tmp_path, "a", *flags, "--seed", "3")
    second, _ = generate(gpt, tmp_path, "b", *flags, "--seed", "3")
    other, _ = generate(gpt, tmp_path, "c", *flags, "--seed", "4")
    assert first == second
    assert all(len(seq) == 12 for seq in first)
    assert other != first  # temperature 5 flattens the distribution: another seed draws other tokens


def test_generation_bad_input(gpt, mlm, tmp_path):
    with pytest.raises(InputError, match="--temperature: must be > 0"):
        generate(gpt, tmp_path, "x", "--temperature", "0")
    with pytest.raises(InputError, match="--top-p: must be in"):
        generate(gpt, tmp_path, "x", "--top-p", "1.5")
    with pytest.raises(InputError, match="generation needs a left-to-right language model"):
        generate(mlm, tmp_path, "x")


# ---------------------------------------------------------------------- loading

def test_loading_refuses_a_vocabulary_of_another_size(mlm, tmp_path):
    small = write_lines(tmp_path / "small.txt", SPECIALS + WORDS[:5])
    with pytest.raises(InputError, match=r"small.txt: 10 entries .* 29 rows"):
        load_tool_model(mlm[0], vocab=small)
    with pytest.raises(InputError, match="checkpoint not found"):
        load_tool_model(tmp_path / "missing.pt")
    # A --seq-length beyond the model's positions is lowered to them (with a warning), not an index error.
    seqs, cut = load_tool_model(mlm[0], vocab=mlm[1], tokenizer="space").encode([" ".join(WORDS * 2)], 64)
    assert len(seqs[0]) == 32 and cut == 1
    # Without --vocab-path and with no dict.txt anywhere, the error says what was looked for.
    state = torch.load(mlm[0], weights_only=False)
    state["cfg"]["task"]["data"] = str(tmp_path / "gone")
    lonely = tmp_path / "lonely" / "c.pt"
    lonely.parent.mkdir()
    torch.save(state, lonely)
    with pytest.raises(InputError, match="no vocabulary found .*give --vocab-path"):
        load_tool_model(lonely)


def test_cli_error_is_one_line(mlm, tmp_path):
    argv = model_args(mlm) + ["--input-path", str(tmp_path / "in.txt"), "--output-path", str(tmp_path / "o.pt")]
    with pytest.raises(SystemExit, match=r"^\S+: error: .*in.txt: input file not found$"):
        run_cli(tools["extract_features"].main, argv)


# ---------------------------------------------------------------------- parity with transformers

def test_extract_features_of_converted_minilm_match_transformers_mean_pooling(tmp_path):
    """The real all-MiniLM-L6-v2, converted: its sentence vectors (mean pooling) are transformers'."""
    transformers = pytest.importorskip("transformers")
    from test_conversion import minilm_dir

    from fairseq_plugins.conversion import hf_to_fairseq

    path = minilm_dir()
    hf_to_fairseq(path, str(tmp_path / "fs"))
    lines = ["The quick brown fox jumps over the lazy dog.", "Hello world!", "", "Entity linking, at scale!"]
    inputs = write_lines(tmp_path / "in.txt", lines)
    ours = tools["extract_features"].main(["--load-model-path", str(tmp_path / "fs" / "model.pt"), "--input-path",
                                           str(inputs), "--output-path", str(tmp_path / "f.pt"), "--pooling", "mean",
                                           "--cpu"])  # vocabulary and tokenizer found beside the checkpoint
    tokenizer = transformers.BertTokenizerFast.from_pretrained(path)
    model = transformers.BertModel.from_pretrained(path).eval()
    batch = tokenizer(lines, padding=True, return_tensors="pt")
    with torch.no_grad():
        states = model(**batch).last_hidden_state
    keep = batch["attention_mask"][..., None].float()
    assert (ours - (states * keep).sum(1) / keep.sum(1)).abs().max() <= 1e-4


def test_greedy_generation_matches_transformers_on_converted_gpt2(tmp_path):
    pytest.importorskip("transformers")
    from test_uer_conversion import write_gpt2

    from fairseq_plugins.conversion import hf_to_fairseq
    from fairseq_plugins.generation import generate as generate_ids

    hf = write_gpt2(tmp_path / "hf").eval()
    hf_to_fairseq(str(tmp_path / "hf"), str(tmp_path / "fs"))
    tool = load_tool_model(tmp_path / "fs" / "model.pt", device="cpu")
    prompt = [49, 7, 3, 11]
    ours = generate_ids(lambda t: tool.next_token_logits(t, tool.segments(t)), prompt, 20,
                        SamplingConfig(greedy=True), stop_ids=(tool.dictionary.eos(),))
    with torch.no_grad():
        ref = hf.generate(torch.tensor([prompt]), do_sample=False, max_length=20, pad_token_id=49,
                          eos_token_id=49)[0].tolist()
    assert ours == ref and len(ours) > len(prompt)
