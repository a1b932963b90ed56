"""Examples -> model inputs for LEAR: token ids, token-level gold spans, windows of long texts.

Character spans become token spans through the tokenizer's character offsets
(:meth:`~fairseq_plugins.tokenization.VocabTokenizer.encode_with_offsets`; an entity
must start where a token starts and end where one ends), never by searching for the string.
Texts longer than a window are cut into consecutive windows of ``max_length - 2`` tokens, each
read as ``[CLS] tokens [SEP]``. A gold entity no window can hold (it crosses a window edge, or
its offsets fall inside a token) stays in the gold set as a miss: it is counted on the
example's first window (``missed``) and reported, never dropped.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import List, Sequence, Tuple

import torch

from .lear_formats import NerExample
from .token_windows import window_width
from .token_windows import windows as text_windows

logger = logging.getLogger(__name__)


@dataclass
class LearWindow:
    example: int  # index of the example in its file
    tokens: List[int]  # [CLS] text tokens [SEP]
    offsets: List[Tuple[int, int]]  # character offsets of the text tokens (position p holds offsets[p - 1])
    spans: List[Tuple[int, int, int]]  # gold (start position, end position inclusive, label id); [CLS] is 0
    missed: int = 0  # gold entities of the example that no window holds


@dataclass
class FeaturizeStats:
    examples: int = 0
    windows: int = 0
    entities: int = 0
    cut: int = 0  # crossing a window edge
    unaligned: int = 0  # offsets not on token boundaries
    cut_examples: List[int] = field(default_factory=list)

    def report(self, name: str) -> str:
        return (f"{name}: {self.examples} texts in {self.windows} windows, {self.entities} gold entities; "
                f"{self.cut} cut by a window edge and {self.unaligned} not on token boundaries "
                f"(kept in gold as misses)")


def featurize(examples: Sequence[NerExample], tokenizer, label_to_id, max_length: int):
    """Windows of every example (see the module docstring) and the counts to report."""
    width = window_width(max_length)
    cls, sep = tokenizer.dictionary.bos(), tokenizer.dictionary.eos()
    stats = FeaturizeStats(examples=len(examples))
    windows = []
    encoded = tokenizer.encode_with_offsets([e.text for e in examples])
    for index, (example, (ids, offsets)) in enumerate(zip(examples, encoded)):
        token_of_start = {start: i for i, (start, end) in enumerate(offsets) if end > start}
        token_of_end = {end: i for i, (start, end) in enumerate(offsets) if end > start}
        first = len(windows)
        for lo, tokens in text_windows(ids, width, cls, sep):
            windows.append(LearWindow(index, tokens, offsets[lo:lo + width], []))
        missed = 0
        for start, end, label in example.entities:
            stats.entities += 1
            i, j = token_of_start.get(start), token_of_end.get(end)
            if i is None or j is None or j < i:
                stats.unaligned += 1
                missed += 1
            elif i // width != j // width:
                stats.cut += 1
                missed += 1
            else:
                windows[first + i // width].spans.append((i % width + 1, j % width + 1, label_to_id[label]))
        windows[first].missed = missed
        if missed:
            stats.cut_examples.append(index)
    stats.windows = len(windows)
    return windows, stats


def encode_label_annotations(tokenizer, annotations: Sequence[str], max_length: int) -> torch.Tensor:
    """``[CLS] description [SEP]`` per label, padded: the label-side input the encoder reads every forward."""
    dictionary = tokenizer.dictionary
    rows = [[dictionary.bos(), *ids[:max_length - 2], dictionary.eos()]
            for ids in tokenizer.encode_batch(list(annotations))]
    out = torch.full((len(rows), max(map(len, rows))), dictionary.pad(), dtype=torch.long)
    for r, row in enumerate(rows):
        out[r, :len(row)] = torch.tensor(row)
    return out
