"""MediaWiki dump reader, wikitext cleaning with link spans, and the dump -> text CLI."""
import bz2
import importlib.util
import subprocess
import sys
import time
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from fairseq_plugins.data.wikipedia import (
    DumpStats, Link, iter_pages, normalize_title, parse_wikitext, resolve_redirect, split_of,
    split_sentences,
)
from fairseq_plugins.errors import InputError
from shared_data import SHARED_DATA

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DUMPS = [
    SHARED_DATA / "wiki" / "enwiki-sample.xml.bz2",
    Path(sys.prefix) / "lib/python3.11/site-packages/gensim/test/test_data"
    / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2",
]

ADA = """{{Infobox person
| name = Ada {{small|Lovelace}}
| birth_date = {{birth date|1815|12|10}}
}}
'''Ada Lovelace''' was an [[England|English]] [[mathematician]]s.<ref name="bio">{{cite book|title={{lang|en|Life}}}}</ref> She wrote about the [[analytical_Engine|''Analytical Engine'']].<ref name="bio"/><!-- [[Hidden]] -->
[[File:Ada.jpg|thumb|Portrait by [[Alfred Edward Chalon|Chalon]] in {{circa|1840}}]]
{| class="wikitable"
|-
! Year !! Work
|-
| 1843 || [[Notes (Lovelace)|Notes]] {{sfn|Toole}}
|}
== Early life ==
She was born in [[London]]. See [http://example.com the site] and [http://example.org].
* Her father was [[Lord Byron]].
[[Category:Mathematicians]]
"""
ADA_PLAIN = ("Ada Lovelace was an English mathematicians. She wrote about the Analytical Engine.\n"
             "Early life\n"
             "She was born in London. See the site and.\n"
             "Her father was Lord Byron.")

ENGINE = """The '''Analytical Engine''' was designed by [[Charles Babbage]] ([[Babbage (surname)|]] family)
as a mechanical [[wikt:engine|engine]]; see [[:category:Computers]].

It was never built.<ref>Never.</ref>
[[de:Analytische Maschine]]
"""
ENGINE_PLAIN = ("The Analytical Engine was designed by Charles Babbage (Babbage family) as a mechanical "
                "engine; see category:Computers.\nIt was never built.")

PAGES = [  # (title, namespace, id, <redirect title> or None, wikitext)
    ("Ada Lovelace", 0, 1, None, ADA),
    ("Lovelace", 0, 2, "Ada_Lovelace", "#REDIRECT [[Ada Lovelace]]"),
    ("Talk:Ada Lovelace", 1, 3, None, "Is the birth date right? --~~~~"),
    ("Analytical Engine", 0, 4, None, ENGINE),
    ("Countess of Lovelace", 0, 5, None, "#redirect [[lovelace#Title]] {{R from title}}"),
    ("Stub", 0, 6, None, "{{stub}}\n[[Category:Stubs]]"),
]


def write_dump(path, pages=PAGES, compress=False):
    parts = ['<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11">',
             "<siteinfo><sitename>Test</sitename><namespaces>",
             '<namespace key="0" case="first-letter" /><namespace key="1" case="first-letter">Talk</namespace>',
             "</namespaces></siteinfo>"]
    for title, ns, page_id, redirect, text in pages:
        parts.append(f"<page><title>{escape(title)}</title><ns>{ns}</ns><id>{page_id}</id>")
        if redirect:
            parts.append(f'<redirect title="{escape(redirect)}" />')
        parts.append(f'<revision><id>{page_id * 10}</id><text xml:space="preserve">{escape(text)}</text>'
                     "</revision></page>")
    parts.append("</mediawiki>\n")
    data = "\n".join(parts).encode("utf-8")
    path.write_bytes(bz2.compress(data) if compress else data)
    return path


def spans(plain, links):
    return [(plain[start:end], target) for start, end, target in links]


def test_parse_wikitext_exact_text_and_link_offsets():
    plain, links = parse_wikitext(ADA)
    assert plain == ADA_PLAIN
    assert links[0] == Link(20, 27, "England")
    assert spans(plain, links) == [
        ("English", "England"), ("mathematicians", "Mathematician"), ("Analytical Engine", "Analytical Engine"),
        ("London", "London"), ("Lord Byron", "Lord Byron"),
    ]

    plain, links = parse_wikitext(ENGINE)
    assert plain == ENGINE_PLAIN  # wrapped lines join; interwiki shown, interlanguage dropped
    assert spans(plain, links) == [
        ("Charles Babbage", "Charles Babbage"), ("Babbage", "Babbage (surname)"),
        ("category:Computers", "Category:Computers"),
    ]


