"""fairseq datasets for BLINK's biencoder and crossencoder.

Candidate token sequences live once in a shared list (one per distinct entity) and examples
refer to them by index, so hard negatives and top-k lists cost an integer each, and two
mentions of the same entity in one batch can be recognised (the biencoder loss must not count
an entity as its own negative).
"""
from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np
import torch
from fairseq.data import FairseqDataset, data_utils


def _pad(seqs: Sequence[torch.Tensor], pad: int) -> torch.Tensor:
    return data_utils.collate_tokens(list(seqs), pad, left_pad=False)


class _ShuffledDataset(FairseqDataset):
    """Examples in a new seeded random order every epoch (BLINK trained in file order)."""

    def __init__(self, contexts: List[torch.Tensor], candidates: List[torch.Tensor], pad: int,
                 shuffle: bool, seed: int):
        self.contexts = contexts
        self.candidates = candidates
        self.pad = pad
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 1

    def __len__(self):
        return len(self.contexts)

    def set_epoch(self, epoch):
        self.epoch = epoch

    @property
    def can_reuse_epoch_itr_across_epochs(self):
        return not self.shuffle

    def ordered_indices(self):
        if self.shuffle:
            return np.random.RandomState((self.seed, self.epoch)).permutation(len(self))
        return np.arange(len(self))


class BlinkBiencoderDataset(_ShuffledDataset):
    """Mention contexts, each with its gold candidate and optionally mined hard negatives.

    A batch holds B contexts and B * (1 + n) candidates (golds first); every candidate is a
    negative for every other context, except candidates of the context's own entity.
    """

    def __init__(self, contexts, candidates, gold: np.ndarray, pad: int, hard_negatives: Optional[List[np.ndarray]] = None,
                 num_hard_negatives: int = 0, shuffle: bool = True, seed: int = 1):
        super().__init__(contexts, candidates, pad, shuffle, seed)
        self.gold = gold
        self.hard_negatives = hard_negatives
        self.num_hard_negatives = num_hard_negatives if hard_negatives is not None else 0

    def _negatives(self, index: int) -> np.ndarray:
        pool = self.hard_negatives[index]
        if len(pool) <= self.num_hard_negatives:
            return pool
        rng = np.random.RandomState((self.seed, self.epoch, index))
        return rng.choice(pool, self.num_hard_negatives, replace=False)

    def __getitem__(self, index):
        negatives = self._negatives(index) if self.num_hard_negatives else np.zeros(0, dtype=np.int64)
        return {"id": index, "context": self.contexts[index], "candidates": [int(self.gold[index]), *negatives]}

    def size(self, index):
        return max(len(self.contexts[index]), len(self.candidates[self.gold[index]]))

    def num_tokens(self, index):
        return self.size(index)

    def collater(self, samples):
        if not samples:
            return {}
        golds = [s["candidates"][0] for s in samples]
        negatives = [c for s in samples for c in s["candidates"][1:]]
        rows = golds + negatives
        return {
            "id": torch.tensor([s["id"] for s in samples]),
            "nsentences": len(samples),
            "ntokens": sum(len(s["context"]) for s in samples),
            "net_input": {
                "context_tokens": _pad([s["context"] for s in samples], self.pad),
                "candidate_tokens": _pad([self.candidates[r] for r in rows], self.pad),
            },
            "candidate_entities": torch.tensor(rows),
            "target": torch.arange(len(samples)),
        }


class BlinkCrossencoderDataset(_ShuffledDataset):
    """Mention contexts with their retrieved top-k candidates and the gold's position (-1: not retrieved).

    Contexts whose gold was not retrieved stay in evaluation sets, scored as wrong, so that
    unnormalized accuracy is measured over every mention.
    """

    def __init__(self, contexts, candidates, topk: List[np.ndarray], target: np.ndarray, pad: int,
                 pair_builder, max_length: int, shuffle: bool = True, seed: int = 1):
        super().__init__(contexts, candidates, pad, shuffle, seed)
        self.topk = topk
        self.target = target
        self.pair_builder = pair_builder
        self.max_length = max_length

    def __getitem__(self, index):
        pairs = [self.pair_builder(self.contexts[index].tolist(), self.candidates[c].tolist(), self.max_length)
                 for c in self.topk[index]]
        return {"id": index, "pairs": pairs, "target": int(self.target[index])}

    def size(self, index):
        """The longest pair (what ``max_positions`` limits): one sequence per candidate."""
        return self.max_length

    def num_tokens(self, index):
        return len(self.topk[index]) * self.max_length

    def collater(self, samples):
        if not samples:
            return {}
        k = max(len(s["pairs"]) for s in samples)
        length = max(len(t) for s in samples for t, _ in s["pairs"])
        tokens = torch.full((len(samples), k, length), self.pad, dtype=torch.long)
        segments = torch.zeros_like(tokens)
        for i, s in enumerate(samples):
            for j, (t, seg) in enumerate(s["pairs"]):
                tokens[i, j, :len(t)] = torch.tensor(t)
                segments[i, j, :len(seg)] = torch.tensor(seg)
        return {
            "id": torch.tensor([s["id"] for s in samples]),
            "nsentences": len(samples),
            "ntokens": int(tokens.ne(self.pad).sum()),
            "net_input": {"tokens": tokens, "segments": segments},
            "target": torch.tensor([s["target"] for s in samples]),
        }
