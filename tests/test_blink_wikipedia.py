"""The Wikipedia -> zero-shot entity-linking builder: which mentions, entities and splits it writes."""
import json

import pytest

from fairseq_plugins.data.blink_formats import KnowledgeBase, read_mentions
from fairseq_plugins.data.blink_wikipedia import build_wikipedia_linking
from fairseq_plugins.data.wikipedia import split_of
from shared_data import SHARED_DATA
from test_wikipedia import write_dump

ADA = ("'''Ada Lovelace''' was a mathematician who wrote about the [[Analytical engine|Engine]] of "
       "[[Charles Babbage]].\n\nAda Lovelace met Babbage. The Analytical Engine was never built. "
       "Ada Lovelace wrote notes.")
ENGINE = ("The '''Analytical Engine''' was a machine designed by [[Charles Babbage]].\n\n"
          "Ada Lovelace wrote about it before [[Ada Lovelace|Lovelace]] died. Ada Lovelace and the "
          "Analytical Engine. [[Category:Computers]]")
PAGES = [
    ("Ada Lovelace", 0, 1, None, ADA),
    ("Analytical Engine", 0, 2, None, ENGINE),
    ("Analytical engine", 0, 3, "Analytical Engine", "#REDIRECT [[Analytical Engine]]"),
]


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def build(tmp_path, **kwargs):
    dump = write_dump(tmp_path / "dump.xml", PAGES)
    stats = build_wikipedia_linking(dump, tmp_path / "out", valid_ratio=0, test_ratio=0, min_lead_chars=20,
                                    **kwargs)
    return stats, tmp_path / "out"


def test_anchors_later_title_occurrences_and_distractors(tmp_path):
    stats, out = build(tmp_path)
    mentions = lines(out / "train.jsonl")
    found = [(m["article"], m["mention"], m["label_id"], m["source"]) for m in mentions]
    assert found == [
        ("Ada Lovelace", "Engine", "Analytical Engine", "anchor"),  # redirect resolved
        # own article after its lead; another entity only after this article's first link to it
        ("Ada Lovelace", "Ada Lovelace", "Ada Lovelace", "title"),
        ("Ada Lovelace", "Analytical Engine", "Analytical Engine", "title"),
        ("Ada Lovelace", "Ada Lovelace", "Ada Lovelace", "title"),
        ("Analytical Engine", "Lovelace", "Ada Lovelace", "anchor"),
        ("Analytical Engine", "Ada Lovelace", "Ada Lovelace", "title"),  # the one before the link is not
        ("Analytical Engine", "Analytical Engine", "Analytical Engine", "title"),
    ]
    first = mentions[1]
    assert first["context_left"].endswith("of Charles Babbage.") and first["context_right"].startswith("met Babbage.")
    assert first["label"] == "Ada Lovelace was a mathematician who wrote about the Engine of Charles Babbage."
    kb = lines(out / "kb.jsonl")
    assert [(e["id"], bool(e["text"])) for e in kb] == [
        ("Ada Lovelace", True), ("Analytical Engine", True), ("Charles Babbage", False)]
    assert (stats.described, stats.distractors) == (2, 1)
    assert stats.skipped["links into other namespaces"] == 0  # the category is markup, not a link
    assert read_mentions(out / "train.jsonl", KnowledgeBase(out / "kb.jsonl"))  # readable by the BLINK tasks
    assert lines(out / "valid.jsonl") == lines(out / "test.jsonl") == []


def test_title_mentions_are_capped_per_article_and_counted(tmp_path):
    stats, out = build(tmp_path, max_title_mentions=1)
    assert sum(m["source"] == "title" for m in lines(out / "train.jsonl")) == 4
    assert stats.skipped["title occurrences beyond the per-article cap"] == 1


def test_real_sample_holds_out_evaluation_entities_and_articles(tmp_path):
    dump = SHARED_DATA / "wiki" / "enwiki-sample.xml.bz2"
    if not dump.exists():
        pytest.skip("../shared/data is absent")
    stats = build_wikipedia_linking(dump, tmp_path)
    entities = {}
    for split in ("train", "valid", "test"):
        mentions = lines(tmp_path / f"{split}.jsonl")
        assert mentions, split
        for m in mentions:
            assert split_of(m["label_id"], 0.15, 0.2) == split_of(m["article"], 0.15, 0.2) == split
        entities[split] = {m["label_id"] for m in mentions}
    assert not (entities["train"] & (entities["valid"] | entities["test"]))
    kb = KnowledgeBase(tmp_path / "kb.jsonl")
    assert len(kb) == stats.described + stats.distractors and kb.title_only == stats.distractors
    assert stats.described == 106 and stats.distractors > 10_000
