"""Entity-level micro F1 exactly as ``seqeval`` computes it (its default, conlleval-compatible mode).

Chunks are read from IOB1, IOB2 (and IOE/IOBES) tags with seqeval's begin/end rules, so an
IOB1 ``I-PER`` after ``O`` opens a chunk and ``I-PER I-LOC`` are two chunks; counts go
through :class:`~fairseq_plugins.metrics.span_f1.SpanCounts`.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

from .span_f1 import SpanCounts

Chunk = Tuple[str, int, int]  # (type, first index, last index), inclusive as seqeval reports them


def _split(tag: str) -> Tuple[str, str]:
    return tag[0], tag[1:].split("-", 1)[-1] or "_"


def _ends(prev_tag, tag, prev_type, type_) -> bool:
    return (prev_tag in ("E", "S")
            or (prev_tag in ("B", "I") and tag in ("B", "S", "O"))
            or (prev_tag not in ("O", ".") and prev_type != type_))


def _starts(prev_tag, tag, prev_type, type_) -> bool:
    return (tag in ("B", "S")
            or (prev_tag in ("E", "S", "O") and tag in ("E", "I"))
            or (tag not in ("O", ".") and prev_type != type_))


def get_entities(tags: Sequence[str]) -> List[Chunk]:
    """seqeval's ``get_entities`` for one tag sequence."""
    chunks, prev_tag, prev_type, begin = [], "O", "", 0
    for i, tag in enumerate(list(tags) + ["O"]):
        tag_, type_ = _split(tag)
        if _ends(prev_tag, tag_, prev_type, type_):
            chunks.append((prev_type, begin, i - 1))
        if _starts(prev_tag, tag_, prev_type, type_):
            begin = i
        prev_tag, prev_type = tag_, type_
    return chunks


def entity_f1(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> SpanCounts:
    """Micro counts over sentences (seqeval joins sentences with ``O``, so chunks never cross them)."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences but {len(predicted)} predicted")
    counts = SpanCounts()
    for g, p in zip(gold, predicted):
        if len(g) != len(p):
            raise ValueError(f"sentence lengths differ: {len(g)} gold tags, {len(p)} predicted")
        counts.add(get_entities(p), get_entities(g))
    return counts


def spans_to_iob2(length: int, spans: Sequence[Tuple[int, int, str]]) -> List[str]:
    """Tags for non-overlapping ``(first word, last word, type)`` spans."""
    tags = ["O"] * length
    for start, end, label in spans:
        tags[start] = f"B-{label}"
        for i in range(start + 1, end + 1):
            tags[i] = f"I-{label}"
    return tags
