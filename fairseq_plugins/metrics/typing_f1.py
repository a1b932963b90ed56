"""LUKE's micro P/R/F1 for entity typing and relation classification.

Typing (LUKE legacy ``entity_typing/main.py``; ``F1MultiLabelMeasure(average="micro")``): every
(example, label) pair is one decision; predicted = logit > 0; counts summed over the corpus.
Relation classification (legacy ``relation_classification/main.py``; ``MultiwayF1``): one label per
example, predictions and golds of the negative class (``no_relation``) are not counted.
F1 is ``2PR / (P + R)``, i.e. ``2 tp / (predicted + gold)``, and 0 when nothing is predicted or gold.
"""
from __future__ import annotations

import torch

from .span_f1 import SpanCounts


def typing_counts(predicted: torch.Tensor, gold: torch.Tensor) -> SpanCounts:
    """``predicted``/``gold``: B x C booleans (label assigned or not)."""
    predicted, gold = predicted.bool(), gold.bool()
    return SpanCounts(int((predicted & gold).sum()), int(predicted.sum()), int(gold.sum()))


def relation_counts(predicted: torch.Tensor, gold: torch.Tensor, negative: int = 0) -> SpanCounts:
    """``predicted``/``gold``: B label ids; ``negative`` is the id that means no relation."""
    found, real = predicted.ne(negative), gold.ne(negative)
    return SpanCounts(int((found & predicted.eq(gold)).sum()), int(found.sum()), int(real.sum()))
