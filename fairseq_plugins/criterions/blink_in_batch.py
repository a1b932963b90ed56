"""BLINK's biencoder loss: softmax over the dot products of each mention with every candidate in the batch.

The batch's candidates are the B gold entities followed by any hard negatives; mention i's
target is candidate i. Another candidate of the same entity (two mentions of one entity in a
batch, or a negative that is some other mention's gold) is masked out rather than taught as a
negative, which BLINK did not do.
"""
import math

import torch
import torch.nn.functional as F
from fairseq import metrics
from fairseq.criterions import FairseqCriterion, register_criterion


@register_criterion("blink_in_batch")
class BlinkInBatchCriterion(FairseqCriterion):
    def forward(self, model, sample, reduce=True):
        contexts, candidates = model(**sample["net_input"])
        scores = contexts.float() @ candidates.float().t()
        target = sample["target"]
        entities = sample["candidate_entities"]
        same_entity = entities[target].unsqueeze(1).eq(entities.unsqueeze(0))
        same_entity[torch.arange(len(target)), target] = False
        scores = scores.masked_fill(same_entity, float("-inf"))
        loss = F.cross_entropy(scores, target, reduction="sum")
        correct = scores.argmax(dim=1).eq(target).sum()
        n = target.numel()
        return loss, n, {"loss": loss.data, "ntokens": sample["ntokens"], "nsentences": n, "sample_size": n,
                         "correct": correct.data, "candidates": scores.size(1) * n}

    @staticmethod
    def reduce_metrics(logging_outputs) -> None:
        n = sum(log.get("sample_size", 0) for log in logging_outputs)
        loss = sum(log.get("loss", 0) for log in logging_outputs)
        metrics.log_scalar("loss", loss / n / math.log(2), n, round=3)
        if n:
            correct = sum(log.get("correct", 0) for log in logging_outputs)
            metrics.log_scalar("accuracy", 100.0 * correct / n, n, round=2)
            metrics.log_scalar("candidates", sum(log.get("candidates", 0) for log in logging_outputs) / n, n,
                               round=1)

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return True
