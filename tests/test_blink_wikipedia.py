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


@pytest.mark.parametrize("mention_set", ["standard", "ambiguous"])
def test_real_sample_holds_out_evaluation_entities_and_articles(tmp_path, mention_set):
    dump = SHARED_DATA / "wiki" / "enwiki-sample.xml.bz2"
    if not dump.exists():
        pytest.skip("../shared/data is absent")
    stats = build_wikipedia_linking(dump, tmp_path, mention_set=mention_set)
    entities = {}
    for split in ("train", "valid", "test"):
        mentions = lines(tmp_path / f"{split}.jsonl")
        assert mentions, split
        for m in mentions:
            assert split_of(m["label_id"], 0.15, 0.2) == split_of(m["article"], 0.15, 0.2) == split
            assert mention_set == "standard" or m["hardness"]  # every ambiguous-set mention says why it is hard
        entities[split] = {m["label_id"] for m in mentions}
    assert not (entities["train"] & (entities["valid"] | entities["test"]))
    kb = KnowledgeBase(tmp_path / "kb.jsonl")
    assert len(kb) == stats.described + stats.distractors and kb.title_only == stats.distractors
    assert stats.described == 106 and stats.distractors > 10_000


APOLLO = ("'''Apollo''' is a god of the sun in Greek religion, twin of [[Artemis (goddess)|Artemis]].\n\n"
          "The [[Apollo program]] was named after Apollo. Its [[Apollo 11|first landing]] was [[Apollo XI]]. "
          "See also [[Apollo 11]].")
APOLLO_11 = ("'''Apollo 11''' was the first crewed Moon landing, a mission of the [[Apollo program]].\n\n"
             "The crew saw [[Artemis program|Artemis]] plans later. Apollo 11 and Apollo XI are one. "
             "The god [[Apollo]] gave it a name; Apollo is a god.")
AMBIGUOUS_PAGES = [
    ("Apollo", 0, 1, None, APOLLO),
    ("Apollo 11", 0, 2, None, APOLLO_11),
    ("Apollo XI", 0, 3, "Apollo 11", "#REDIRECT [[Apollo 11]]"),
]


def test_ambiguous_mention_set_keeps_only_hard_mentions_with_their_reasons(tmp_path):
    dump = write_dump(tmp_path / "dump.xml.bz2", AMBIGUOUS_PAGES, compress=True)
    stats = build_wikipedia_linking(dump, tmp_path / "out", valid_ratio=0, test_ratio=0, min_lead_chars=20,
                                    mention_set="ambiguous")
    mentions = lines(tmp_path / "out" / "train.jsonl")
    found = [(m["article"], m["mention"], m["label_id"], m["source"], m["hardness"]) for m in mentions]
    assert found == [
        # "Artemis" is the title without its parenthetical, and the leading word of "Artemis program"
        ("Apollo", "Artemis", "Artemis (goddess)", "anchor", ["partial", "shared"]),
        ("Apollo", "first landing", "Apollo 11", "anchor", ["alias"]),
        ("Apollo", "Apollo XI", "Apollo 11", "anchor", ["redirect"]),
        # the exact title, but also the first word of "Apollo program" and "Apollo 11"
        ("Apollo", "Apollo", "Apollo", "title", ["shared"]),
        ("Apollo 11", "Artemis", "Artemis program", "anchor", ["partial", "shared"]),
        ("Apollo 11", "Apollo", "Apollo", "anchor", ["shared"]),
        ("Apollo 11", "Apollo XI", "Apollo 11", "title", ["redirect"]),
        ("Apollo 11", "Apollo", "Apollo", "title", ["shared"]),
    ]
    # left out as easy: both [[Apollo program]] anchors, [[Apollo 11]], and "Apollo 11" in its own article
    assert stats.skipped["surface is the exact title and names no other entity"] == 4
    assert dict(stats.hardness["train"]) == {"partial": 2, "shared": 5, "alias": 1, "redirect": 2,
                                             "title-only gold": 2}
    assert [m["label"] for m in mentions][:2] == [  # title-only gold: no description
        "", "Apollo 11 was the first crewed Moon landing, a mission of the Apollo program."]
    assert mentions[1]["context_left"].endswith("named after Apollo. Its")
    assert mentions[1]["context_right"].startswith("was Apollo XI. See also Apollo 11.")
    kb = KnowledgeBase(tmp_path / "out" / "kb.jsonl")
    assert sorted(kb.ids) == ["Apollo", "Apollo 11", "Apollo program", "Artemis (goddess)", "Artemis program"]
    assert len(read_mentions(tmp_path / "out" / "train.jsonl", kb)) == 8  # every gold is in the KB
    standard = build_wikipedia_linking(dump, tmp_path / "std", valid_ratio=0, test_ratio=0, min_lead_chars=20)
    assert (tmp_path / "std" / "kb.jsonl").read_text() == (tmp_path / "out" / "kb.jsonl").read_text()
    assert sum(standard.mentions["train"].values()) == 8  # 4 anchors into articles + 4 later title occurrences
