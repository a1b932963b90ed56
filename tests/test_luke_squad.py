"""LUKE on SQuAD 1.1: the Wikipedia link database, mention detection, CLI training and prediction."""
import json
import random

import numpy as np
import pytest

from cli_utils import BIN, USER_DIR, json_logs, load_script, run_cli, write_lines
from fairseq_plugins.data.luke_squad import detect_mentions, word_starts
from fairseq_plugins.data.wiki_link_db import WikiLinkDB, build_wiki_link_db, mention_name, read_redirects
from fairseq_plugins.errors import InputError
from fairseq_plugins.tokenization import build_tokenizer
from shared_data import SHARED_DATA
from squad_fixtures import CAPITALS

# ---- a generated dump ------------------------------------------------------------------------------------

PAGES = {
    # The SQuAD paragraphs below come from this article: it links every country and capital; Paris
    # through a redirect, Rome with two targets (ambiguous: left out).
    "Capitals": " ".join(f"The capital of [[{c}]] is [[{'Lutetia|Paris' if p == 'Paris' else p}]]."
                         for c, p in sorted(CAPITALS.items()))
                + " [[Rome (band)|Rome]] is also a band. See [[:Category:Lists]].",
    # "the capital" occurs in many articles but is linked once: a low link probability.
    **{f"Notes {i}": "the capital is here. the capital is there." for i in range(8)},
    "Notes 8": "[[Capital city|the capital]] and the capital.",
}
REDIRECTS = {"Lutetia": "Paris"}


def page_xml(title, text, page_id, redirect=None):
    redirect_tag = f'<redirect title="{redirect}"/>' if redirect else ""
    return (f"<page><title>{title}</title><ns>0</ns><id>{page_id}</id>{redirect_tag}<revision><text>"
            f"{text}</text></revision></page>")


def write_dump(path):
    pages = [page_xml(t, text, i) for i, (t, text) in enumerate(PAGES.items(), 1)]
    pages += [page_xml(s, f"#REDIRECT [[{t}]]", 100 + i, t) for i, (s, t) in enumerate(REDIRECTS.items())]
    path.write_text('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/">'
                    + "".join(pages) + "</mediawiki>", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def link_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("links")
    stats, redirects = build_wiki_link_db(write_dump(folder / "dump.xml"), folder / "links.db")
    return folder / "links.db", stats, redirects


def test_link_db_counts_links_redirects_and_link_probability(link_db):
    path, stats, redirects = link_db
    assert redirects == REDIRECTS and stats.namespaced_links == 1
    db = WikiLinkDB(path)
    links = {link.anchor: link for link in db.links("Capitals")}
    assert links["Paris"].target == "Paris"  # [[Lutetia|Paris]] through the dump's redirect
    assert links["France"].link_prob == 1.0
    # "the capital": 1 link, occurs in Notes 0-8 (9 articles) and Capitals (10): 1/10.
    (the_capital,) = db.links("Notes 8")
    assert the_capital.link_prob == pytest.approx(0.1)
    candidates, ambiguous = db.candidates("Capitals", min_link_prob=0.01)
    assert ambiguous == 1 and "rome" not in candidates
    assert candidates["france"] == "France" and candidates["paris"] == "Paris"
    assert db.candidates("Notes 8", 0.2) == ({}, 0) and db.candidates("Notes 8", 0.1)[0] == {
        "the capital": "Capital city"}
    assert db.resolve("lutetia") == "Paris" and db.resolve("X", {"X": "Capitals"}) == "Capitals"
    with pytest.raises(InputError, match="not a link database"):
        WikiLinkDB(path.parent / "dump.xml")


def test_redirect_files(tmp_path):
    path = tmp_path / "redirects.tsv"
    path.write_text("Lutetia\tParis\nthe_Big_Apple\tNew York City\n")
    assert read_redirects(path) == {"Lutetia": "Paris", "The Big Apple": "New York City"}
    path.write_text("Lutetia Paris\n")
    with pytest.raises(InputError, match=r"redirects\.tsv:1: expected 'source<TAB>target'"):
        read_redirects(path)


@pytest.mark.skipif(not (SHARED_DATA / "wiki" / "enwiki-sample.xml.bz2").is_file(), reason="no shared Wikipedia")
def test_link_db_of_the_wikipedia_sample(tmp_path):
    stats, redirects = build_wiki_link_db(SHARED_DATA / "wiki" / "enwiki-sample.xml.bz2", tmp_path / "links.db")
    assert stats.articles > 100 and stats.links > 10000 and len(redirects) > 50
    db = WikiLinkDB(tmp_path / "links.db")
    title = db.resolve(next(iter(redirects)))
    assert title == redirects[next(iter(redirects))] or title in redirects.values()
    links = db.links("Alabama")
    assert len(links) > 100 and all(0.0 < link.link_prob <= 1.0 for link in links)


# ---- mention detection -----------------------------------------------------------------------------------

def test_mentions_are_longest_word_aligned_matches(tmp_path):
    vocab = tmp_path / "vocab.txt"
    write_lines(vocab, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "super", "bowl", "50", "was", "in",
                        "santa", "clara", ".", "san", "##ta", "s", "##uper"])
    tokenizer = build_tokenizer("bert", vocab)
    text = "The Super Bowl 50 was in Santa Clara. Supers"
    (encoded,) = tokenizer.encode_with_offsets([text])
    offsets = np.array(encoded.offsets)
    tokens = [text[a:b] for a, b in offsets]
    assert word_starts(text, offsets)[tokens.index("Clara") + 1] is True  # "." starts a word
    candidates = {mention_name(a): t for a, t in [("Super Bowl 50", "Super Bowl 50"), ("Bowl", "Bowl game"),
                                                   ("Santa Clara", "Santa Clara, California"), ("san", "San"),
                                                   ("Super", "Superman")]}
    found = [(tokens[f:la + 1], title) for f, la, title in detect_mentions(text, offsets, candidates, 30)]
    # the longest match wins over "Super"; "san" is not a word of "Santa"; "Supers" is not "Super".
    assert found == [(["Super", "Bowl", "50"], "Super Bowl 50"), (["Santa", "Clara"], "Santa Clara, California")]
    assert detect_mentions(text, offsets, candidates, 2)[0][2] == "Superman"  # at most 2 tokens


