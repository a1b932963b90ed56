"""Hand-computed cases for the UER downstream metrics and losses: MRR/MAP, per-class P/R/F1, distillation."""
import math

import pytest
import torch

from fairseq_plugins.criterions.uer_classification import UerClassificationCriterion, _ranking_sums
from fairseq_plugins.metrics.classification import ClassCounts, format_class_table
from fairseq_plugins.metrics.ranking import average_precision, reciprocal_rank


def test_reciprocal_rank_and_average_precision_by_hand():
    # ranking by score: c(0.9, no) a(0.8, yes) d(0.5, no) b(0.1, yes) -> answers at ranks 2 and 4
    scores, relevant = [0.8, 0.1, 0.9, 0.5], [True, True, False, False]
    assert reciprocal_rank(scores, relevant) == pytest.approx(1 / 2)
    assert average_precision(scores, relevant) == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert reciprocal_rank([0.3, 0.2], [True, False]) == 1.0 == average_precision([0.3, 0.2], [True, False])
    # no correct candidate: undefined, the caller skips it
    assert reciprocal_rank([0.1, 0.2], [False, False]) is None and average_precision([0.1], [False]) is None


def test_ties_rank_answers_first_as_uer():
    assert reciprocal_rank([0.5, 0.5, 0.5], [False, False, True]) == 1.0
    assert average_precision([0.7, 0.5, 0.5], [False, False, True]) == pytest.approx(1 / 2)


def test_ranking_sums_group_by_question():
    scores = torch.tensor([0.2, 0.9, 0.4, 0.1, 0.3, 0.6])
    target = torch.tensor([1, 0, 1, 0, 0, 0])
    question = torch.tensor([0, 0, 0, 1, 2, 2])  # q0: ranks 0.9 no, 0.4 yes, 0.2 yes; q1 and q2: no answer
    sums = _ranking_sums(scores, target, question)
    assert sums["_questions"] == 1 and sums["_no_answer"] == 2
    assert sums["_rr"] == pytest.approx(1 / 2)
    assert sums["_ap"] == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_class_counts_by_hand():
    counts = ClassCounts(3).add(predictions=[0, 0, 1, 2, 2, 2], labels=[0, 1, 1, 2, 0, 1])
    # class 0: tp 1, predicted 2, gold 2; class 1: tp 1, predicted 1, gold 3; class 2: tp 1, predicted 3, gold 1
    assert counts.accuracy == pytest.approx(3 / 6)
    assert (counts.precision(0), counts.recall(0), counts.f1(0)) == pytest.approx((1 / 2, 1 / 2, 1 / 2))
    assert (counts.precision(1), counts.recall(1), counts.f1(1)) == pytest.approx((1, 1 / 3, 1 / 2))
    assert (counts.precision(2), counts.recall(2), counts.f1(2)) == pytest.approx((1 / 3, 1, 1 / 2))
    assert counts.macro_f1 == pytest.approx(1 / 2)
    table = format_class_table(counts)
    assert "accuracy 0.5000 (3/6)" in table and len(table.splitlines()) == 5


class _FixedLogits(torch.nn.Module):
    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def forward(self, **unused):
        return {"cls": self.logits}


class _Task:
    def __init__(self, soft_targets, soft_alpha):
        self.cfg = type("Cfg", (), {"soft_targets": soft_targets, "soft_alpha": soft_alpha})()


def test_distillation_loss_mixes_mse_and_cross_entropy_as_uer():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    teacher = torch.tensor([[1.0, 1.0], [0.0, 3.0]])
    sample = {"net_input": {}, "target": torch.tensor([0, 0]), "soft_target": teacher, "ntokens": 4}
    ce = -math.log(math.exp(2) / (math.exp(2) + 1)) - math.log(1 / (1 + math.e))
    mse = ((1 + 1) / 2) + ((0 + 4) / 2)  # per sentence: mean over labels of squared differences
    criterion = UerClassificationCriterion(_Task(True, 0.25))
    loss, n, log = criterion(_FixedLogits(logits).train(), sample)
    assert n == 2 and loss.item() == pytest.approx(0.25 * mse + 0.75 * ce, rel=1e-6)
    assert log["correct"] == 1
    hard = UerClassificationCriterion(_Task(False, 0.25))(_FixedLogits(logits), sample)[0]
    assert hard.item() == pytest.approx(ce, rel=1e-6)
