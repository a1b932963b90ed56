"""Entity linking of given mentions: biencoder top-k over an encoded KB, optionally reranked.

Input lines are either texts with character spans, ``{"id", "text", "mentions": [{"start",
"end"}]}`` (``end`` exclusive; a mention may carry its surface form as ``"mention"``, which must
equal ``text[start:end]``; ``"world"`` on the text or the mention restricts the search with
``--restrict-to-world``), or BLINK's mention rows ``{"context_left", "mention",
"context_right"}``. Every input line gives one output line, ``{"id", "mentions": [...]}``, each
mention with its ``entities`` (``id``, ``title``, ``score``; best first) or with ``skipped``
and the reason (span outside the text, span not matching its surface form, empty mention,
world not in the KB): nothing is dropped, and :class:`SkipCounts` totals the reasons.
Malformed lines (not JSON, missing or mistyped fields) raise :class:`InputError`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, List, Optional, Set, TextIO, Tuple

from ..data.blink_formats import KnowledgeBase, SkipCounts
from ..errors import InputError
from .blink_models import encode_mentions
from .reranking import CrossencoderReranker

# Characters of text kept each side of a mention before tokenizing: ample for the token budget
# (a word piece is rarely over 16 characters) without tokenizing whole documents per mention.
CHARS_PER_TOKEN = 16

SPAN_OUTSIDE = "span outside the text"
SPAN_MISMATCH = "span does not match its mention text"
EMPTY_MENTION = "empty mention"
UNKNOWN_WORLD = "world not in the knowledge base"


@dataclass
class LinkMention:
    context_left: str
    mention: str
    context_right: str
    world: Optional[str]
    output: dict  # the mention's output record, filled in by the linker


@dataclass
class LinkRecord:
    line: int
    output: dict
    mentions: List[LinkMention] = field(default_factory=list)


def _int(value, path, line, name) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(path, f"expected an integer character offset, got {json.dumps(value)}", line=line,
                         field=name)
    return value


def _str(obj: dict, key: str, path, line, name: Optional[str] = None, optional: bool = False) -> Optional[str]:
    value = obj.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InputError(path, "missing" if value is None else f"expected a string, got {type(value).__name__}",
                         line=line, field=name or key)
    return value


class InputParser:
    """Turns input lines into :class:`LinkRecord`; skips are counted in ``counts``."""

    def __init__(self, path: str, context_chars: int, counts: SkipCounts, restrict_to_world: bool = False,
                 known_worlds: Optional[Set[Optional[str]]] = None):
        self.path = path
        self.context_chars = context_chars
        self.counts = counts
        self.restrict_to_world = restrict_to_world
        self.known_worlds = known_worlds

    def records(self, lines: Iterable[str]) -> Iterator[LinkRecord]:
        for number, raw in enumerate(lines, 1):
            if raw.strip():
                yield self.parse(raw, number)

    def parse(self, raw: str, line: int) -> LinkRecord:
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as e:
            raise InputError(self.path, f"not a JSON line ({e})", line=line)
        if not isinstance(obj, dict):
            raise InputError(self.path, f"expected a JSON object, got {type(obj).__name__}", line=line)
        record = LinkRecord(line, {"id": obj.get("id", line), "mentions": []})
        if "text" in obj or "mentions" in obj:
            self._text_record(obj, record)
        elif "mention" in obj:
            left, right = (_str(obj, k, self.path, line) for k in ("context_left", "context_right"))
            self._add(record, left, _str(obj, "mention", self.path, line), right, obj.get("world"), "world", {})
        else:
            raise InputError(self.path, "expected \"text\" with \"mentions\", or BLINK's \"context_left\", "
                                        "\"mention\", \"context_right\"", line=line)
        return record

    def _text_record(self, obj: dict, record: LinkRecord):
        path, line = self.path, record.line
        text = _str(obj, "text", path, line)
        spans = obj.get("mentions")
        if not isinstance(spans, list):
            raise InputError(path, "expected a list of {\"start\", \"end\"}", line=line, field="mentions")
        for i, span in enumerate(spans):
            name = f"mentions[{i}]"
            if not isinstance(span, dict):
                raise InputError(path, "expected an object with start and end", line=line, field=name)
            start, end = (_int(span.get(k), path, line, f"{name}.{k}") for k in ("start", "end"))
            out = {"start": start, "end": end}
            self.counts.read += 1
            if not 0 <= start <= end <= len(text):
                self._skip(record, out, SPAN_OUTSIDE)
                continue
            surface = _str(span, "mention", path, line, f"{name}.mention", optional=True)
            if surface is not None and surface != text[start:end]:
                out["mention"] = surface
                self._skip(record, out, SPAN_MISMATCH)
                continue
            left = text[max(0, start - self.context_chars):start]
            right = text[end:end + self.context_chars]
            world = span.get("world", obj.get("world"))
            self._add(record, left, text[start:end], right, world, f"{name}.world", out, counted=True)

    def _add(self, record: LinkRecord, left: str, mention: str, right: str, world, world_field: str, out: dict,
             counted: bool = False):
        if not counted:
            self.counts.read += 1
        out["mention"] = mention
        if world is not None and not isinstance(world, str):
            raise InputError(self.path, f"expected a string, got {type(world).__name__}", line=record.line,
                             field=world_field)
        if not mention.strip():
            return self._skip(record, out, EMPTY_MENTION)
        if self.restrict_to_world:
            if world is None:
                raise InputError(self.path, "--restrict-to-world needs every mention's world", line=record.line,
                                 field=world_field)
            if self.known_worlds is not None and world not in self.known_worlds:
                out["world"] = world
                return self._skip(record, out, UNKNOWN_WORLD)
        record.output["mentions"].append(out)
        record.mentions.append(LinkMention(left, mention, right, world, out))

    def _skip(self, record: LinkRecord, out: dict, reason: str):
        self.counts.skip(reason)
        out["skipped"] = reason
        record.output["mentions"].append(out)


class Linker:
    """Links batches of :class:`LinkMention` in place (fills each ``output["entities"]``)."""

    def __init__(self, task, model, kb: KnowledgeBase, encoded, index, top_k: int = 10,
                 restrict_to_world: bool = False, reranker: Optional[CrossencoderReranker] = None,
                 batch_size: int = 64):
        if list(encoded.ids) != list(kb.ids):
            raise InputError(encoded.folder, f"encoded for another knowledge base than {kb.path}")
        self.task, self.model, self.kb, self.encoded, self.index = task, model, kb, encoded, index
        self.top_k = top_k
        self.restrict_to_world = restrict_to_world
        self.reranker = reranker
        self.batch_size = batch_size

    def link(self, mentions: List[LinkMention]):
        if not mentions:
            return
        queries = encode_mentions(self.task, self.model, [m.context_left for m in mentions],
                                  [m.mention for m in mentions], [m.context_right for m in mentions], self.batch_size)
        if self.restrict_to_world:
            scores, rows = self.index.search(queries, [m.world for m in mentions], self.top_k)
        else:
            scores, rows = self.index.search(queries, self.top_k)
        found = [[(int(r), float(s)) for r, s in zip(rs, ss) if r >= 0] for rs, ss in zip(rows, scores)]
        unique = sorted({r for f in found for r, _ in f})
        titles = dict(zip(unique, (e.title for e in self.kb.entities(unique))))
        entities = [[{"id": self.kb.ids[r], "title": titles[r], "score": round(s, 5)} for r, s in f] for f in found]
        if self.reranker is not None:
            cross = self.reranker.score([m.context_left for m in mentions], [m.mention for m in mentions],
                                        [m.context_right for m in mentions], [[e["id"] for e in es] for es in entities])
            for i, (es, cs) in enumerate(zip(entities, cross)):
                for e, c in zip(es, cs):
                    e["biencoder_score"], e["score"] = e["score"], round(float(c), 5)
                entities[i] = sorted(es[:len(cs)], key=lambda e: -e["score"])
        for m, es in zip(mentions, entities):
            m.output["entities"] = es


def link_stream(records: Iterable[LinkRecord], linker: Linker, write: Callable[[dict], None],
                batch_size: int = 64, on_record: Optional[Callable[[], None]] = None) -> Tuple[int, int]:
    """Link records in batches of about ``batch_size`` mentions (0: each record as it arrives);
    outputs are written in input order. Returns (records, mentions linked)."""
    pending: List[LinkRecord] = []
    n_records = n_linked = waiting = 0

    def flush():
        nonlocal n_linked, waiting
        mentions = [m for r in pending for m in r.mentions]
        linker.link(mentions)
        n_linked += len(mentions)
        for r in pending:
            write(r.output)
        pending.clear()
        waiting = 0

    for record in records:
        pending.append(record)
        n_records += 1
        waiting += len(record.mentions)
        if waiting >= batch_size:
            flush()
        if on_record:
            on_record()
    flush()
    return n_records, n_linked


def jsonl_writer(out: TextIO, flush_each: bool = False) -> Callable[[dict], None]:
    def write(record: dict):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        if flush_each:
            out.flush()
    return write


def read_link_lines(path: str, stdin: TextIO) -> Iterator[str]:
    """Lines of ``path`` (``-``: standard input, read as they come)."""
    if path == "-":
        yield from iter(stdin.readline, "")
        return
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        raise InputError(path, f"cannot read ({e.strerror})")
    with f:
        yield from f

