"""``luke_record``: binary cross-entropy per ReCoRD candidate; validation logs the official EM/F1.

The loss is LUKE's: BCE of every real candidate's logit against "is a gold answer span", averaged
over the candidates (fairseq divides the summed loss by ``sample_size`` = candidates). A question's
windows may fall in different batches, so validation logs one row per window (question, best logit,
EM and F1 of that window's best candidate) and :class:`BestCandidateMeter` keeps, per question, the
row of the highest logit over all windows seen: its EM/F1 are the official ReCoRD scores of the
prediction LUKE makes (the best candidate over windows).
"""
import math
from typing import Dict, Tuple

import torch
import torch.nn.functional as F
from fairseq import metrics
from fairseq.criterions import FairseqCriterion, register_criterion
from fairseq.logging.meters import Meter

from ..data.luke_record import IGNORE
from ..tasks.luke_record import HEAD


def candidate_logits(model, sample) -> torch.Tensor:
    """B x E logits of every candidate (padding candidates included; mask them with ``target != -1``)."""
    _, extra = model(**sample["net_input"], features_only=True)
    return model.entity_heads[HEAD](extra["entity_states"])


def best_per_window(logits: torch.Tensor, sample):
    """Per window: (question, best logit, EM, F1 of the best candidate, candidate slot or -1)."""
    real = sample["target"].ne(IGNORE)
    masked = logits.detach().float().masked_fill(~real, -math.inf)
    best, slot = masked.max(-1) if masked.size(1) else (torch.full((len(masked),), -math.inf),
                                                         torch.zeros(len(masked), dtype=torch.long))
    rows = []
    for b, question in enumerate(sample["question"].tolist()):
        if real[b].any():
            k = int(slot[b])
            rows.append((question, float(best[b]), float(sample["em"][b, k]), float(sample["f1"][b, k]), k))
        else:
            rows.append((question, -math.inf, 0.0, 0.0, -1))
    return rows


class BestCandidateMeter(Meter):
    """Mean over questions of EM (``field`` 0) or F1 (1) of each question's highest-logit candidate, in %."""

    def __init__(self, field: int):
        super().__init__()
        self.field = field
        self.best: Dict[int, Tuple[float, float, float]] = {}

    def update(self, rows):
        for question, logit, em, f1, _ in rows:
            if question not in self.best or logit > self.best[question][0]:
                self.best[question] = (logit, em, f1)

    def reset(self):
        self.best = {}

    def state_dict(self):
        return {"field": self.field, "best": self.best}

    def load_state_dict(self, state_dict):
        self.field, self.best = state_dict["field"], state_dict["best"]

    @property
    def smoothed_value(self) -> float:
        if not self.best:
            return 0.0
        return round(100 * sum(v[1 + self.field] for v in self.best.values()) / len(self.best), 2)


@register_criterion("luke_record")
class LukeRecordCriterion(FairseqCriterion):
    def forward(self, model, sample, reduce=True):
        logits = candidate_logits(model, sample)
        target = sample["target"]
        real = target.ne(IGNORE)
        loss = F.binary_cross_entropy_with_logits(logits.float()[real], target[real], reduction="sum")
        candidates = int(real.sum())
        log = {"loss": loss.data, "ntokens": sample["ntokens"], "nsentences": sample["nsentences"],
               "sample_size": candidates}
        if not model.training:
            log["windows"] = best_per_window(logits, sample)
        return loss, candidates, log

    @staticmethod
    def reduce_metrics(logging_outputs) -> None:
        loss = sum(float(log.get("loss", 0)) for log in logging_outputs)
        size = sum(log.get("sample_size", 0) for log in logging_outputs)
        metrics.log_scalar("loss", loss / max(size, 1) / math.log(2), size, round=3)
        rows = [row for log in logging_outputs for row in log.get("windows", ())]
        if rows:
            metrics.log_custom(lambda: BestCandidateMeter(0), "em", rows)
            metrics.log_custom(lambda: BestCandidateMeter(1), "f1", rows)

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return False
