"""LEAR windows as a fairseq dataset: padded tokens plus per-label start/end targets and gold spans.

Targets stay compact: start/end multi-hot ``[B, T, C]`` and the gold spans as rows
``(batch row, start, end, label)``; the nested span targets are built from those rows only
for the candidate pairs the model scores.
"""
from __future__ import annotations

from typing import List

import torch
from fairseq.data import data_utils

from .example_dataset import ExampleDataset
from .lear_inputs import LearWindow


class LearNerDataset(ExampleDataset):
    def __init__(self, windows: List[LearWindow], num_labels: int, pad: int):
        super().__init__(windows, pad)
        self.num_labels = num_labels

    def collater(self, samples):
        if not samples:
            return {}
        windows = [self.examples[i] for i in samples]
        tokens = data_utils.collate_tokens([torch.tensor(w.tokens) for w in windows], self.pad)
        starts = torch.zeros(*tokens.shape, self.num_labels)
        ends = torch.zeros_like(starts)
        rows = sorted({(b, i, j, c) for b, w in enumerate(windows) for i, j, c in w.spans})
        spans = torch.tensor(rows, dtype=torch.long).view(-1, 4)
        starts[spans[:, 0], spans[:, 1], spans[:, 3]] = 1
        ends[spans[:, 0], spans[:, 2], spans[:, 3]] = 1
        lengths = torch.tensor([len(w.tokens) for w in windows])
        positions = torch.arange(tokens.size(1))
        # Text positions only: [CLS], [SEP] and padding never hold an entity boundary.
        text_mask = (positions[None] > 0) & (positions[None] < (lengths - 1)[:, None])
        return {
            "id": torch.tensor(samples, dtype=torch.long),
            "nsentences": len(windows),
            "ntokens": int(text_mask.sum()),
            "net_input": {"src_tokens": tokens},
            "target": {"starts": starts, "ends": ends, "spans": spans, "text_mask": text_mask,
                       "missed": torch.tensor([w.missed for w in windows], dtype=torch.long)},
        }
