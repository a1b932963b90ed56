"""A Wikipedia link database: per article, the anchors of its links with their targets and link probabilities.

LUKE's SQuAD run finds entity mentions in a passage from the links of the passage's own
Wikipedia article (the seed's ``--wiki-link-db-file``, a pickled trie built with Wikipedia2Vec).
Ours is one SQLite file (stdlib, random access by title, no loading of the whole dump), built from a
MediaWiki XML dump by :func:`build_wiki_link_db` (``scripts/build_wiki_link_db.py``):

- ``links(title, anchor, name, target, count)``: every internal article link of ``title``, grouped by
  anchor text and raw target title (redirects are resolved when read, so a redirect page anywhere in
  the dump counts);
- ``names(name, link_count, doc_count)``: per normalized anchor name, how often it is a link anchor
  over the dump and in how many articles it occurs at all (as a token n-gram, linked or not);
  ``link_prob = min(1, link_count / doc_count)`` as Wikipedia2Vec's mention database defines it;
- ``redirects(source, target)`` of the dump and ``meta`` (dump path, name length limit, counts).

Names are anchors normalized by :func:`mention_name` (accents stripped, lower case, words and
punctuation marks as tokens), the same normalization the mention detector applies to passage text.
Redirect files (``--model-redirects-file``, ``--link-redirects-file``) are ``source<TAB>target`` lines;
``build_wiki_link_db.py --redirects-out`` writes a dump's.
"""
from __future__ import annotations

import logging
import os
import re
import sqlite3
import unicodedata
from collections import Counter
from dataclasses import dataclass
from multiprocessing import Pool
from typing import Dict, Iterable, Iterator, List, Mapping, NamedTuple, Optional, Set, Tuple

from tqdm import tqdm

from ..errors import InputError
from . import wikipedia

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
SCHEMA_VERSION = "1"


def mention_tokens(text: str) -> List[str]:
    """Accent-free lower-case words and single punctuation marks of ``text``."""
    text = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    return _TOKEN.findall(text)


def mention_name(text: str) -> str:
    return " ".join(mention_tokens(text))


class WikiLink(NamedTuple):
    anchor: str       # anchor text as written
    target: str       # target title, redirects resolved
    count: int        # times this anchor links this target in the article
    link_prob: float  # of the anchor's name over the whole dump


