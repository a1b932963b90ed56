"""UER-py's multi-task classifier (``run_mt_classifier.py``): one ``uer`` body shared by a cls head per data set.

Not a registered model: the ``uer_classification`` task builds the ``uer`` model the arch names (so every
``uer_*`` arch, ``--uer-config`` and ``--pretrained-model-path`` work unchanged) and, given several data
folders, keeps its body and gives each folder UER's head (``tanh(Linear(pooled))`` then ``Linear`` to its
labels). Parameter names match the ``uer`` model's for the body, so single- and multi-task checkpoints share
pre-trained initialisation.
"""
from typing import Dict, Sequence

import torch
from fairseq.models import BaseFairseqModel
from torch import nn

from .uer import UerModel, _pool

__all__ = ["UerMultiTaskClassifier"]


class UerMultiTaskClassifier(BaseFairseqModel):
    def __init__(self, single: UerModel, labels_nums: Sequence[int]):
        super().__init__()
        self.cfg = single.cfg
        self.body = single.body
        self.pooling = single.pooling
        self.padding_idx = single.padding_idx
        hidden = single.cfg.hidden_size
        self.cls_poolers = nn.ModuleList(nn.Linear(hidden, hidden) for _ in labels_nums)
        self.cls_outputs = nn.ModuleList(nn.Linear(hidden, n) for n in labels_nums)

    def max_positions(self):
        return self.cfg.max_seq_length if self.cfg.embedding != "word" else None

    def forward(self, src_tokens, segment_labels=None, dataset_id: int = 0, **unused) -> Dict[str, torch.Tensor]:
        states = self.body(src_tokens, segment_labels)
        pooled = _pool(states, src_tokens.ne(self.padding_idx), self.pooling)
        return {"cls": self.cls_outputs[dataset_id](torch.tanh(self.cls_poolers[dataset_id](pooled)))}
