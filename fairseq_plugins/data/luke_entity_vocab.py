"""LUKE's entity vocabulary in its three file forms, and its builder from a Wikipedia dump.

Forms (picked by file extension):
- ``.tsv``: ``title<TAB>count`` per line, the id is the line index (LUKE's EMNLP'20 release);
- ``.jsonl``: ``{"id": int, "entities": [[title, language], ...], "count": int}`` per line (current
  LUKE; several titles may share an id, as in mLUKE);
- ``.json``: Hugging Face's flat ``{title: id}`` (mLUKE keys are ``language:title``).
Special entities (``[PAD]``, ``[UNK]``, ``[MASK]``, ``[MASK2]``) keep the ids their file gives
them: ``[PAD]`` is 0 in LUKE's 500K vocabulary but 2 in the lite one.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing import Pool
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from .json_files import read_json_object
from .text_files import text_lines
from ..errors import InputError
from . import wikipedia


PAD, UNK, MASK, MASK2 = "[PAD]", "[UNK]", "[MASK]", "[MASK2]"
SPECIALS = (PAD, UNK, MASK, MASK2)
# Hugging Face's LUKE-lite vocabulary: only the special entities, in this order.
LITE = (MASK, UNK, PAD, MASK2)

Title = Tuple[str, Optional[str]]  # (title, language or None)


class EntityVocab:
    """Ids 0..n-1, each with one or more (title, language) names and a link count."""

    def __init__(self, names: Sequence[Sequence[Title]], counts: Optional[Sequence[int]] = None,
                 source: str = "<memory>"):
        self.source = source
        self.names = [list(dict.fromkeys(n)) for n in names]  # mLUKE lists a special entity once per language
        self.counts = list(counts) if counts is not None else [0] * len(self.names)
        self.ids: Dict[Title, int] = {}
        for index, titles in enumerate(self.names):
            for name in titles:
                if name in self.ids:
                    raise InputError(source, f"entity {name[0]!r} has ids {self.ids[name]} and {index}",
                                     field="title")
                self.ids[name] = index
        for special in (PAD, UNK, MASK):
            if (special, None) not in self.ids:
                raise InputError(source, f"no {special} entity: LUKE needs [PAD], [UNK] and [MASK]")

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, title: str) -> bool:
        return (title, None) in self.ids

    def special(self, name: str) -> Optional[int]:
        return self.ids.get((name, None))

    @property
    def pad(self) -> int:
        return self.ids[(PAD, None)]

    @property
    def unk(self) -> int:
        return self.ids[(UNK, None)]

    @property
    def mask(self) -> int:
        return self.ids[(MASK, None)]

    def index(self, title: str, language: Optional[str] = None) -> int:
        """The id of a title, ``[UNK]`` when absent (callers count those)."""
        return self.ids.get((title, language), self.unk)

    def title(self, index: int) -> str:
        return self.names[index][0][0]

    @classmethod
    def lite(cls) -> "EntityVocab":
        """The special entities only, as Hugging Face's LUKE-lite models have them."""
        return cls([[(name, None)] for name in LITE], source="<lite>")

    # ---- files -------------------------------------------------------------------------------------

    @classmethod
    def load(cls, path) -> "EntityVocab":
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise InputError(path, "entity vocabulary not found")
        if path.endswith(".jsonl"):
            return cls._load_jsonl(path)
        if path.endswith(".json"):
            return cls._load_json(path)
        return cls._load_tsv(path)

    @classmethod
    def _load_tsv(cls, path):
        names, counts = [], []
        for number, line in _lines(path):
            title, tab, count = line.rpartition("\t")
            if not tab or not title:
                raise InputError(path, f"expected 'title<TAB>count', got {line!r}", line=number)
            if not count.isdigit():
                raise InputError(path, f"count {count!r} is not a number", line=number, field="count")
            names.append([(title, None)])
            counts.append(int(count))
        return cls(names, counts, source=path)

    @classmethod
    def _load_jsonl(cls, path):
        by_id: Dict[int, Tuple[List[Title], int]] = {}
        for number, line in _lines(path):
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(path, f"malformed JSON ({e})", line=number)
            index, entities = record.get("id") if isinstance(record, dict) else None, None
            if not isinstance(index, int) or isinstance(index, bool) or index < 0:
                raise InputError(path, f"missing or invalid id {index!r}", line=number, field="id")
            entities = record.get("entities")
            if (not isinstance(entities, list) or not entities
                    or not all(isinstance(e, list) and len(e) == 2 and isinstance(e[0], str)
                               and isinstance(e[1], (str, type(None))) for e in entities)):
                raise InputError(path, "expected a non-empty list of [title, language] pairs", line=number,
                                 field="entities")
            count = record.get("count", 0)
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise InputError(path, f"expected a non-negative integer, got {count!r}", line=number, field="count")
            if index in by_id:
                raise InputError(path, f"id {index} repeats", line=number, field="id")
            # Special entities are language-free wherever they appear.
            titles = [(t, None if t in SPECIALS else lang or None) for t, lang in entities]
            by_id[index] = (titles, count)
        return cls(*_dense(by_id, path), source=path)

    @classmethod
    def _load_json(cls, path):
        mapping = read_json_object(path, "an entity vocabulary mapping title -> id")
        by_id: Dict[int, Tuple[List[Title], int]] = {}
        for title, index in mapping.items():
            if not isinstance(index, int) or index < 0:
                raise InputError(path, f"id {index!r} is not a non-negative integer", field=repr(title))
            by_id.setdefault(index, ([], 0))[0].append((title, None))
        return cls(*_dense(by_id, path), source=path)

    def save(self, path) -> None:
        path = os.fspath(path)
        with open(path, "w", encoding="utf-8") as f:
            if path.endswith(".jsonl"):
                for index, (titles, count) in enumerate(zip(self.names, self.counts)):
                    entities = [[t, lang or ""] for t, lang in titles]
                    f.write(json.dumps({"id": index, "entities": entities, "count": count},
                                       ensure_ascii=False) + "\n")
            elif path.endswith(".json"):
                json.dump({(f"{lang}:{t}" if lang else t): i for (t, lang), i in self.ids.items()}, f,
                          ensure_ascii=False)
            else:
                for titles, count in zip(self.names, self.counts):
                    f.write(f"{titles[0][0]}\t{count}\n")