@pytest.mark.parametrize("wikitext, plain, link_spans", [
    ("[[Foo|a [[Bar]] b]] c", "a Bar b c", [("Bar", "Bar")]),  # link in an anchor: inner one kept
    ("[[[Foo]]]", "[Foo]", [("Foo", "Foo")]),
    ("x [[Foo|]]", "x Foo", [("Foo", "Foo")]),
    ("[[#History|history]] and [[Seattle, Washington|]]", "history and Seattle",
     [("Seattle", "Seattle, Washington")]),
    ("'''''both''''' and ''''quoted''''", "both and 'quoted'", []),
    ("{{{1|default}}} {{a|{{b|{{c}}}}}}}} text", "text", []),
    ("a<nowiki>[[not a link]] {{nor}}</nowiki> b", "a[[not a link]] {{nor}} b", []),
    ("[[Image:X.png|thumb|{{a|[[b]]}} [[c|d]]]] after [[e]]", "after e", [("e", "E")]),
])
def test_parse_wikitext_cases(wikitext, plain, link_spans):
    got_plain, links = parse_wikitext(wikitext)
    assert got_plain == plain
    assert spans(got_plain, links) == link_spans


def test_normalize_title_and_redirect_resolution():
    assert normalize_title("  ada__lovelace#Early life") == "Ada lovelace"
    assert normalize_title(":category: sorting_algorithms") == "Category:Sorting algorithms"
    assert normalize_title("image:X.png") == "File:X.png"
    assert normalize_title("AT&amp;T") == "AT&T"
    assert resolve_redirect("A", {"A": "B", "B": "C"}) == "C"
    assert resolve_redirect("A", {"A": "B", "B": "A"}) in {"A", "B"}  # a cycle ends


def test_iter_pages_namespaces_redirects_and_counts(tmp_path):
    stats = DumpStats()
    pages = list(iter_pages(write_dump(tmp_path / "tiny.xml.bz2", compress=True), stats))
    assert [(p.title, p.namespace, p.page_id, p.redirect) for p in pages] == [
        ("Ada Lovelace", 0, 1, None), ("Lovelace", 0, 2, "Ada Lovelace"), ("Talk:Ada Lovelace", 1, 3, None),
        ("Analytical Engine", 0, 4, None), ("Countess of Lovelace", 0, 5, "Lovelace"), ("Stub", 0, 6, None),
    ]
    assert pages[0].wikitext == ADA
    assert (stats.pages, stats.articles, stats.redirects) == (6, 3, 2)
    assert stats.namespaces == {0: 5, 1: 1}
    redirects = {p.title: p.redirect for p in pages if p.redirect}
    assert resolve_redirect("Countess of Lovelace", redirects) == "Ada Lovelace"


@pytest.mark.parametrize("wikitext, kept", [
    ("Some text. {{ {{ [[ ", "Some text."),
    ("Some text. " + "{{" * 10000, "Some text."),
    ("Some text. " + "{{ " * 10000 + "}}" * 30, "Some text."),
    ("Some text. " + "[[a|" * 10000 + "]]" * 20, "Some text."),
    ("Some text. " + "[[" * 10000 + "x" + "]]" * 10000, "Some text."),
    ("Some text. <ref>" * 3000, "Some text."),
    ("Some text.\n{|\n| cell " + "(" * 5000 + " " * 5000, "Some text."),
    ("Some text. [http://x " + "[" * 5000 + "." * 5000, "Some text."),
    ("Some text. <!-- never closed " + "x" * 10000, "Some text."),
])
def test_unbalanced_markup_finishes_fast_and_keeps_text(wikitext, kept):
    start = time.perf_counter()
    plain, links = parse_wikitext(wikitext)
    assert time.perf_counter() - start < 1.0
    assert plain.startswith(kept)
    assert "{{" not in plain and "}}" not in plain and "[[" not in plain and "]]" not in plain
    assert all(plain[s:e] and "\n" not in plain[s:e] for s, e, _ in links)
    assert split_sentences(plain * 3) is not None


def test_split_sentences_keeps_abbreviations_and_initials():
    text = 'Dr. Smith met J. R. R. Tolkien in the U.S. in 1950. They talked (e.g. about Elvish). "Why?" Nobody knows!'
    assert split_sentences(text) == [
        "Dr. Smith met J. R. R. Tolkien in the U.S. in 1950.", "They talked (e.g. about Elvish).",
        '"Why?"', "Nobody knows!",
    ]


def sample_dump():
    return next((path for path in SAMPLE_DUMPS if path.exists()), None)


