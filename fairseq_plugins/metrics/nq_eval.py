"""The official Natural Questions metric (``nq_eval.py``) and Kaggle TF2-QA's micro F1.

Definitions follow google-research-datasets/natural-questions ``nq_eval.py``/``eval_utils.py``:
a row has a gold long (short) answer when at least ``non_null_threshold`` annotators give one
(2 of the 5 dev annotations; train rows carry one annotation, so use 1 there). A prediction is
correct when it equals *any* non-null annotation: the long span exactly; the short answer as a
span set, or as the yes/no value. P = correct / predicted, R = correct / gold, and the best F1
is searched over score thresholds (predictions sorted by score, thresholds at every distinct
score), as are the best recalls at precision 0.5 / 0.75 / 0.9. Spans are NQ token offsets.
Kaggle scores long and short answers together: the micro F1 of both statistics concatenated.
"""
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

from ..data.nq_format import NqAnnotation, NqExample

Span = Tuple[int, int]
PRECISION_TARGETS = (0.5, 0.75, 0.9)


@dataclass
class NqPrediction:
    example_id: int
    long: Optional[Span] = None
    long_score: float = 0.0
    short: FrozenSet[Span] = frozenset()
    short_score: float = 0.0
    yes_no: str = "NONE"

    def to_json(self) -> dict:
        """The official prediction format (token offsets; bytes unknown)."""
        def span(s):
            return {"start_token": s[0], "end_token": s[1], "start_byte": -1, "end_byte": -1}
        return {"example_id": self.example_id, "long_answer": span(self.long or (-1, -1)),
                "long_answer_score": self.long_score, "short_answers": [span(s) for s in sorted(self.short)],
                "short_answers_score": self.short_score, "yes_no_answer": self.yes_no}

    @classmethod
    def from_json(cls, row: dict) -> "NqPrediction":
        long = row.get("long_answer") or {}
        long_span = (long.get("start_token", -1), long.get("end_token", -1))
        short = frozenset((s["start_token"], s["end_token"]) for s in row.get("short_answers") or []
                          if s.get("start_token", -1) >= 0)
        return cls(int(row["example_id"]), long_span if long_span[0] >= 0 else None,
                   float(row.get("long_answer_score", 0.0)), short, float(row.get("short_answers_score", 0.0)),
                   str(row.get("yes_no_answer", "NONE")).upper())


# (gold has answer, prediction has answer, correct, score): nq_eval's answer_stats
AnswerStat = Tuple[bool, bool, bool, float]


def gold_has_long(annotations: Sequence[NqAnnotation], threshold: int) -> bool:
    return sum(a.long is not None for a in annotations) >= threshold


def gold_has_short(annotations: Sequence[NqAnnotation], threshold: int) -> bool:
    return sum(bool(a.short) or a.yes_no != "NONE" for a in annotations) >= threshold


def score_long(annotations: Sequence[NqAnnotation], pred: NqPrediction, threshold: int) -> AnswerStat:
    gold = gold_has_long(annotations, threshold)
    has_pred = pred.long is not None
    correct = gold and has_pred and any(a.long == pred.long for a in annotations if a.long is not None)
    return gold, has_pred, correct, pred.long_score


def score_short(annotations: Sequence[NqAnnotation], pred: NqPrediction, threshold: int) -> AnswerStat:
    if pred.yes_no != "NONE" and pred.short:
        raise ValueError(f"example {pred.example_id}: a yes/no answer together with short spans")
    gold = gold_has_short(annotations, threshold)
    has_pred = bool(pred.short) or pred.yes_no != "NONE"
    if pred.yes_no != "NONE":
        correct = any(a.yes_no == pred.yes_no for a in annotations)
    else:
        correct = any(a.short and frozenset(a.short) == pred.short for a in annotations)
    return gold, has_pred, gold and has_pred and correct, pred.short_score


