"""BLINK data: the Zeshel converter on real Zeshel files, the jsonl readers' validation, input building."""
import json
import random

import pytest

import blink_fixtures
from fairseq_plugins.data.blink_formats import KnowledgeBase, SkipCounts, read_mentions
from fairseq_plugins.data.blink_inputs import BlinkInputBuilder, _first_words
from fairseq_plugins.data.blink_zeshel import convert_zeshel
from fairseq_plugins.errors import InputError
from fairseq_plugins.tokenization import build_tokenizer
from shared_data import SHARED_DATA

ZESHEL_TINY = SHARED_DATA / "zeshel_tiny"


@pytest.mark.skipif(not ZESHEL_TINY.is_dir(), reason="../shared/data/zeshel_tiny not present")
def test_zeshel_tiny_converts_with_words_and_labels_intact(tmp_path):
    report = convert_zeshel(ZESHEL_TINY, tmp_path)
    assert dict(report.documents) == {"doctor_who": 6, "military": 6, "pro_wrestling": 5, "starwars": 6}
    assert dict(report.mentions) == {"train": 4, "valid": 4, "test": 4}
    assert not report.skipped
    # The sample's val/test files hold train-world mentions: kept, and reported.
    assert report.outside_split_worlds == {"valid": 4, "test": 4}
    kb = KnowledgeBase(tmp_path / "kb.jsonl")
    assert len(kb) == 23
    mentions = read_mentions(tmp_path / "train.jsonl", kb)
    first = mentions[0]
    assert (first.mention, first.world, first.label_id) == ("besieged Antioch", "military", "925ED6501F6D4BD6")
    assert first.context_left.endswith("In 1268 , Baibars") and first.context_right.startswith(", capturing the city")
    assert len(first.context_left.split(" ")) == 128  # 128 words each side, as BLINK's converter
    gold = kb.get(first.label_id)
    assert (gold.title, gold.world) == (first.label_title, "military") and gold.text == first.label


def write_zeshel(root, mention_text):
    (root / "documents").mkdir(parents=True)
    (root / "mentions").mkdir()
    docs = [{"document_id": "A", "title": "Alpha", "text": "Alpha is the first letter"},
            {"document_id": "B", "title": "Beta", "text": "Beta follows Alpha here"}]
    (root / "documents" / "letters.json").write_text("".join(json.dumps(d) + "\n" for d in docs))
    mentions = [{"mention_id": "m1", "context_document_id": "B", "label_document_id": "A", "corpus": "letters",
                 "start_index": 2, "end_index": 2, "text": mention_text},
                {"mention_id": "m2", "context_document_id": "B", "label_document_id": "missing", "corpus": "letters",
                 "start_index": 0, "end_index": 0, "text": "Beta"}]
    for name in ("train", "val", "test"):
        (root / "mentions" / f"{name}.json").write_text("".join(json.dumps(m) + "\n" for m in mentions))


def test_zeshel_span_mismatch_and_unknown_documents_are_counted(tmp_path):
    write_zeshel(tmp_path / "raw", mention_text="Gamma")
    report = convert_zeshel(tmp_path / "raw", tmp_path / "out")
    assert report.mentions["train"] == 0
    assert report.skipped == {"span text differs from the document's words": 3,
                              "context or label document not in documents/": 3}
    write_zeshel(tmp_path / "raw2", mention_text="Alpha")
    report = convert_zeshel(tmp_path / "raw2", tmp_path / "out2")
    record = json.loads((tmp_path / "out2" / "train.jsonl").read_text().splitlines()[0])
    assert (record["context_left"], record["mention"], record["context_right"]) == ("Beta follows", "Alpha", "here")


def write(path, records):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


ENTITY = {"id": "E1", "title": "One", "text": "the first", "world": "w"}


@pytest.mark.parametrize("records, line, message", [
    ([ENTITY, {**ENTITY, "title": "Again"}], 2, "duplicate id 'E1'"),
    ([ENTITY, "{not json"], 2, "not a JSON line"),
    ([{"id": "E2", "text": "x"}], 1, "title: missing"),
    ([{"id": "E2", "title": ["x"], "text": "x"}], 1, "title: expected a string"),
    ([{"id": "E2", "title": " ", "text": ""}], 1, "neither title nor text"),
])
def test_bad_kb_lines_name_file_line_and_field(tmp_path, records, line, message):
    path = write(tmp_path / "kb.jsonl", records)
    with pytest.raises(InputError, match=f"kb.jsonl:{line}: .*{message}"):
        KnowledgeBase(path)


def test_title_only_entities_are_kept_and_counted(tmp_path):
    kb = KnowledgeBase(write(tmp_path / "kb.jsonl", [ENTITY, {"id": 7, "title": "Seven", "text": ""}]))
    assert len(kb) == 2 and kb.title_only == 1 and kb.get("7").title == "Seven"
    assert [e.id for e in kb.entities([1, 0])] == ["7", "E1"]


def test_unusable_mentions_are_skipped_and_counted(tmp_path):
    kb = KnowledgeBase(write(tmp_path / "kb.jsonl", [ENTITY]))
    base = {"context_left": "a", "mention": "one", "context_right": "b", "label_id": "E1", "label_title": "One",
            "label": "the first"}
    path = write(tmp_path / "m.jsonl", [base, {**base, "label_id": "E9"}, {**base, "mention": " "}])
    counts = SkipCounts()
    assert [m.line for m in read_mentions(path, kb, counts)] == [1]
    assert counts.skipped == {"label not in the knowledge base": 1, "empty mention": 1}
    assert "1 of 3 mentions kept" in counts.report(path)
    with pytest.raises(InputError, match="m2.jsonl:1: label_id: missing"):
        read_mentions(write(tmp_path / "m2.jsonl", [{k: v for k, v in base.items() if k != "label_id"}]))
    with pytest.raises(InputError, match="candidates: expected a list"):
        read_mentions(write(tmp_path / "m3.jsonl", [{**base, "candidates": "E1"}]))


