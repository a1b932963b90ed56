"""Losses made of parts each averaged over its own count (LUKE's and UER-py's pre-training objectives).

The loss is the sum of the parts' means, so such a criterion reports ``sample_size`` 1; each part's summed
loss, correct predictions and count are logged, so that aggregated figures are exact over updates and
workers. The criteria call these helpers; this module registers nothing.
"""
import math
from typing import Iterable, Optional

import torch
import torch.nn.functional as F
from fairseq import metrics


def add_part(log: dict, name: str, logits: torch.Tensor, target: torch.Tensor,
             keep: Optional[torch.Tensor] = None, ignore_index: int = -100) -> torch.Tensor:
    """Log part ``name``'s summed cross-entropy, correct predictions and count into ``log``; return its mean.
    ``keep`` marks the targets that count (all of them when None; the others carry ``ignore_index``)."""
    part = F.cross_entropy(logits.float(), target, reduction="sum", ignore_index=ignore_index)
    hits = logits.argmax(-1).eq(target)
    if keep is not None:
        hits = hits & keep
    count = target.numel() if keep is None else int(keep.sum())
    log[f"{name}_loss"] = part.data
    log[f"{name}_correct"] = int(hits.sum())
    log[f"{name}_count"] = count
    return part / max(count, 1)


def reduce_parts(logging_outputs, names: Iterable[str], loss_unit: float = 1.0, acc_scale: float = 1.0,
                 acc_round: int = 4, perplexity: Iterable[str] = ()) -> None:
    """The loss and each part's mean loss (in nats divided by ``loss_unit``: ``math.log(2)`` for bits) and
    accuracy (times ``acc_scale``: 100 for percent), weighted by the part's count; ``perplexity`` parts also
    get ``<name>_ppl`` (from nats)."""
    def total(key):
        return sum(log.get(key, 0) for log in logging_outputs)

    metrics.log_scalar("loss", total("loss") / max(total("sample_size"), 1) / loss_unit, round=3)
    for name in names:
        count = total(f"{name}_count")
        if count:
            metrics.log_scalar(f"{name}_loss", total(f"{name}_loss") / count / loss_unit, count, round=3)
            metrics.log_scalar(f"{name}_acc", acc_scale * total(f"{name}_correct") / count, count, round=acc_round)
            if name in perplexity:
                metrics.log_derived(f"{name}_ppl", lambda m, n=name: math.exp(min(m[f"{n}_loss"].avg, 50)))
