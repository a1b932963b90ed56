"""BLINK's two jsonl formats: mentions and a knowledge base (KB), read with validation.

Mention lines: ``context_left, mention, context_right, label_id, label_title, label, world``
(``world`` optional; top-k files add ``candidates``, a list of entity ids); KB lines: ``id, title, text, world`` (``world`` optional). Ids are
strings (integers are accepted and read as their decimal spelling). A KB may not fit in
memory, so :class:`KnowledgeBase` keeps one byte offset per entity and reads an entity's line
when asked; :func:`iter_kb` streams it. Structural faults (bad JSON, a missing or mistyped
field, a duplicate id) raise :class:`InputError`; mentions that cannot be used (label not in
the KB, empty mention) are skipped, counted by reason and reported.
"""
from __future__ import annotations

import json
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional

import numpy as np

from ..errors import InputError

logger = logging.getLogger(__name__)

MENTION_FIELDS = ("context_left", "mention", "context_right", "label_id", "label_title", "label")


@dataclass
class Entity:
    id: str
    title: str
    text: str
    world: Optional[str] = None


@dataclass
class Mention:
    context_left: str
    mention: str
    context_right: str
    label_id: str
    label_title: str
    label: str
    world: Optional[str] = None
    line: int = 0
    candidates: Optional[List[str]] = None  # retrieved entity ids, in top-k files


def _candidates(obj: dict, path, line: int) -> Optional[List[str]]:
    value = obj.get("candidates")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in value):
        raise InputError(path, "expected a list of entity ids", line=line, field="candidates")
    return [str(c) for c in value]


@dataclass
class SkipCounts:
    """Mentions read and those skipped, by reason, so that callers can report them."""

    read: int = 0
    skipped: Counter = field(default_factory=Counter)

    def skip(self, reason: str):
        self.skipped[reason] += 1

    def report(self, path) -> str:
        kept = self.read - sum(self.skipped.values())
        reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items())) or "none skipped"
        return f"{path}: {kept} of {self.read} mentions kept ({reasons})"


def _string(obj: dict, key: str, path, line: int, optional: bool = False) -> Optional[str]:
    value = obj.get(key)
    if value is None:
        if optional:
            return None
        raise InputError(path, "missing", line=line, field=key)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InputError(path, f"expected a string, got {type(value).__name__}", line=line, field=key)
    return str(value)


def json_lines(path) -> Iterator[tuple]:
    """(line number, byte offset, object) for every non-blank line."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(path, "file not found")
    with open(path, "rb") as f:
        offset = 0
        for number, raw in enumerate(f, 1):
            start, offset = offset, offset + len(raw)
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise InputError(path, f"not a JSON line ({e})", line=number)
            if not isinstance(obj, dict):
                raise InputError(path, f"expected a JSON object, got {type(obj).__name__}", line=number)
            yield number, start, obj


def _entity(obj: dict, path, line: int) -> Entity:
    entity = Entity(_string(obj, "id", path, line), _string(obj, "title", path, line),
                    _string(obj, "text", path, line), _string(obj, "world", path, line, optional=True))
    if not entity.id:
        raise InputError(path, "empty id", line=line, field="id")
    if not entity.title.strip() and not entity.text.strip():
        raise InputError(path, "entity has neither title nor text", line=line, field="title")
    return entity


def iter_kb(path) -> Iterator[Entity]:
    """Stream a KB jsonl (no duplicate check: :class:`KnowledgeBase` does that)."""
    for number, _, obj in json_lines(path):
        yield _entity(obj, path, number)


class KnowledgeBase:
    """Random access to a KB jsonl by id or row, holding only offsets and ids in memory.

    Duplicate ids are an error: a mention's label would be ambiguous. Entities without
    description (title-only, e.g. distractors) are allowed and counted.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        offsets: List[int] = []
        self.ids: List[str] = []
        self.worlds: List[Optional[str]] = []
        self.row_of: Dict[str, int] = {}
        self.title_only = 0
        for number, start, obj in json_lines(self.path):
            entity = _entity(obj, self.path, number)
            if entity.id in self.row_of:
                raise InputError(self.path, f"duplicate id {entity.id!r} (first on entity row "
                                            f"{self.row_of[entity.id]})", line=number, field="id")
            self.row_of[entity.id] = len(offsets)
            offsets.append(start)
            self.ids.append(entity.id)
            self.worlds.append(entity.world)
            self.title_only += not entity.text.strip()
        if not offsets:
            raise InputError(self.path, "knowledge base is empty")
        self.offsets = np.asarray(offsets, dtype=np.int64)
        if self.title_only:
            logger.info("%s: %d of %d entities have no description (title only)", self.path,
                        self.title_only, len(self))

    def __len__(self) -> int:
        return len(self.offsets)

    def __contains__(self, entity_id: str) -> bool:
        return entity_id in self.row_of

    def entity(self, row: int) -> Entity:
        with open(self.path, "rb") as f:
            f.seek(int(self.offsets[row]))
            return _entity(json.loads(f.readline()), self.path, None)

    def get(self, entity_id: str) -> Entity:
        return self.entity(self.row_of[entity_id])

    def entities(self, rows) -> List[Entity]:
        """Entities of many rows with one open file (reads in offset order)."""
        out = [None] * len(rows)
        with open(self.path, "rb") as f:
            for i in sorted(range(len(rows)), key=lambda i: self.offsets[rows[i]]):
                f.seek(int(self.offsets[rows[i]]))
                out[i] = _entity(json.loads(f.readline()), self.path, None)
        return out


def read_mentions(path, kb: Optional[KnowledgeBase] = None, counts: Optional[SkipCounts] = None) -> List[Mention]:
    """Mentions of a jsonl file; with ``kb``, those whose label is not in it are skipped and counted."""
    counts = counts if counts is not None else SkipCounts()
    mentions = []
    for number, _, obj in json_lines(path):
        counts.read += 1
        values = {key: _string(obj, key, path, number) for key in MENTION_FIELDS}
        mention = Mention(**values, world=_string(obj, "world", path, number, optional=True), line=number,
                          candidates=_candidates(obj, path, number))
        if not mention.mention.strip():
            counts.skip("empty mention")
            continue
        if kb is not None and mention.label_id not in kb:
            counts.skip("label not in the knowledge base")
            continue
        mentions.append(mention)
    if counts.read == 0:
        raise InputError(path, "no mentions")
    logger.info(counts.report(path))
    return mentions


def write_jsonl(path, records) -> int:
    """Write dicts one a line (atomically); returns the number written."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    n = 0
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    os.replace(path + ".tmp", path)
    return n