FILE_NAMES = ("entity_vocab.json", "entity_vocab.jsonl", "entity_vocab.tsv")


def find_entity_vocab(folder) -> Optional[EntityVocab]:
    """The entity vocabulary of a model folder, in whichever form it has (None when it has none)."""
    for name in FILE_NAMES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return EntityVocab.load(path)
    return None


def _lines(path) -> Iterator[Tuple[int, str]]:
    """Non-blank lines with their numbers."""
    return ((number, line) for number, line in text_lines(path, "entity vocabulary") if line)


def _dense(by_id, path):
    """Names and counts in id order; ids must be exactly 0..n-1 (they index the embedding table)."""
    missing = [i for i in range(len(by_id)) if i not in by_id]
    if missing:
        raise InputError(path, f"ids are not contiguous: {len(by_id)} entities but id {missing[0]} is missing",
                         field="id")
    return [by_id[i][0] for i in range(len(by_id))], [by_id[i][1] for i in range(len(by_id))]


# ---- building from a dump ----------------------------------------------------------------------------

@dataclass
class BuildStats:
    articles: int = 0
    redirects: int = 0
    links: int = 0
    namespaced_links: int = 0
    distinct_targets: int = 0
    below_min_count: int = 0
    beyond_max_size: int = 0
    top: List[Tuple[str, int]] = field(default_factory=list)


def _count_links(wikitexts: List[str]) -> Counter:
    counts = Counter()
    for text in wikitexts:
        counts.update(link.target for link in wikipedia.parse_wikitext(text)[1])
    return counts


def _chunks(pages: Iterable[wikipedia.Page], redirects: Dict[str, str], stats: BuildStats,
            size: int = 64) -> Iterator[List[str]]:
    chunk = []
    for page in pages:
        if page.namespace == 0 and page.redirect is not None:
            redirects[page.title] = page.redirect
            stats.redirects += 1
        elif page.is_article:
            stats.articles += 1
            chunk.append(page.wikitext)
            if len(chunk) == size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def build_entity_vocab(dump_path, max_size: int = 500_000, min_count: int = 1, workers: int = 1,
                       ) -> Tuple[EntityVocab, BuildStats]:
    """``[PAD] [UNK] [MASK]`` (ids 0-2, as LUKE's builder), then the most linked article titles.

    Link targets are resolved through the dump's redirects after the whole dump is read, so
    a redirect page that comes after the link still counts. Links into other namespaces
    (``Category:``, ``File:``, ...) are not entities and are counted as skipped.
    """
    stats = BuildStats()
    redirects: Dict[str, str] = {}
    raw = Counter()
    chunks = _chunks(wikipedia.iter_pages(dump_path), redirects, stats)
    if workers > 1:
        with Pool(workers) as pool:
            for counts in pool.imap_unordered(_count_links, chunks):
                raw.update(counts)
    else:
        for chunk in chunks:
            raw.update(_count_links(chunk))
    namespaces = set(wikipedia.NAMESPACES.values())
    resolved = Counter()
    for target, count in raw.items():
        stats.links += count
        if target.partition(":")[0] in namespaces and ":" in target:
            stats.namespaced_links += count
            continue
        resolved[wikipedia.resolve_redirect(target, redirects)] += count
    stats.distinct_targets = len(resolved)
    ranked = sorted(resolved.items(), key=lambda item: (-item[1], item[0]))
    kept = [item for item in ranked if item[1] >= min_count and item[0] not in SPECIALS]
    stats.below_min_count = len(ranked) - len(kept)
    room = max(max_size - 3, 0)
    stats.beyond_max_size = max(len(kept) - room, 0)
    kept = kept[:room]
    stats.top = kept[:10]
    names = [[(PAD, None)], [(UNK, None)], [(MASK, None)]] + [[(title, None)] for title, _ in kept]
    counts = [0, 0, 0] + [count for _, count in kept]
    return EntityVocab(names, counts, source=os.fspath(dump_path)), stats
