"""Losses over LUKE's entity classification heads, logging what LUKE's micro P/R/F1 needs.

``luke_entity_typing``: binary cross-entropy over every (example, label), averaged over them as
LUKE does; a label is predicted when its logit is > 0. ``luke_relation_classification``:
cross-entropy, argmax decode, ``no_relation`` (id 0) not counted by the metric.
"""
import math

import torch.nn.functional as F
from fairseq import metrics
from fairseq.criterions import FairseqCriterion, register_criterion

from ..metrics.span_f1 import f1_score
from ..metrics.typing_f1 import relation_counts, typing_counts
from ..tasks import luke_entity_typing, luke_relation


def log_loss_and_f1(logging_outputs, size_key: str = "sample_size") -> None:
    """Loss in bits per ``size_key`` unit, and F1/precision/recall (in %) from the summed
    ``tp``/``predicted``/``gold`` of validation outputs."""
    loss = sum(log.get("loss", 0) for log in logging_outputs)
    size = sum(log.get(size_key, 0) for log in logging_outputs)
    metrics.log_scalar("loss", loss / max(size, 1) / math.log(2), size, round=3)
    if any("tp" in log for log in logging_outputs):
        tp, predicted, gold = (sum(log.get(k, 0) for log in logging_outputs) for k in ("tp", "predicted", "gold"))
        metrics.log_scalar("f1", 100 * f1_score(tp, predicted, gold), round=2)
        metrics.log_scalar("precision", 100 * tp / max(predicted, 1), round=2)
        metrics.log_scalar("recall", 100 * tp / max(gold, 1), round=2)


class _EntityClassificationCriterion(FairseqCriterion):
    HEAD = ""

    def loss(self, logits, target):
        """(summed loss, number of decisions it sums over)."""
        raise NotImplementedError

    def counts(self, logits, target):
        raise NotImplementedError

    def forward(self, model, sample, reduce=True):
        _, extra = model(**sample["net_input"], features_only=True)
        logits = model.entity_heads[self.HEAD](extra["entity_states"])
        loss, size = self.loss(logits.float(), sample["target"])
        log = {"loss": loss.data, "ntokens": sample["ntokens"], "nsentences": sample["nsentences"],
               "sample_size": size}
        if not model.training:
            counts = self.counts(logits.detach(), sample["target"])
            log.update(tp=counts.true_positives, predicted=counts.predicted, gold=counts.gold)
        return loss, size, log

    @staticmethod
    def reduce_metrics(logging_outputs) -> None:
        log_loss_and_f1(logging_outputs)

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return True


@register_criterion("luke_entity_typing")
class LukeEntityTypingCriterion(_EntityClassificationCriterion):
    HEAD = luke_entity_typing.HEAD

    def loss(self, logits, target):
        return F.binary_cross_entropy_with_logits(logits, target.float(), reduction="sum"), target.numel()

    def counts(self, logits, target):
        return typing_counts(logits > 0, target > 0.5)


@register_criterion("luke_relation_classification")
class LukeRelationCriterion(_EntityClassificationCriterion):
    HEAD = luke_relation.HEAD

    def loss(self, logits, target):
        return F.cross_entropy(logits, target, reduction="sum"), target.numel()

    def counts(self, logits, target):
        return relation_counts(logits.argmax(-1), target)
