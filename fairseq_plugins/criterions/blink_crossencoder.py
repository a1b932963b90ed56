"""BLINK's crossencoder loss: softmax over each mention's k retrieved candidates.

Mentions whose gold was not retrieved (target -1, evaluation sets only) add no loss and count
as wrong, so ``accuracy`` is unnormalized (over all mentions) and ``normalized_accuracy`` is
over the mentions whose gold was retrieved.
"""
import math

import torch.nn.functional as F
from fairseq import metrics
from fairseq.criterions import FairseqCriterion, register_criterion


@register_criterion("blink_crossencoder")
class BlinkCrossencoderCriterion(FairseqCriterion):
    def forward(self, model, sample, reduce=True):
        scores = model(**sample["net_input"])
        target = sample["target"]
        retrieved = target.ge(0)
        loss = F.cross_entropy(scores[retrieved], target[retrieved], reduction="sum") if retrieved.any() \
            else scores.sum() * 0.0
        correct = (scores.argmax(dim=1).eq(target) & retrieved).sum()
        n = int(retrieved.sum())
        return loss, n, {"loss": loss.data, "ntokens": sample["ntokens"], "nsentences": target.numel(),
                         "sample_size": n, "correct": correct.data, "retrieved": n}

    @staticmethod
    def reduce_metrics(logging_outputs) -> None:
        retrieved = sum(log.get("retrieved", 0) for log in logging_outputs)
        total = sum(log.get("nsentences", 0) for log in logging_outputs)
        loss = sum(log.get("loss", 0) for log in logging_outputs)
        correct = sum(log.get("correct", 0) for log in logging_outputs)
        metrics.log_scalar("loss", loss / max(retrieved, 1) / math.log(2), retrieved, round=3)
        if total:
            metrics.log_scalar("accuracy", 100.0 * correct / total, total, round=2)
        if retrieved:
            metrics.log_scalar("normalized_accuracy", 100.0 * correct / retrieved, retrieved, round=2)

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return True