def read_redirects(path) -> Dict[str, str]:
    """``source<TAB>target`` lines (titles normalized as MediaWiki stores them)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(path, "redirects file not found")
    redirects = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
                raise InputError(path, "expected 'source<TAB>target'", line=number)
            redirects[wikipedia.normalize_title(parts[0])] = wikipedia.normalize_title(parts[1])
    return redirects


def write_redirects(redirects: Mapping[str, str], path) -> None:
    tmp = f"{os.fspath(path)}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.writelines(f"{source}\t{target}\n" for source, target in sorted(redirects.items()))
    os.replace(tmp, path)


class WikiLinkDB:
    """Read access to a link database file."""

    def __init__(self, path):
        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise InputError(self.path, "link database not found")
        try:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            meta = dict(self._db.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as e:
            raise InputError(self.path, f"not a link database built by scripts/build_wiki_link_db.py ({e})")
        if meta.get("schema") != SCHEMA_VERSION:
            raise InputError(self.path, f"link database schema {meta.get('schema')!r}, expected {SCHEMA_VERSION}")
        self.meta = meta

    def __reduce__(self):  # worker processes reopen the file
        return type(self), (self.path,)

    def resolve(self, title: str, extra: Optional[Mapping[str, str]] = None) -> str:
        """``title`` through ``extra`` redirects (e.g. --link-redirects-file), then the dump's own."""
        title = wikipedia.normalize_title(title)
        if extra:
            title = wikipedia.resolve_redirect(title, extra)
        seen = {title}
        while True:
            row = self._db.execute("SELECT target FROM redirects WHERE source = ?", (title,)).fetchone()
            if row is None or row[0] in seen:
                return title
            title = row[0]
            seen.add(title)

    def has_article(self, title: str) -> bool:
        return self._db.execute("SELECT 1 FROM links WHERE title = ? LIMIT 1", (title,)).fetchone() is not None

    def links(self, title: str) -> List[WikiLink]:
        """The links of article ``title`` (exact stored title; see :meth:`resolve`), [] when it has none."""
        rows = self._db.execute(
            "SELECT l.anchor, l.target, l.count, n.link_count, n.doc_count FROM links l "
            "LEFT JOIN names n ON n.name = l.name WHERE l.title = ?", (title,)).fetchall()
        return [WikiLink(anchor, self.resolve(target), count,
                         min(1.0, link_count / doc_count) if doc_count else 0.0)
                for anchor, target, count, link_count, doc_count in rows]

    def candidates(self, title: str, min_link_prob: float = 0.01) -> Tuple[Dict[str, str], int]:
        """LUKE's mention candidates of an article: anchor name -> target for links whose anchor has
        ``link_prob >= min_link_prob``; a name linking two targets in the article is ambiguous and left
        out. Returns (candidates, number of ambiguous names)."""
        targets: Dict[str, Set[str]] = {}
        for link in self.links(title):
            name = mention_name(link.anchor)
            if name and link.link_prob >= min_link_prob:
                targets.setdefault(name, set()).add(link.target)
        ambiguous = sum(len(t) > 1 for t in targets.values())
        return {name: next(iter(t)) for name, t in targets.items() if len(t) == 1}, ambiguous


# ---- building --------------------------------------------------------------------------------------------

@dataclass
class LinkDbStats:
    articles: int = 0
    redirects: int = 0
    links: int = 0
    namespaced_links: int = 0   # Category:, File:, ... : not entities, skipped
    long_anchors: int = 0       # names longer than max_name_tokens: never detected, skipped
    names: int = 0

    def summary(self) -> str:
        return (f"{self.articles} articles, {self.links} links, {self.names} anchor names, {self.redirects} "
                f"redirects; skipped {self.namespaced_links} links into other namespaces, {self.long_anchors} "
                "anchors over --max-name-tokens")


_NAMESPACES = set(wikipedia.NAMESPACES.values())


def _article_links(item: Tuple[str, str]):
    title, wikitext = item
    text, links = wikipedia.parse_wikitext(wikitext)
    counts = Counter()
    namespaced = 0
    for link in links:
        if ":" in link.target and link.target.partition(":")[0] in _NAMESPACES:
            namespaced += 1
            continue
        counts[(text[link.start:link.end], link.target)] += 1
    return title, counts, namespaced


def _links_chunk(items):
    return [_article_links(item) for item in items]


_NAME_PREFIXES: Set[Tuple[str, ...]] = set()
_NAMES: Set[Tuple[str, ...]] = set()
_MAX_TOKENS = 0


def _init_name_counter(names, prefixes, max_tokens):
    global _NAMES, _NAME_PREFIXES, _MAX_TOKENS
    _NAMES, _NAME_PREFIXES, _MAX_TOKENS = names, prefixes, max_tokens


def _names_in(text: str) -> Set[Tuple[str, ...]]:
    """Anchor names occurring in ``text`` as token n-grams (prefix-pruned scan)."""
    tokens = mention_tokens(text)
    found = set()
    for i in range(len(tokens)):
        for j in range(i + 1, min(i + _MAX_TOKENS, len(tokens)) + 1):
            gram = tuple(tokens[i:j])
            if gram not in _NAME_PREFIXES:
                break
            if gram in _NAMES:
                found.add(gram)
    return found


def _names_chunk(wikitexts: List[str]) -> Counter:
    counts = Counter()
    for wikitext in wikitexts:
        counts.update(_names_in(wikipedia.parse_wikitext(wikitext)[0]))
    return counts