@dataclass
class Curve:
    f1: float = 0.0
    precision: float = 0.0
    recall: float = 0.0
    threshold: float = 0.0
    recall_at_precision: Dict[float, Tuple[float, Optional[float]]] = field(default_factory=dict)


def _ratio(a, b):
    return a / b if b else 0.0


def pr_curve(stats: Sequence[AnswerStat], targets=PRECISION_TARGETS) -> Curve:
    """nq_eval's ``compute_pr_curves``: best F1 over thresholds and best recall at each precision."""
    stats = sorted(stats, key=lambda s: s[3], reverse=True)
    total_gold = sum(s[0] for s in stats)
    correct = predicted = 0
    points = OrderedDict()
    for _, has_pred, is_correct, score in stats:
        correct += is_correct
        predicted += has_pred
        points[score] = (_ratio(correct, predicted), _ratio(correct, total_gold))  # ties: the last wins
    curve = Curve(recall_at_precision={t: (0.0, None) for t in targets})
    for threshold, (p, r) in points.items():
        for t in targets:
            if p >= t and r > curve.recall_at_precision[t][0]:
                curve.recall_at_precision[t] = (r, threshold)
        f1 = _ratio(2 * p * r, p + r)
        if f1 > curve.f1:
            curve.f1, curve.precision, curve.recall, curve.threshold = f1, p, r, threshold
    return curve


def f1(stats: Sequence[AnswerStat]) -> Tuple[float, float, float]:
    """(P, R, F1) of all predictions."""
    gold, predicted, correct = (sum(s[i] for s in stats) for i in range(3))
    p, r = _ratio(correct, predicted), _ratio(correct, gold)
    return p, r, _ratio(2 * p * r, p + r)


def apply_threshold(stats: Sequence[AnswerStat], threshold: Optional[float]) -> List[AnswerStat]:
    """Predictions scored below ``threshold`` become null (Kaggle's --score_thres_long/short)."""
    if threshold is None:
        return list(stats)
    return [s if s[3] >= threshold else (s[0], False, False, s[3]) for s in stats]


def answer_stats(examples: Sequence[NqExample], predictions: Dict[int, NqPrediction], long_threshold: int = 2,
                 short_threshold: int = 2):
    """Long and short answer statistics; every gold row needs a prediction (as in nq_eval)."""
    missing = [e.example_id for e in examples if e.example_id not in predictions]
    if missing:
        raise ValueError(f"no prediction for {len(missing)} of {len(examples)} examples, e.g. {missing[:3]}")
    long = [score_long(e.annotations, predictions[e.example_id], long_threshold) for e in examples]
    short = [score_short(e.annotations, predictions[e.example_id], short_threshold) for e in examples]
    return long, short


def nq_metrics(examples: Sequence[NqExample], predictions: Dict[int, NqPrediction], long_threshold: int = 2,
               short_threshold: int = 2, long_score_threshold: Optional[float] = None,
               short_score_threshold: Optional[float] = None) -> dict:
    """nq_eval's report plus Kaggle's micro F1 (at the given score thresholds, or all predictions)."""
    long, short = answer_stats(examples, predictions, long_threshold, short_threshold)
    out = {}
    for name, stats in (("long", long), ("short", short)):
        p, r, f = f1(stats)
        curve = pr_curve(stats)
        out.update({f"{name}-answer-f1": f, f"{name}-answer-precision": p, f"{name}-answer-recall": r,
                    f"{name}-best-threshold-f1": curve.f1, f"{name}-best-threshold-precision": curve.precision,
                    f"{name}-best-threshold-recall": curve.recall, f"{name}-best-threshold": curve.threshold})
        for target, (recall, threshold) in curve.recall_at_precision.items():
            out[f"{name}-recall-at-precision>={target}"] = recall
            out[f"{name}-threshold-at-precision>={target}"] = threshold
    out["kaggle-micro-f1"] = f1(apply_threshold(long, long_score_threshold)
                                + apply_threshold(short, short_score_threshold))[2]
    return out
