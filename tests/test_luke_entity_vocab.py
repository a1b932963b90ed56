"""LUKE entity vocabulary: the three file forms, special ids from the file, the builder from a dump."""
import bz2
import json
import os

import pytest

from cli_utils import run_script
from fairseq_plugins.data.luke_entity_vocab import EntityVocab, build_entity_vocab
from fairseq_plugins.errors import InputError
from shared_data import SHARED_DATA

SAMPLE = str(SHARED_DATA / "wiki" / "enwiki-sample.xml.bz2")


def test_tsv_jsonl_json_round_trips(tmp_path):
    (tmp_path / "v.tsv").write_text("[PAD]\t0\n[UNK]\t0\n[MASK]\t0\nJapan\t12\nEast Asia\t5\n")
    vocab = EntityVocab.load(tmp_path / "v.tsv")
    assert (len(vocab), vocab.pad, vocab.unk, vocab.mask) == (5, 0, 1, 2)
    assert vocab.index("East Asia") == 4 and vocab.index("Atlantis") == vocab.unk and vocab.counts[3] == 12
    for name in ("v.jsonl", "v.json", "again.tsv"):
        vocab.save(tmp_path / name)
        again = EntityVocab.load(tmp_path / name)
        assert [again.title(i) for i in range(5)] == ["[PAD]", "[UNK]", "[MASK]", "Japan", "East Asia"]
    assert json.loads((tmp_path / "v.jsonl").read_text().splitlines()[3]) == {
        "id": 3, "entities": [["Japan", ""]], "count": 12}


def test_special_ids_come_from_the_file_and_languages_share_ids(tmp_path):
    (tmp_path / "lite.json").write_text('{"[MASK]": 0, "[UNK]": 1, "[PAD]": 2, "[MASK2]": 3}')
    lite = EntityVocab.load(tmp_path / "lite.json")
    assert (lite.pad, lite.mask, lite.special("[MASK2]")) == (2, 0, 3)
    lines = [{"id": 0, "entities": [["[PAD]", "en"], ["[PAD]", "ja"]], "count": 0},
             {"id": 1, "entities": [["[UNK]", "en"]], "count": 0},
             {"id": 2, "entities": [["[MASK]", "en"]], "count": 0},
             {"id": 3, "entities": [["Japan", "en"], ["日本", "ja"]], "count": 9}]
    (tmp_path / "m.jsonl").write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n")
    multi = EntityVocab.load(tmp_path / "m.jsonl")
    assert multi.index("日本", "ja") == multi.index("Japan", "en") == 3 and multi.pad == 0
    multi.save(tmp_path / "m.json")
    assert json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))["ja:日本"] == 3


def test_bad_files_name_line_and_field(tmp_path):
    (tmp_path / "a.tsv").write_text("[PAD]\t0\n[UNK]\tmany\n")
    with pytest.raises(InputError, match=r"a\.tsv:2: count: count 'many' is not a number"):
        EntityVocab.load(tmp_path / "a.tsv")
    (tmp_path / "b.jsonl").write_text('{"id": 0, "entities": [["[PAD]", ""]]}\n{"id": 1, "entities": []}\n')
    with pytest.raises(InputError, match=r"b\.jsonl:2: entities: expected a non-empty list"):
        EntityVocab.load(tmp_path / "b.jsonl")
    (tmp_path / "c.json").write_text('{"[PAD]": 0, "[UNK]": 1, "[MASK]": 5}')
    with pytest.raises(InputError, match="id 2 is missing"):
        EntityVocab.load(tmp_path / "c.json")
    (tmp_path / "d.json").write_text('{"[PAD]": 0, "[UNK]": 1}')
    with pytest.raises(InputError, match=r"no \[MASK\] entity"):
        EntityVocab.load(tmp_path / "d.json")


PAGE = """<page><title>{title}</title><ns>{ns}</ns><id>{id}</id>{redirect}
<revision><text xml:space="preserve">{text}</text></revision></page>"""


def write_dump(path):
    pages = [
        ("Tokyo", 0, "", "'''Tokyo''' is the capital of [[Japan]]. See [[Nippon|the country]] and [[Kyoto]]."),
        ("Kyoto", 0, "", "Kyoto was the capital of [[Japan]] before [[Tokyo]]. [[Category:Cities]] "
                         "[[:Category:Capitals|capitals]]"),
        ("Osaka", 0, "", "Osaka is near [[Kyoto]] in [[Japan]]."),
        ("Nippon", 0, '<redirect title="Japan" />', "#REDIRECT [[Japan]]"),
        ("Talk:Japan", 1, "", "[[Japan]] [[Japan]] [[Japan]]"),
    ]
    body = "".join(PAGE.format(title=t, ns=ns, id=i, redirect=r, text=x) for i, (t, ns, r, x) in enumerate(pages))
    xml = ('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/"><siteinfo><namespaces>'
           '<namespace key="0" /><namespace key="1">Talk</namespace><namespace key="14">Category</namespace>'
           f'</namespaces></siteinfo>{body}</mediawiki>')
    with bz2.open(path, "wt", encoding="utf-8") as f:
        f.write(xml)
    return path


def test_builder_counts_links_resolves_redirects_and_skips_other_namespaces(tmp_path):
    dump = write_dump(tmp_path / "tiny.xml.bz2")
    vocab, stats = build_entity_vocab(dump, workers=1)
    # Japan: 3 links + 1 through the redirect "Nippon"; talk pages are not articles.
    assert [(vocab.title(i), vocab.counts[i]) for i in range(len(vocab))] == [
        ("[PAD]", 0), ("[UNK]", 0), ("[MASK]", 0), ("Japan", 4), ("Kyoto", 2), ("Tokyo", 1)]
    assert (stats.articles, stats.redirects, stats.namespaced_links) == (3, 1, 1)
    small, stats = build_entity_vocab(dump, max_size=4, min_count=2)
    assert [small.title(i) for i in range(len(small))] == ["[PAD]", "[UNK]", "[MASK]", "Japan"]
    assert (stats.below_min_count, stats.beyond_max_size) == (1, 1)


@pytest.mark.skipif(not os.path.isfile(SAMPLE), reason="shared Wikipedia sample absent")
def test_builder_script_on_the_real_dump_sample_with_two_workers(tmp_path):
    out = tmp_path / "entity_vocab.jsonl"
    proc = run_script("build_entity_vocab", "--dump", SAMPLE, "--output", out, "--workers", "2",
                      "--min-count", "2", timeout=300)
    vocab = EntityVocab.load(out)
    assert "106 articles" in proc.stdout and len(vocab) > 1000
    single, _ = build_entity_vocab(SAMPLE, min_count=2)
    assert [vocab.title(i) for i in range(len(vocab))] == [single.title(i) for i in range(len(single))]
    assert vocab.counts[3] >= vocab.counts[4] >= vocab.counts[-1] >= 2
