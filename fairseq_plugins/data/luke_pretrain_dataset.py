"""LUKE pre-training batches: masked words and masked entities over ``data/luke_pretrain_corpus.py``'s data.

Words: ``<s> words </s>`` masked as LUKE does (``data/uer_masking.py``: ``max(1, round(0.15 n))``
tokens, whole words by default, 80% ``<mask>`` / 10% random / 10% unchanged). Entities:
``max(1, round(0.15 m))`` of an instance's ``m`` entities replaced by the ``[MASK]`` entity (always,
as LUKE's ``random_entity_prob = unmasked_entity_prob = 0``); ``[UNK]`` entities are inputs only,
never targets (they name no title). Masks are drawn per ``(seed, epoch, index)``, so runs repeat
and every epoch sees new ones. Entity positions count from ``<s>`` (LUKE's +1) and are cut to
``max_mention_length``.
"""
from typing import Optional

import numpy as np
import torch
from fairseq.data import data_utils

from .luke_inputs import span_positions
from .remasked_dataset import RemaskedDataset
from .uer_masking import MaskingConfig, mask_tokens


def choose_entities(entity_ids: np.ndarray, mask_prob: float, unk: int, rng: np.random.RandomState) -> np.ndarray:
    """Boolean mask of the entities to predict: ``max(1, round(p * m))`` of the ``m`` non-[UNK] ones."""
    candidates = np.flatnonzero(entity_ids != unk)
    chosen = np.zeros(len(entity_ids), dtype=bool)
    if len(candidates) and mask_prob > 0:
        count = max(1, int(round(len(candidates) * mask_prob)))
        chosen[rng.choice(candidates, size=count, replace=False)] = True
    return chosen


class LukePretrainDataset(RemaskedDataset):
    """One split's instances. ``masking=None`` leaves words unmasked and ``entity_mask_prob=0`` entities
    (the held-out evaluation masks entities itself)."""

    def __init__(self, words, word_starts, entities, spans, bos: int, eos: int, pad: int, entity_pad: int,
                 entity_mask: int, entity_unk: int, max_mention_length: int, masking: Optional[MaskingConfig],
                 entity_mask_prob: float = 0.15, whole_word_masking: bool = True, seed: int = 1):
        super().__init__(np.asarray(words.sizes) + 2, seed)
        self.words, self.word_starts, self.entities, self.spans = words, word_starts, entities, spans
        self.bos, self.eos, self.pad = bos, eos, pad
        self.entity_pad, self.entity_mask, self.entity_unk = entity_pad, entity_mask, entity_unk
        self.max_mention_length, self.masking = max_mention_length, masking
        self.entity_mask_prob, self.whole_word_masking = entity_mask_prob, whole_word_masking

    def __getitem__(self, index):
        words = self.words[index].numpy()
        tokens = np.concatenate([[self.bos], words, [self.eos]]).astype(np.int64)
        starts = np.concatenate([[1], self.word_starts[index].numpy(), [1]]) if self.whole_word_masking else None
        entity_ids = self.entities[index].numpy().astype(np.int64)
        spans = self.spans[index].numpy().reshape(-1, 2) + 1  # <s> comes first
        with data_utils.numpy_seed(self.seed, self.epoch, index):
            if self.masking is not None:
                source, target = mask_tokens(tokens, self.masking, np.random, starts)
            else:
                source, target = tokens, np.full_like(tokens, self.pad)
            chosen = choose_entities(entity_ids, self.entity_mask_prob, self.entity_unk, np.random)
        entity_target = np.where(chosen, entity_ids, self.entity_pad)
        return {"id": index, "source": source, "target": target,
                "entity_ids": np.where(chosen, self.entity_mask, entity_ids), "entity_target": entity_target,
                "entity_gold": entity_ids, "spans": spans}

    def collater(self, samples):
        if not samples:
            return {}

        def pad(key, value):
            return data_utils.collate_tokens([torch.as_tensor(s[key], dtype=torch.long) for s in samples], value)

        source = pad("source", self.pad)
        count = max(len(s["entity_ids"]) for s in samples)
        firsts = torch.zeros(len(samples), count, dtype=torch.long)
        lasts = torch.full((len(samples), count), -1, dtype=torch.long)
        for b, s in enumerate(samples):
            n = len(s["spans"])
            firsts[b, :n] = torch.from_numpy(s["spans"][:, 0])
            lasts[b, :n] = torch.from_numpy(np.minimum(s["spans"][:, 1], s["spans"][:, 0] + self.max_mention_length)
                                            - 1)
        width = max(1, int((lasts - firsts).max()) + 1) if count else 1
        return {
            "id": torch.tensor([s["id"] for s in samples]),
            "nsentences": len(samples),
            "ntokens": int(source.ne(self.pad).sum()),
            "net_input": {"src_tokens": source, "entity_ids": pad("entity_ids", self.entity_pad),
                          "entity_positions": span_positions(firsts, lasts, width)},
            "target": pad("target", self.pad),
            "entity_target": pad("entity_target", self.entity_pad),
            "entity_gold": pad("entity_gold", self.entity_pad),
        }
