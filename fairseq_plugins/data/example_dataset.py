"""Base for datasets over already tokenized examples held in memory (one example = one sequence).

fairseq batches by ``sizes`` and hands the collater the indices of a batch; subclasses keep
their examples and write only ``collater``, which turns indices into padded tensors.
"""
from typing import Sequence

import numpy as np
from fairseq.data import FairseqDataset


class ExampleDataset(FairseqDataset):
    """``examples`` are objects with a ``tokens`` sequence; items are their indices."""

    def __init__(self, examples: Sequence, pad: int):
        self.examples = examples
        self.pad = pad
        self.sizes = np.array([len(x.tokens) for x in examples], dtype=np.int64)

    def __getitem__(self, index):
        return index

    def __len__(self):
        return len(self.examples)

    def num_tokens(self, index):
        return int(self.sizes[index])

    def size(self, index):
        return int(self.sizes[index])

    def ordered_indices(self):
        return np.argsort(self.sizes, kind="mergesort")