@pytest.fixture(scope="module")
def builder(tmp_path_factory):
    vocab = blink_fixtures.write_vocab(tmp_path_factory.mktemp("vocab") / "vocab.txt")
    return BlinkInputBuilder(build_tokenizer("bert", vocab), max_context_length=12, max_candidate_length=8)


def spell(builder, ids):
    return [builder.dictionary[i] for i in ids]


def test_context_is_balanced_around_the_mention(builder):
    left = " ".join(f"filler{i}" for i in range(6))
    right = " ".join(f"topic{i}a" for i in range(6))
    (ids,) = builder.contexts([left], ["name1"], [right])
    # 12 = [CLS] [SEP] two markers, the mention, and 7 context tokens: 3 left, 4 right.
    assert spell(builder, ids) == ["[CLS]", "filler3", "filler4", "filler5", "[unused0]", "name1", "[unused1]",
                                   "topic0a", "topic1a", "topic2a", "topic3a", "[SEP]"]


def test_short_side_gives_its_budget_to_the_other(builder):
    right = " ".join(f"topic{i}a" for i in range(10))
    (ids,) = builder.contexts(["filler0"], ["name1"], [right])
    assert len(ids) == 12 and spell(builder, ids)[:5] == ["[CLS]", "filler0", "[unused0]", "name1", "[unused1]"]
    (ids,) = builder.contexts([" ".join(f"filler{i}" for i in range(10))], ["name1"], [""])
    assert len(ids) == 12 and spell(builder, ids)[-3:] == ["name1", "[unused1]", "[SEP]"]


def test_long_mention_is_cut_not_an_error_and_no_left_context_when_no_quota(builder):
    mention = " ".join(f"name{i}" for i in range(20))
    (ids,) = builder.contexts(["filler0 filler1"], [mention], ["filler2"])
    tokens = spell(builder, ids)
    assert len(ids) == 12 and tokens[:2] == ["[CLS]", "[unused0]"] and tokens[-2:] == ["[unused1]", "[SEP]"]


def test_candidate_is_title_separator_description_cut_to_length(builder):
    (ids,) = builder.candidates(["name2"], ["topic2a topic2b topic2a topic2b topic2a"])
    assert spell(builder, ids) == ["[CLS]", "name2", "[unused2]", "topic2a", "topic2b", "topic2a", "topic2b", "[SEP]"]


def test_pair_has_candidate_segment_and_keeps_its_sep(builder):
    (context,) = builder.contexts(["filler0"], ["name1"], ["filler1"])
    (candidate,) = builder.candidates(["name2"], ["topic2a topic2b topic2a topic2b topic2a"])
    tokens, segments = builder.pair(context, candidate, max_length=11)
    assert spell(builder, tokens) == ["[CLS]", "filler0", "[unused0]", "name1", "[unused1]", "filler1", "[SEP]",
                                      "name2", "[unused2]", "topic2a", "[SEP]"]
    assert segments == [0] * 7 + [1] * 4


def test_marker_missing_from_vocabulary_is_an_input_error(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nword\n")
    with pytest.raises(InputError, match=r"mention start token '\[unused0\]' is not in the vocabulary"):
        BlinkInputBuilder(build_tokenizer("bert", vocab))


def test_crossencoder_examples_are_filtered_by_pair_length_not_by_k_pairs():
    """64 candidates x 256 tokens must not count as one 16k-token sequence against --max-positions."""
    import numpy as np
    import torch
    from fairseq.data import data_utils

    from fairseq_plugins.data.blink_datasets import BlinkCrossencoderDataset

    contexts = [torch.tensor([5, 6, 7])] * 2
    dataset = BlinkCrossencoderDataset(contexts, [torch.tensor([5, 8, 7])], [np.zeros(64, dtype=np.int64)] * 2,
                                       np.zeros(2, dtype=np.int64), pad=0, pair_builder=BlinkInputBuilder.pair,
                                       max_length=256)
    kept, ignored = data_utils._filter_by_size_dynamic(np.arange(2), dataset.size, 512)
    assert list(kept) == [0, 1] and not ignored
    assert dataset.num_tokens(0) == 64 * 256  # token-based batching still counts every pair


def test_candidates_tokenize_only_the_kept_words_and_equal_whole_text_tokenization(tmp_path):
    """Long descriptions: the first words give the same candidate ids as tokenizing the whole text,
    including texts whose first words vanish in normalization and texts without spaces."""
    vocab = blink_fixtures.write_vocab(tmp_path / "vocab.txt")
    builder = BlinkInputBuilder(build_tokenizer("bert", vocab), 16, 12)
    topics = [w for i in range(blink_fixtures.N_ENTITIES) for w in blink_fixtures.entity_words(i)[1]]
    rng = random.Random(0)
    texts = [" ".join(rng.choices(topics, k=rng.randint(0, 40))) for _ in range(20)]
    texts += ["\u200b " * 30 + "topic1a topic2b", "topic1a," * 50, "topic3a\n\ntopic4b . " * 20]
    titles = ["name1"] * len(texts)
    full = [[builder.cls, *([*t, builder.title_id, *d][:10]), builder.sep]
            for t, d in zip(builder._encode(titles), builder._encode(texts))]
    assert builder.candidates(titles, texts) == full
    assert _first_words("a  b\nc d", 2) == "a  b" and _first_words("a b", 5) == "a b" and _first_words("", 3) == ""
