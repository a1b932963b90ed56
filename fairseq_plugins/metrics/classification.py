"""Accuracy and per-class precision, recall and F1 of a classifier, and their table.

UER-py's ``run_classifier.py`` reports the same from its confusion matrix; here the counts are kept as
plain sums (true positives, predicted, gold per class) so that they add up exactly over batches and
workers.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Sequence

from .span_f1 import f1_score

__all__ = ["ClassCounts", "format_class_table"]


@dataclass
class ClassCounts:
    labels_num: int
    true_positives: List[int] = field(default_factory=list)
    predicted: List[int] = field(default_factory=list)
    gold: List[int] = field(default_factory=list)

    def __post_init__(self):
        for counts in (self.true_positives, self.predicted, self.gold):
            counts.extend([0] * (self.labels_num - len(counts)))

    def add(self, predictions: Sequence[int], labels: Sequence[int]) -> "ClassCounts":
        if len(predictions) != len(labels):
            raise ValueError(f"{len(predictions)} predictions for {len(labels)} labels")
        for p, g in zip(predictions, labels):
            self.predicted[p] += 1
            self.gold[g] += 1
            self.true_positives[p] += p == g
        return self

    @property
    def total(self) -> int:
        return sum(self.gold)

    @property
    def accuracy(self) -> float:
        return sum(self.true_positives) / self.total if self.total else 0.0

    def precision(self, c: int) -> float:
        return self.true_positives[c] / self.predicted[c] if self.predicted[c] else 0.0

    def recall(self, c: int) -> float:
        return self.true_positives[c] / self.gold[c] if self.gold[c] else 0.0

    def f1(self, c: int) -> float:
        return f1_score(self.true_positives[c], self.predicted[c], self.gold[c])

    @property
    def macro_f1(self) -> float:
        return sum(self.f1(c) for c in range(self.labels_num)) / self.labels_num

    def as_dict(self) -> Dict[str, float]:
        out = {"accuracy": self.accuracy, "macro_f1": self.macro_f1}
        for c in range(self.labels_num):
            out.update({f"p_{c}": self.precision(c), f"r_{c}": self.recall(c), f"f1_{c}": self.f1(c)})
        return out


def format_class_table(counts: ClassCounts) -> str:
    """A readable table: one row per label, then accuracy and macro F1."""
    lines = [f"{'label':>8} {'precision':>9} {'recall':>9} {'f1':>9} {'gold':>7} {'predicted':>9}"]
    for c in range(counts.labels_num):
        lines.append(f"{c:>8} {counts.precision(c):>9.4f} {counts.recall(c):>9.4f} {counts.f1(c):>9.4f} "
                     f"{counts.gold[c]:>7} {counts.predicted[c]:>9}")
    lines.append(f"accuracy {counts.accuracy:.4f} ({sum(counts.true_positives)}/{counts.total}), "
                 f"macro F1 {counts.macro_f1:.4f}")
    return "\n".join(lines)