@pytest.mark.skipif(sample_dump() is None, reason="no Wikipedia sample dump on this machine")
def test_real_sample_dump():
    stats = DumpStats()
    articles = [page for page in iter_pages(sample_dump(), stats) if page.is_article]
    assert (stats.pages, stats.articles, stats.redirects) == (206, 106, 100)
    assert stats.namespaces == {0: 205, 4: 1}
    total_links = verbatim = characters = 0
    for page in articles:
        plain, links = parse_wikitext(page.wikitext)
        characters += len(plain)
        for residue in ("{{", "}}", "[[", "]]", "<ref", "\ue000", "\ue001"):
            assert residue not in plain, (page.title, residue)
        assert "" not in plain.split("\n"), page.title
        for start, end, target in links:
            anchor = plain[start:end]
            assert anchor and anchor == anchor.strip() and "\n" not in anchor and target, (page.title, anchor)
            verbatim += anchor in page.wikitext or anchor.rstrip("abcdefghijklmnopqrstuvwxyz") in page.wikitext
        total_links += len(links)
    # anchors are copied from the source; the rare exceptions had markup or entities inside
    assert total_links > 20000 and verbatim / total_links > 0.99
    assert characters > 2_500_000


def load_script():
    spec = importlib.util.spec_from_file_location("wiki_to_text", REPO / "scripts/wiki_to_text.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def summary_row(output, split):
    """articles, paragraphs, lines, characters of one row of the summary table."""
    return next(line.split()[1:] for line in output.splitlines() if line.startswith(split + " "))


def test_cli_end_to_end(tmp_path, capsys):
    dump = write_dump(tmp_path / "tiny.xml")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, REPO / "scripts/wiki_to_text.py", "--dump", dump, "--output-dir", out,
         "--valid-ratio", "0", "--test-ratio", "0", "--min-chars", "20"],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (out / "train.txt").read_text() == (
        "Ada Lovelace was an English mathematicians. She wrote about the Analytical Engine.\n"
        "She was born in London. See the site and.\n"
        "Her father was Lord Byron.\n"
        "\n"
        + ENGINE_PLAIN.split("\n")[0] + "\n"
    )
    assert (out / "valid.txt").read_text() == "" and (out / "test.txt").read_text() == ""
    assert "2 redirects, 1 non-article pages, 1 articles without text, 2 paragraphs shorter" in proc.stdout
    assert summary_row(proc.stdout, "total") == ["2", "4", "4", "267"]
    assert summary_row(proc.stdout, "valid") == ["0", "0", "0", "0"]

    # in-process run with splits and sentences: deterministic, and follows split_of
    script = load_script()
    for run in ("a", "b"):
        script.main(["--dump", str(dump), "--output-dir", str(tmp_path / run), "--valid-ratio", "0.4",
                     "--test-ratio", "0.3", "--sentences", "--min-chars", "1", "--no-progress"])
    capsys.readouterr()
    for split in ("train", "valid", "test"):
        assert (tmp_path / "a" / f"{split}.txt").read_text() == (tmp_path / "b" / f"{split}.txt").read_text()
    for title, first_line in (("Ada Lovelace", "Ada Lovelace was an English mathematicians."),
                              ("Analytical Engine", "The Analytical Engine was designed by")):
        text = (tmp_path / "a" / f"{split_of(title, 0.4, 0.3)}.txt").read_text()
        assert first_line in text
    assert "She wrote about the Analytical Engine.\n" in "".join(
        (tmp_path / "a" / f"{s}.txt").read_text() for s in ("train", "valid", "test"))

    script.main(["--dump", str(dump), "--output-dir", str(tmp_path / "one"), "--max-articles", "1",
                 "--valid-ratio", "0", "--test-ratio", "0", "--no-progress"])
    assert summary_row(capsys.readouterr().out, "total")[0] == "1"


def test_bad_input_names_the_file(tmp_path):
    cases = {
        "notes.txt": b"just some text, not XML\n",
        "page.xml": b"<html><body>hello</body></html>",
        "cut.xml": write_dump(tmp_path / "whole.xml").read_bytes()[:700],
        "cut.xml.bz2": bz2.compress(write_dump(tmp_path / "whole.xml").read_bytes())[:300],
        "corrupt.xml.bz2": b"BZh9" + b"\x00" * 100,
        "empty.xml": b"",
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(InputError) as info:
            list(iter_pages(path))
        assert info.value.path == str(path), name
        assert str(path) in str(info.value)
    with pytest.raises(InputError) as info:
        list(iter_pages(tmp_path / "notes.txt"))
    assert info.value.line == 1
    with pytest.raises(SystemExit) as info:  # the CLI says it in one line, no traceback
        load_script().main(["--dump", str(tmp_path / "cut.xml.bz2"), "--output-dir", str(tmp_path / "o"),
                            "--no-progress"])
    assert str(info.value.code).startswith(f"error: {tmp_path / 'cut.xml.bz2'}: ")