def _article_chunks(dump_path, redirects: Optional[Dict[str, str]], stats: Optional[LinkDbStats],
                    size: int = 64) -> Iterator[List[Tuple[str, str]]]:
    """(title, wikitext) of the dump's articles in chunks; redirect pages go into ``redirects``."""
    chunk = []
    for page in tqdm(wikipedia.iter_pages(dump_path), desc="pages", unit="page", disable=None, leave=False):
        if page.namespace == 0 and page.redirect is not None and redirects is not None:
            redirects[page.title] = page.redirect
        elif page.is_article:
            chunk.append((page.title, page.wikitext))
            if len(chunk) == size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _map(function, chunks: Iterable, workers: int, initializer=None, initargs=()):
    if workers > 1:
        with Pool(workers, initializer=initializer, initargs=initargs) as pool:
            yield from pool.imap(function, chunks)
    else:
        if initializer is not None:
            initializer(*initargs)
        yield from map(function, chunks)


def build_wiki_link_db(dump_path, out_path, workers: int = 1, max_name_tokens: int = 20) -> Tuple[LinkDbStats,
                                                                                                 Dict[str, str]]:
    """Two passes over the dump (links and anchor counts, then the articles each anchor name occurs in),
    written atomically to ``out_path``. Returns (stats, the dump's redirects)."""
    out_path = os.fspath(out_path)
    tmp = f"{out_path}.tmp"
    if os.path.exists(tmp):
        os.remove(tmp)
    db = sqlite3.connect(tmp)
    db.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE links (title TEXT, anchor TEXT, name TEXT, target TEXT, count INTEGER);
        CREATE TABLE names (name TEXT PRIMARY KEY, link_count INTEGER, doc_count INTEGER);
        CREATE TABLE redirects (source TEXT PRIMARY KEY, target TEXT);
    """)
    stats, redirects, link_counts = LinkDbStats(), {}, Counter()
    logger.info("pass 1/2: links of every article")
    for results in _map(_links_chunk, _article_chunks(dump_path, redirects, stats), workers):
        rows = []
        for title, counts, namespaced in results:
            stats.articles += 1
            stats.namespaced_links += namespaced
            for (anchor, target), count in counts.items():
                tokens = mention_tokens(anchor)
                if not tokens:
                    continue
                stats.links += count
                if len(tokens) > max_name_tokens:
                    stats.long_anchors += count
                    continue
                name = " ".join(tokens)
                link_counts[name] += count
                rows.append((title, anchor, name, target, count))
        db.executemany("INSERT INTO links VALUES (?, ?, ?, ?, ?)", rows)
    stats.redirects = len(redirects)
    stats.names = len(link_counts)
    logger.info("pass 2/2: articles each of %d anchor names occurs in", len(link_counts))
    names = {tuple(name.split(" ")) for name in link_counts}
    prefixes = {name[:k] for name in names for k in range(1, len(name) + 1)}
    doc_counts = Counter()
    texts = ([text for _, text in chunk] for chunk in _article_chunks(dump_path, None, None))
    for counts in _map(_names_chunk, texts, workers, _init_name_counter, (names, prefixes, max_name_tokens)):
        doc_counts.update(counts)
    db.executemany("INSERT INTO names VALUES (?, ?, ?)",
                   ((name, count, doc_counts[tuple(name.split(" "))]) for name, count in link_counts.items()))
    db.executemany("INSERT INTO redirects VALUES (?, ?)", redirects.items())
    db.execute("CREATE INDEX links_title ON links (title)")
    meta = {"schema": SCHEMA_VERSION, "dump": os.path.abspath(os.fspath(dump_path)),
            "max_name_tokens": str(max_name_tokens), "articles": str(stats.articles)}
    db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
    db.commit()
    db.close()
    os.replace(tmp, out_path)
    return stats, redirects