@pytest.mark.parametrize("specials", ["bert", "roberta"])
def test_window_entities_point_at_their_mentions(tmp_path, link_db, specials):
    from fairseq_plugins.data.squad_format import read_squad
    from fairseq_plugins.tasks.luke_squad import LukeSquadConfig, LukeSquadTask

    data = tmp_path / "squad"
    data.mkdir()
    (data / "train.json").write_text(json.dumps(squad_v1(3, 5)))
    vocab = luke_vocab_dir(tmp_path, specials)
    # questions "what is the capital of <country> ?" lose their "?" and keep their mention at the cut
    cfg = LukeSquadConfig(data=str(data), vocab_dir=str(vocab), wiki_link_db_file=str(link_db[0]), max_length=20,
                          max_query_length=6, doc_stride=6, max_mention_length=30, entity_not_in_vocab="drop")
    task = LukeSquadTask.setup_task(cfg)
    dataset = task.load_examples("train", read_squad(data / "train.json"), "train")
    entity_titles = {i: t for t, i in json.loads((vocab / "entity_vocab.json").read_text()).items()}
    symbols = task.dictionary.symbols
    windows = dataset.dataset.examples
    assert len(windows) > 6  # contexts of ~28 tokens in windows of 12
    # RoBERTa's LUKE: <s> question </s></s> context </s>, one token type
    separators = 2 if specials == "roberta" else 1
    assert task.roberta_layout == (specials == "roberta")
    seen = {0: 0, 1: 0}
    for window in windows:
        assert window.segment_start == 1 + window.question_tokens + separators
        assert all(symbols[t] in ("[SEP]", "</s>") for t in window.tokens[window.segment_start - separators:
                                                                          window.segment_start])
        for entity, first, last, kind in zip(window.entity_ids, window.entity_firsts, window.entity_lasts,
                                             window.entity_types):
            words = " ".join(symbols[t] for t in window.tokens[first:last + 1])
            assert words == entity_titles[int(entity)].lower()
            assert kind == int(first >= window.segment_start)
            seen[int(kind)] += 1
    assert seen[0] == len(windows) and seen[1] > len(windows)  # the question's country; the context's names
    batch = dataset.collater(list(range(4)))
    positions = batch["net_input"]["entity_positions"]
    assert positions.shape[:2] == batch["net_input"]["entity_ids"].shape and positions.max() < 20
    typed = {"segment_labels", "entity_segments"} & batch["net_input"].keys()
    assert typed == (set() if specials == "roberta" else {"segment_labels", "entity_segments"})


# ---- CLI -------------------------------------------------------------------------------------------------

def squad_v1(num_paragraphs, seed):
    """SQuAD 1.1 layout: the article "Capitals", contexts naming countries and capitals."""
    rng = random.Random(seed)
    countries = sorted(CAPITALS)
    paragraphs = []
    for p in range(num_paragraphs):
        named = rng.sample(countries, 4)
        context, starts = "", {}
        for country in named:
            sentence = f"The capital of {country} is {CAPITALS[country]}. "
            starts[country] = len(context) + sentence.index(CAPITALS[country])
            context += sentence
        qas = [{"question": f"What is the capital of {c}?", "id": f"{seed}-{p}-{q}",
                "answers": [{"text": CAPITALS[c], "answer_start": starts[c]}]}
               for q, c in enumerate(rng.sample(named, 2))]
        paragraphs.append({"context": context.strip(), "qas": qas})
    return {"version": "1.1", "data": [{"title": "Capitals", "paragraphs": paragraphs}]}


