"""Base of the pre-training datasets that draw new masks every epoch over fixed item sizes.

A mask is seeded by ``(seed, epoch, index)`` (as fairseq's ``MaskTokensDataset``), so runs repeat,
resumed runs continue exactly, and batches can be reused across epochs: only the masks change.
"""
import numpy as np
from fairseq.data import FairseqDataset


class RemaskedDataset(FairseqDataset):
    def __init__(self, sizes, seed: int):
        super().__init__()
        self._sizes = np.asarray(sizes)
        self.seed = seed
        self.epoch = 0

    @property
    def can_reuse_epoch_itr_across_epochs(self):
        return True  # batches stay the same; only the masks change with the epoch

    def set_epoch(self, epoch, **unused):
        super().set_epoch(epoch)
        self.epoch = epoch

    def __len__(self):
        return len(self._sizes)

    @property
    def sizes(self):
        return self._sizes

    def num_tokens(self, index):
        return int(self._sizes[index])

    def size(self, index):
        return int(self._sizes[index])

    def ordered_indices(self):
        return np.lexsort((np.arange(len(self)), self._sizes))
