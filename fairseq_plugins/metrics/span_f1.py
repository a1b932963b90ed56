"""Span-level micro precision, recall and F1: a prediction counts only with exact boundaries and label.

The definition of LEAR (``MetricsCalculator4Ner``), CoNLL's ``conlleval`` and seqeval: per
sentence, true positives are the intersection of the predicted and gold span sets; counts are
summed over the corpus before dividing. Gold spans a model could never be credited for (cut
by truncation) are added to ``gold`` as misses, not dropped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Iterable


@dataclass
class SpanCounts:
    true_positives: int = 0
    predicted: int = 0
    gold: int = 0

    def add(self, predicted: Iterable[Hashable], gold: Iterable[Hashable], missed: int = 0) -> "SpanCounts":
        """Count one sentence: sets of hashable spans such as ``(start, end, label)``."""
        predicted, gold = set(predicted), set(gold)
        self.true_positives += len(predicted & gold)
        self.predicted += len(predicted)
        self.gold += len(gold) + missed
        return self

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        return f1_score(self.true_positives, self.predicted, self.gold)


def f1_score(true_positives: float, predicted: float, gold: float) -> float:
    """``2 tp / (predicted + gold)``, the harmonic mean of precision and recall; 0 when nothing is counted."""
    total = predicted + gold
    return 2 * true_positives / total if total else 0.0