def luke_vocab_dir(tmp_path, specials="bert"):
    """A WordPiece model folder; ``specials`` "roberta" gives it RoBERTa's special tokens (<s> ... </s>)."""
    words = ["the", "capital", "of", "is", "what", "?", "."] + sorted(w.lower() for pair in CAPITALS.items()
                                                                     for w in pair)
    tokens = ({"bert": ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
               "roberta": ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]}[specials] + ["<ent>", "<ent2>"] + words)
    folder = tmp_path / "vocab"
    write_lines(folder / "vocab.txt", tokens)
    write_lines(folder / "dict.txt", tokens)
    titles = sorted(set(CAPITALS) | set(CAPITALS.values()) - {"Rome"})
    vocab = {"[PAD]": 0, "[UNK]": 1, "[MASK]": 2, **{t: i + 3 for i, t in enumerate(titles)}}
    (folder / "entity_vocab.json").write_text(json.dumps(vocab))
    return folder


MODEL_FLAGS = ("--arch", "luke_tiny", "--encoder-layers", "2", "--encoder-embed-dim", "32",
               "--encoder-ffn-embed-dim", "64", "--encoder-attention-heads", "2", "--entity-emb-size", "16",
               "--num-segments", "2", "--dropout", "0", "--attention-dropout", "0", "--pooler-dropout", "0",
               "--max-positions", "64")


def test_fairseq_train_luke_squad_with_entities_then_predict(tmp_path, link_db, capsys):
    data = tmp_path / "squad"
    data.mkdir()
    (data / "train.json").write_text(json.dumps(squad_v1(40, 1)))
    (data / "dev.json").write_text(json.dumps(squad_v1(8, 2)))
    vocab = luke_vocab_dir(tmp_path)
    save = tmp_path / "ck"
    proc = run_cli([BIN / "fairseq-train", data, "--user-dir", USER_DIR, "--cpu", "--task", "luke_squad",
                    "--criterion", "luke_squad", "--vocab-dir", vocab, "--wiki-link-db-file", link_db[0],
                    *MODEL_FLAGS, "--max-length", "48", "--max-query-length", "12", "--doc-stride", "8",
                    "--batch-size", "8", "--optimizer", "adam", "--lr", "2e-3", "--lr-scheduler", "fixed",
                    "--max-epoch", "20", "--num-workers", "0", "--save-dir", save, "--no-epoch-checkpoints",
                    "--no-last-checkpoints", "--best-checkpoint-metric", "f1", "--maximize-best-checkpoint-metric",
                    "--seed", "1", "--required-batch-size-multiple", "1", "--log-format", "json",
                    "--log-interval", "1", "--no-progress-bar"], timeout=180)
    out = proc.stdout + proc.stderr
    train = [float(r["train_loss"]) for r in json_logs(out, "train")]
    valid = json_logs(out, "valid")
    assert len(train) == 20 and min(train[-2:]) < 0.5 * train[0], train
    best = max(float(r["valid_f1"]) for r in valid)
    assert best > 45, valid  # four capitals a context: chance is 25
    # Every context mention is an entity (Rome is ambiguous in the article: none); windows hold several.
    summary = out.split("dev.json: 8 paragraphs of 1 articles, ")[1].splitlines()[0]
    mentions = int(summary.split(" mentions")[0])
    assert mentions >= 8 * 8 and "0 with targets not in the entity vocabulary" in summary, summary
    assert "1 ambiguous anchors left out" in summary
    # the extractive-QA prediction CLI reads luke_squad checkpoints (entities found again with the link database)
    predictions = tmp_path / "predictions.json"
    predict = load_script("qa_predict")
    predict.main(["--checkpoint", str(save / "checkpoint_best.pt"), "--input", str(data / "dev.json"), "--output",
                  str(predictions), "--nbest-output", str(tmp_path / "nbest.json"), "--evaluate", "--cpu"])
    scores = json.loads(capsys.readouterr().out)
    written = json.loads(predictions.read_text())
    assert len(written) == 16 and all(isinstance(v, str) for v in written.values())
    best_row = [r for r in valid if float(r["valid_f1"]) == best][-1]  # checkpoint_best: the last of the best
    assert scores["metric"] == "squad_v1" and scores["total"] == 16
    assert scores["f1"] == pytest.approx(best, abs=0.01)
    assert scores["exact_match"] == pytest.approx(float(best_row["valid_exact_match"]), abs=0.01)
    # an ensemble of the checkpoint with itself averages equal logits: the same answers
    predict.main(["--checkpoint", str(save / "checkpoint_best.pt"), str(save / "checkpoint_best.pt"), "--weights",
                  "1", "3", "--input", str(data / "dev.json"), "--output", str(tmp_path / "ensemble.json"), "--cpu"])
    assert json.loads((tmp_path / "ensemble.json").read_text()) == written
    nbest = json.loads((tmp_path / "nbest.json").read_text())
    assert all(sum(a["probability"] for a in answers) == pytest.approx(1, abs=1e-3) for answers in nbest.values())
