"""LUKE inputs shared by its tasks: marked mentions, context windows, entity position tensors.

Entity typing and relation classification feed a text whose mentions are wrapped in marker
tokens (``<ent>``, ``<ent2>``) and one ``[MASK]``-like entity per mention whose positions run
from its opening marker through its closing one. NER shares the context window and the
position tensors.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch

from .example_dataset import ExampleDataset


def split_context(room: int, left_room: int, right_room: int) -> Tuple[int, int]:
    """Context (left, right) filling ``room`` as evenly as the available ``left_room``/``right_room`` allow."""
    left = min(left_room, max(room // 2, room - right_room))
    return left, min(right_room, room - left)


def span_positions(first: torch.Tensor, last: torch.Tensor, width: int) -> torch.Tensor:
    """Word positions ``first..last`` of each span, -1 padded to ``width`` (... x width)."""
    offsets = first.unsqueeze(-1) + torch.arange(width)
    return torch.where(offsets <= last.unsqueeze(-1), offsets, torch.full_like(offsets, -1))


@dataclass
class MentionExample:
    tokens: np.ndarray      # word-piece ids with <bos>/<eos> and markers
    firsts: np.ndarray      # E: token index of each entity's first position (its opening marker)
    lasts: np.ndarray       # E: token index of its last position (its closing marker)
    entity_ids: np.ndarray  # E
    target: np.ndarray      # C multi-hot (typing) or a 0-d label id (relation)
    index: int              # record number in the file


@dataclass
class MentionStats:
    examples: int = 0
    truncated: int = 0       # context cut to --max-seq-length (the mentions always kept)
    long_mentions: int = 0   # entity positions cut to --max-mention-length (LUKE does the same)


def mark_mentions(pieces: Sequence[Sequence[int]], mentions: Sequence[Tuple[int, int]],
                  markers: Sequence[Optional[int]], bos: int, eos: int, max_seq_length: int,
                  stats: MentionStats) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``<bos> ... m1 <marker> words <marker> ... <eos>``, mention ``m`` covering ``pieces[start:end]``.

    Mentions must not overlap; a marker of None adds no token. Returns (tokens, firsts, lasts).
    An over-long text loses context around the mentions (counted); mentions that do not fit raise."""
    flat: List[int] = []
    firsts, lasts = [0] * len(mentions), [0] * len(mentions)
    for w in range(len(pieces) + 1):
        for m, (start, end) in enumerate(mentions):
            if end == w:
                if markers[m] is not None:
                    flat.append(markers[m])
                lasts[m] = len(flat) - 1
        for m, (start, end) in enumerate(mentions):
            if start == w:
                firsts[m] = len(flat)
                if markers[m] is not None:
                    flat.append(markers[m])
        if w < len(pieces):
            flat.extend(pieces[w])
    for m in range(len(mentions)):
        if lasts[m] < firsts[m]:
            raise ValueError(f"mention {m + 1} has no word pieces")
    budget = max_seq_length - 2
    begin, end = 0, len(flat)
    if len(flat) > budget:
        lo, hi = min(firsts), max(lasts) + 1
        if hi - lo > budget:
            raise ValueError(f"the mentions span {hi - lo} word pieces, more than --max-seq-length {max_seq_length} "
                             f"allows")
        left, right = split_context(budget - (hi - lo), lo, len(flat) - hi)
        begin, end = lo - left, hi + right
        stats.truncated += 1
    tokens = np.array([bos] + flat[begin:end] + [eos], dtype=np.int64)
    shift = 1 - begin
    return tokens, np.array(firsts, dtype=np.int64) + shift, np.array(lasts, dtype=np.int64) + shift


class MentionDataset(ExampleDataset):
    """Collates :class:`MentionExample` s: padded words, one entity per mention, stacked targets."""

    def __init__(self, examples: Sequence[MentionExample], pad: int, entity_pad: int, max_mention_length: int):
        super().__init__(examples, pad)
        self.entity_pad = entity_pad
        self.max_mention_length = max_mention_length

    def num_tokens(self, index):
        return int(self.sizes[index]) + len(self.examples[index].entity_ids)

    def collater(self, indices):
        if not indices:
            return {}
        samples = [self.examples[i] for i in indices]
        batch, words = len(samples), max(len(s.tokens) for s in samples)
        entities = max(len(s.entity_ids) for s in samples)
        tokens = torch.full((batch, words), self.pad, dtype=torch.long)
        entity_ids = torch.full((batch, entities), self.entity_pad, dtype=torch.long)
        firsts = torch.zeros(batch, entities, dtype=torch.long)
        lasts = torch.full((batch, entities), -1, dtype=torch.long)
        for b, s in enumerate(samples):
            n = len(s.entity_ids)
            tokens[b, :len(s.tokens)] = torch.from_numpy(s.tokens)
            entity_ids[b, :n] = torch.from_numpy(s.entity_ids)
            firsts[b, :n], lasts[b, :n] = torch.from_numpy(s.firsts), torch.from_numpy(s.lasts)
        width = max(1, min(self.max_mention_length, int((lasts - firsts).max()) + 1))
        return {
            "id": torch.tensor([s.index for s in samples]),
            "nsentences": batch,
            "ntokens": int(tokens.ne(self.pad).sum()),
            "net_input": {"src_tokens": tokens, "entity_ids": entity_ids,
                          "entity_positions": span_positions(firsts, lasts, width)},
            "target": torch.from_numpy(np.stack([s.target for s in samples])),
        }
