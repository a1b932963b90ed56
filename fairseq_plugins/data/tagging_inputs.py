"""Tagged texts -> model inputs: sub-word tokens, a tag on each unit's first sub-token, windows.

Tokens are aligned to units through the tokenizer's character offsets
(:meth:`~fairseq_plugins.tokenization.VocabTokenizer.encode_with_offsets`): a token belongs to
the unit its first character lies in, and only a unit's first sub-token carries its tag (the
others are ignored by the loss and by decoding), as in BERT's NER recipe. A text longer than one
window is cut into consecutive windows of ``max_length - 2`` tokens, each read as
``[CLS] tokens [SEP]``; every unit still has its first sub-token in exactly one window, so
predictions are put back together over the whole text and no gold entity is lost. A unit the
tokenizer gives no token (only characters it deletes) is counted and predicted ``O``.
"""
from bisect import bisect_right
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import torch
from fairseq.data import data_utils

from .example_dataset import ExampleDataset
from .tagging import TaggedText
from .token_windows import window_width
from .token_windows import windows as text_windows

IGNORE = -100


@dataclass
class TaggingWindow:
    example: int  # index of the text in its file
    tokens: List[int]  # [CLS] tokens [SEP]
    units: List[int]  # per position: the unit whose first sub-token it is, else -1
    targets: Optional[List[int]]  # per position: that unit's tag id, else IGNORE; None without labels


@dataclass
class AlignStats:
    examples: int = 0
    windows: int = 0
    windowed: int = 0  # texts longer than one window
    units: int = 0
    untokenized: int = 0  # units with no token: predicted O

    def report(self, name: str) -> str:
        return (f"{name}: {self.examples} texts in {self.windows} windows ({self.windowed} longer than one), "
                f"{self.units} tagged units, {self.untokenized} with no token (predicted O)")


def first_subtokens(units: Sequence[tuple], offsets: Sequence[tuple]) -> List[int]:
    """Per token: the index of the unit it is the first sub-token of, else -1."""
    starts = [start for start, _ in units]
    out, seen = [], set()
    for start, end in offsets:
        unit = bisect_right(starts, start) - 1 if end > start else -1
        if unit >= 0 and start < units[unit][1] and unit not in seen:
            seen.add(unit)
            out.append(unit)
        else:
            out.append(-1)
    return out


def featurize(examples: Sequence[TaggedText], tokenizer, tag_to_id: Dict[str, int], max_length: int):
    """Windows of every text (see the module docstring) and the counts to report."""
    width = window_width(max_length)
    cls, sep = tokenizer.dictionary.bos(), tokenizer.dictionary.eos()
    stats = AlignStats(examples=len(examples))
    windows = []
    encoded = tokenizer.encode_with_offsets([e.text for e in examples])
    for index, (example, (ids, offsets)) in enumerate(zip(examples, encoded)):
        units = first_subtokens(example.units, offsets)
        stats.units += len(example.units)
        stats.untokenized += len(example.units) - sum(u >= 0 for u in units)
        targets = None
        if example.tags is not None:
            targets = [tag_to_id[example.tags[u]] if u >= 0 else IGNORE for u in units]
        stats.windowed += len(ids) > width
        for lo, tokens in text_windows(ids, width, cls, sep):
            windows.append(TaggingWindow(index, tokens, [-1, *units[lo:lo + width], -1],
                                         None if targets is None else [IGNORE, *targets[lo:lo + width], IGNORE]))
    stats.windows = len(windows)
    return windows, stats


def assemble(examples: Sequence[TaggedText], windows: Sequence[TaggingWindow],
             predicted: Sequence[Sequence[str]]) -> List[List[str]]:
    """Per text, one tag per unit from its windows' predictions (``predicted[w][p]`` for position
    ``p`` of window ``w``); units without a token read ``O``."""
    tags = [["O"] * len(e.units) for e in examples]
    for window, window_tags in zip(windows, predicted):
        for unit, tag in zip(window.units, window_tags):
            if unit >= 0:
                tags[window.example][unit] = tag
    return tags


class TaggingDataset(ExampleDataset):
    """Batches of ``src_tokens``, ``target`` (IGNORE off first sub-tokens) and ``units``."""

    def collater(self, indices):
        if len(indices) == 0:
            return {}
        windows = [self.examples[i] for i in indices]
        tokens = data_utils.collate_tokens([torch.tensor(w.tokens) for w in windows], self.pad)
        sample = {
            "id": torch.tensor(indices),
            "nsentences": len(windows),
            "ntokens": sum(len(w.tokens) for w in windows),
            "net_input": {"src_tokens": tokens},
            "units": data_utils.collate_tokens([torch.tensor(w.units) for w in windows], -1),
        }
        if all(w.targets is not None for w in windows):
            sample["target"] = data_utils.collate_tokens([torch.tensor(w.targets) for w in windows], IGNORE)
        return sample
