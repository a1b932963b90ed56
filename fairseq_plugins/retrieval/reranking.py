"""Score each mention's retrieved candidates with a trained crossencoder.

The pairs are built and padded exactly as in training (:class:`BlinkCrossencoderDataset`, the
task's input builder and ``--max-seq-length``), so a checkpoint scores at inference what it
saw in validation. Entity titles and descriptions come from a :class:`KnowledgeBase`.
"""
from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np
import torch

from ..data.blink_datasets import BlinkCrossencoderDataset
from ..data.blink_formats import KnowledgeBase
from ..errors import InputError
from .blink_models import model_device


class CrossencoderReranker:
    def __init__(self, task, model, kb: KnowledgeBase, batch_size: int = 8):
        self.task = task
        self.model = model.eval()
        self.device = model_device(model)
        self.kb = kb
        self.batch_size = batch_size
        self.max_candidates: Optional[int] = getattr(task.cfg, "max_candidates", None)

    def score(self, lefts: Sequence[str], mentions: Sequence[str], rights: Sequence[str],
              candidates: Sequence[Sequence[str]]) -> List[np.ndarray]:
        """Per mention, one score per candidate (in the given order; cut to ``--max-candidates``)."""
        lists = [list(c[:self.max_candidates]) if self.max_candidates else list(c) for c in candidates]
        wanted = list(dict.fromkeys(c for cs in lists for c in cs))
        missing = [c for c in wanted if c not in self.kb]
        if missing:
            raise InputError(self.kb.path, f"candidate {missing[0]!r} is not in the knowledge base", field="id")
        entities = self.kb.entities([self.kb.row_of[c] for c in wanted])
        builder = self.task.builder
        index = {c: i for i, c in enumerate(wanted)}
        candidate_ids = [torch.tensor(t, dtype=torch.long)
                         for t in builder.candidates([e.title for e in entities], [e.text for e in entities])]
        contexts = [torch.tensor(t, dtype=torch.long) for t in builder.contexts(lefts, mentions, rights)]
        topk = [np.array([index[c] for c in cs], dtype=np.int64) for cs in lists]
        dataset = BlinkCrossencoderDataset(contexts, candidate_ids, topk, np.full(len(lists), -1),
                                           self.task.dictionary.pad(), builder.pair, self.task.cfg.max_seq_length,
                                           shuffle=False)
        scores: List[np.ndarray] = []
        with torch.no_grad():
            for start in range(0, len(dataset), self.batch_size):
                chunk = [dataset[i] for i in range(start, min(len(dataset), start + self.batch_size)) if len(topk[i])]
                batch = dataset.collater(chunk) if chunk else None
                out = iter(self.model(**{k: v.to(self.device) for k, v in batch["net_input"].items()})
                           .float().cpu().numpy()) if batch else iter(())
                for i in range(start, min(len(dataset), start + self.batch_size)):
                    scores.append(next(out)[:len(topk[i])] if len(topk[i]) else np.zeros(0, np.float32))
        return scores
