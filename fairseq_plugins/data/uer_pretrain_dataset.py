"""Turns binarized UER instances into the batches each target trains on.

Masking happens here at read time (dynamic masking, RoBERTa) unless the data was masked at
preprocessing; the mask of item ``i`` is seeded by ``(seed, epoch, i)`` as in fairseq's
``MaskTokensDataset``, so runs are reproducible and every epoch sees new masks. LM targets are
the input shifted by one (``bilm``: one target per direction); ``bert``/``albert`` pairs get
segment ids 1 up to the first ``[SEP]`` and 2 after it (0 is padding, as in UER).
"""
from typing import Optional

import numpy as np
import torch
from fairseq.data import data_utils

from .remasked_dataset import RemaskedDataset
from .uer_masking import MaskingConfig, mask_tokens

MASKED_TARGETS = ("mlm", "bert", "albert")


class UerPretrainDataset(RemaskedDataset):
    def __init__(self, tokens, target: str, pad_idx: int, sep_idx: int, seed: int = 1,
                 masking: Optional[MaskingConfig] = None, static_targets=None, labels=None, word_starts=None):
        super().__init__(np.asarray(tokens.sizes) - (1 if target == "lm" else 0), seed)
        if target in MASKED_TARGETS and (masking is None) == (static_targets is None):
            raise ValueError("a masked target needs exactly one of dynamic masking or static targets")
        self.tokens, self.target, self.pad_idx, self.sep_idx = tokens, target, pad_idx, sep_idx
        self.masking, self.static_targets, self.labels, self.word_starts = masking, static_targets, labels, word_starts

    def __getitem__(self, index):
        tokens = self.tokens[index].numpy()
        item = {"id": index}
        pad = np.array([self.pad_idx])
        if self.target == "lm":
            item["source"], item["lm"] = tokens[:-1], tokens[1:]
        elif self.target == "bilm":
            item["source"] = tokens
            item["bilm_forward"] = np.concatenate([tokens[1:], pad])
            item["bilm_backward"] = np.concatenate([pad, tokens[:-1]])
        elif self.static_targets is not None:
            item["source"], item["mlm"] = tokens, self.static_targets[index].numpy()
        elif self.target in MASKED_TARGETS:
            starts = self.word_starts[index].numpy() if self.word_starts is not None else None
            with data_utils.numpy_seed(self.seed, self.epoch, index):
                item["source"], item["mlm"] = mask_tokens(tokens, self.masking, np.random, starts)
        else:
            item["source"] = tokens
        segments = np.ones(len(item["source"]), dtype=np.int64)
        if self.target in ("bert", "albert"):
            first_sep = np.flatnonzero(tokens == self.sep_idx)[:1]
            if len(first_sep):
                segments[first_sep[0] + 1:] = 2
        item["segments"] = segments
        if self.labels is not None:
            item["label"] = int(self.labels[index][0])
        return item

    def _pad(self, samples, key, pad):
        return data_utils.collate_tokens([torch.as_tensor(s[key], dtype=torch.long) for s in samples], pad)

    def collater(self, samples):
        if not samples:
            return {}
        source = self._pad(samples, "source", self.pad_idx)
        targets = {key: self._pad(samples, key, self.pad_idx)
                   for key in ("mlm", "lm", "bilm_forward", "bilm_backward") if key in samples[0]}
        if "label" in samples[0]:
            targets["label"] = torch.tensor([s["label"] for s in samples], dtype=torch.long)
        return {
            "id": torch.tensor([s["id"] for s in samples]),
            "nsentences": len(samples),
            "ntokens": int(source.ne(self.pad_idx).sum()),
            "net_input": {"src_tokens": source, "segment_labels": self._pad(samples, "segments", 0)},
            "target": targets,
        }
