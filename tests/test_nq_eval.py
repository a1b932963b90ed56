"""The official nq_eval definitions and Kaggle's micro F1 on hand-built cases and the real sample rows."""
import json

import pytest

from fairseq_plugins.data.nq_format import NqAnnotation, NqExample, read_nq
from fairseq_plugins.metrics.nq_eval import NqPrediction, nq_metrics, pr_curve, score_long, score_short
from test_nq_data import NQ_SAMPLE, needs_sample


def ann(long=None, short=(), yes_no="NONE"):
    return NqAnnotation(0 if long else -1, long, list(short), yes_no)


def example(example_id, annotations):
    return NqExample(example_id, "q", [], [], [], annotations)


NULL = ann()


def test_gold_needs_two_non_null_annotators_and_matching_any_one_is_correct():
    five = [ann((10, 20), [(12, 13)]), ann((30, 40), [(31, 33)]), NULL, NULL, NULL]
    assert score_long(five, NqPrediction(1, long=(30, 40), long_score=1), 2) == (True, True, True, 1)
    assert score_long(five, NqPrediction(1, long=(10, 21)), 2)[:3] == (True, True, False)
    one = [ann((10, 20)), NULL, NULL, NULL, NULL]  # a single annotator: no gold long answer
    assert score_long(one, NqPrediction(1, long=(10, 20)), 2)[:3] == (False, True, False)
    # short answers compare the whole span set
    assert score_short(five, NqPrediction(1, short=frozenset({(31, 33)})), 2)[:3] == (True, True, True)
    two_spans = [ann((10, 20), [(12, 13), (15, 16)])] * 2
    assert score_short(two_spans, NqPrediction(1, short=frozenset({(12, 13)})), 2)[:3] == (True, True, False)
    yes = [ann((10, 20), yes_no="YES")] * 2 + [NULL] * 3
    assert score_short(yes, NqPrediction(1, yes_no="YES"), 2)[:3] == (True, True, True)
    assert score_short(yes, NqPrediction(1, yes_no="NO"), 2)[:3] == (True, True, False)
    with pytest.raises(ValueError, match="yes/no"):
        score_short(yes, NqPrediction(1, short=frozenset({(1, 2)}), yes_no="YES"), 2)


def test_best_threshold_f1_and_recall_at_precision():
    # scores 0.9 correct, 0.5 wrong (gold exists), 0.1 correct; a fourth gold row predicted null
    stats = [(True, True, True, 0.9), (True, True, False, 0.5), (True, True, True, 0.1), (True, False, False, 0.0)]
    curve = pr_curve(stats)
    # thresholds: 0.9 -> P 1, R 1/4; 0.5 -> P 1/2, R 1/4; 0.1 -> P 2/3, R 2/4; 0.0 -> same
    assert curve.f1 == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5)) and curve.threshold == 0.1
    assert curve.recall_at_precision[0.9] == (0.25, 0.9)
    assert curve.recall_at_precision[0.5] == (0.5, 0.1)


def test_metrics_and_kaggle_micro_f1_by_hand():
    examples = [example(1, [ann((0, 5), [(1, 2)])] * 2), example(2, [ann((5, 9))] * 2), example(3, [NULL] * 5)]
    perfect = {1: NqPrediction(1, (0, 5), 0.9, frozenset({(1, 2)}), 0.8), 2: NqPrediction(2, (5, 9), 0.7),
               3: NqPrediction(3)}
    metrics = nq_metrics(examples, perfect)
    assert metrics["long-best-threshold-f1"] == metrics["short-best-threshold-f1"] == metrics["kaggle-micro-f1"] == 1
    wrong = {1: NqPrediction(1, (5, 9), 0.9, frozenset({(2, 3)}), 0.8), 2: NqPrediction(2, (5, 9), 0.7),
             3: NqPrediction(3, (0, 5), 0.6, yes_no="YES", short_score=0.4)}
    metrics = nq_metrics(examples, wrong)
    # long: gold 2, predicted 3, correct 1; short: gold 1, predicted 2, correct 0
    assert metrics["long-answer-precision"] == pytest.approx(1 / 3) and metrics["long-answer-recall"] == 0.5
    assert metrics["short-answer-f1"] == 0
    assert metrics["kaggle-micro-f1"] == pytest.approx(2 * (1 / 5) * (1 / 3) / (1 / 5 + 1 / 3))
    # score thresholds drop predictions: long >= 0.7 keeps rows 1 and 2, short >= 0.9 keeps none
    kept = nq_metrics(examples, wrong, long_score_threshold=0.7, short_score_threshold=0.9)
    assert kept["kaggle-micro-f1"] == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))
    with pytest.raises(ValueError, match="no prediction"):
        nq_metrics(examples, {1: perfect[1]})


@needs_sample
def test_real_rows_gold_predictions_score_one_and_shifted_ones_zero():
    rows = [e for p in sorted(NQ_SAMPLE.glob("*.json")) for e in read_nq(p)]
    gold = {e.example_id: NqPrediction(e.example_id, e.gold.long if e.gold else None, 1.0,
                                       frozenset(e.gold.short) if e.gold else frozenset(), 1.0) for e in rows}
    metrics = nq_metrics(rows, gold, 1, 1)
    assert metrics["long-answer-f1"] == metrics["short-answer-f1"] == metrics["kaggle-micro-f1"] == 1
    shifted = {i: NqPrediction(i, (p.long[0] + 1, p.long[1]) if p.long else None, 1.0,
                               frozenset((s + 1, e) for s, e in p.short), 1.0) for i, p in gold.items()}
    assert nq_metrics(rows, shifted, 1, 1)["kaggle-micro-f1"] == 0
    # the json round trip is the official format
    assert {i: NqPrediction.from_json(json.loads(json.dumps(p.to_json()))) for i, p in gold.items()} == gold
