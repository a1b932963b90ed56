"""BLINK's biencoder loss: softmax over the dot products of each mention with every candidate in the batch.

The batch's candidates are the B gold entities followed by any hard negatives; mention i's
target is candidate i. Another candidate of the same entity (two mentions of one entity in a
batch, or a negative that is some other mention's gold) is masked out rather than taught as a
negative, which BLINK did not do.

Under distributed training the candidates of every worker are gathered, so each mention is
scored against the global batch as in BLINK's single-process DataParallel (per-worker
negatives would shrink them by the number of GPUs). The gather's backward sums every
worker's gradient for a worker's candidates, so the summed gradients are exactly those of the
loss of one process on the concatenated batch. ``--local-negatives`` keeps each worker's
batch to itself. Validation always scores within the worker's batch.
"""
import math
from dataclasses import dataclass, field
from typing import List, Tuple

import torch
import torch.distributed as dist
import torch.nn.functional as F
from fairseq import metrics
from fairseq.criterions import FairseqCriterion, register_criterion
from fairseq.dataclass import FairseqDataclass
from fairseq.distributed import utils as distributed_utils


@dataclass
class BlinkInBatchConfig(FairseqDataclass):
    local_negatives: bool = field(
        default=False, metadata={"help": "under distributed training, score each mention against its own "
                                         "worker's candidates only (default: against every worker's)"})


def _gather_rows(x: torch.Tensor, group, sizes: List[int]) -> List[torch.Tensor]:
    """Every worker's ``x`` (rows may differ in number: padded to the largest for the collective)."""
    padded = x.new_zeros((max(sizes), *x.shape[1:]))
    padded[:len(x)] = x
    pieces = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(pieces, padded.contiguous(), group=group)
    return [piece[:n] for piece, n in zip(pieces, sizes)]


class _GatherWithGradient(torch.autograd.Function):
    """Concatenation of every worker's rows; the backward returns this worker's rows of the
    gradient summed over workers (each worker's loss depends on every worker's candidates)."""

    @staticmethod
    def forward(ctx, x, group, sizes, rank):
        ctx.group, ctx.start, ctx.end = group, sum(sizes[:rank]), sum(sizes[:rank + 1])
        return torch.cat(_gather_rows(x, group, sizes))

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous()
        dist.all_reduce(grad, group=ctx.group)
        return grad[ctx.start:ctx.end], None, None, None


def gather_candidates(candidates: torch.Tensor, entities: torch.Tensor, group) -> Tuple[torch.Tensor, torch.Tensor, int]:
    """(all workers' candidate vectors, their entity ids, the offset of this worker's rows)."""
    rank = distributed_utils.get_rank(group)
    size = torch.tensor([len(candidates)], device=candidates.device)
    sizes = [int(s) for s in _gather_rows(size, group, [1] * distributed_utils.get_world_size(group))]
    all_candidates = _GatherWithGradient.apply(candidates, group, sizes, rank)
    all_entities = torch.cat(_gather_rows(entities.to(candidates.device), group, sizes)).to(entities.device)
    return all_candidates, all_entities, sum(sizes[:rank])


@register_criterion("blink_in_batch", dataclass=BlinkInBatchConfig)
class BlinkInBatchCriterion(FairseqCriterion):
    def __init__(self, task, local_negatives=False):
        super().__init__(task)
        self.local_negatives = local_negatives

    def forward(self, model, sample, reduce=True):
        contexts, candidates = model(**sample["net_input"])
        target = sample["target"]
        entities = sample["candidate_entities"]
        if model.training and not self.local_negatives and distributed_utils.get_data_parallel_world_size() > 1:
            candidates, entities, offset = gather_candidates(candidates, entities,
                                                             distributed_utils.get_data_parallel_group())
            target = target + offset
        scores = contexts.float() @ candidates.float().t()
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
