"""LEAR's loss: per-label start/end BCE over text tokens, plus span BCE over candidates in nested mode.

``start`` and ``end`` are binary cross-entropy with logits summed over labels and text tokens
(``[CLS]``, ``[SEP]`` and padding excluded); ``sample_size`` is the number of text tokens, so
fairseq's division gives LEAR's mean over tokens. The nested span loss is a mean over candidate
(start, end, label) triples within ``--max-span-length``: those predicted as both start and end,
and the gold ones (MRC-NER's rule; LEAR's code wrote ``start_gold & end_logits.bool()``, which is
just ``start_gold``). Out of training it decodes, so validation logs span-level P/R/F1.
"""
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from fairseq import metrics
from fairseq.criterions import FairseqCriterion, register_criterion
from fairseq.dataclass import FairseqDataclass

from ..metrics.span_f1 import SpanCounts, f1_score
from ..models.lear_decoding import decode


@dataclass
class LearSpanConfig(FairseqDataclass):
    span_loss_weight: float = field(default=1.0, metadata={"help": "weight of the nested span loss"})
    threshold: float = field(default=0.5, metadata={"help": "flat decode: probability a start/end must reach"})


def span_targets(spans: torch.Tensor, shape) -> torch.Tensor:
    """Gold rows (b, start, end, label) -> a [B, W, T, C] 0/1 tensor; spans wider than W are left out."""
    target = torch.zeros(shape, device=spans.device)
    width = spans[:, 2] - spans[:, 1]
    keep = spans[width < shape[1]]
    target[keep[:, 0], keep[:, 2] - keep[:, 1], keep[:, 1], keep[:, 3]] = 1
    return target


def candidate_mask(start_logits, end_logits, starts, ends, text_mask, width: int) -> torch.Tensor:
    """[B, W, T, C]: (i, i+w, c) with both boundaries predicted, or both gold, inside the text."""
    length = starts.size(1)
    rows = []
    for w in range(width):
        n = length - w
        pred = (start_logits[:, :n] > 0) & (end_logits[:, w:] > 0)
        gold = (starts[:, :n] > 0) & (ends[:, w:] > 0)
        inside = text_mask[:, :n, None] & text_mask[:, w:, None]
        rows.append(F.pad((pred | gold) & inside, (0, 0, 0, w)))
    return torch.stack(rows, dim=1)


@register_criterion("lear_span", dataclass=LearSpanConfig)
class LearSpanCriterion(FairseqCriterion):
    def __init__(self, task, span_loss_weight: float = 1.0, threshold: float = 0.5):
        super().__init__(task)
        self.span_loss_weight = span_loss_weight
        self.threshold = threshold

    def forward(self, model, sample, reduce=True):
        out = model(**sample["net_input"])
        target = sample["target"]
        mask = target["text_mask"]
        active = mask[..., None].expand_as(target["starts"])
        start_loss = F.binary_cross_entropy_with_logits(out["start"][active], target["starts"][active], reduction="sum")
        end_loss = F.binary_cross_entropy_with_logits(out["end"][active], target["ends"][active], reduction="sum")
        ntokens = int(mask.sum())
        loss = start_loss + end_loss
        logging_output = {"start_loss": start_loss.detach(), "end_loss": end_loss.detach(),
                          "ntokens": ntokens, "nsentences": sample["nsentences"], "sample_size": ntokens}
        if out["span"] is not None:
            gold = span_targets(target["spans"], out["span"].shape)
            candidates = candidate_mask(out["start"].detach(), out["end"].detach(), target["starts"], target["ends"],
                                        mask, out["span"].size(1))
            span_loss = F.binary_cross_entropy_with_logits(out["span"][candidates], gold[candidates], reduction="sum")
            span_loss = span_loss / max(int(candidates.sum()), 1) * ntokens
            loss = loss + self.span_loss_weight * span_loss
            logging_output["span_loss"] = span_loss.detach()
        logging_output["loss"] = loss.detach()
        if not model.training:
            logging_output.update(self.count_spans(out, target))
        return loss, ntokens, logging_output

    def count_spans(self, out, target):
        predicted = decode(out, target["text_mask"], self.threshold)
        gold = [set() for _ in predicted]
        for b, i, j, c in target["spans"].tolist():
            gold[b].add((i, j, c))
        counts = SpanCounts()
        for row, missed in enumerate(target["missed"].tolist()):
            counts.add({p[:3] for p in predicted[row]}, gold[row], missed)
        return {"span_tp": counts.true_positives, "span_pred": counts.predicted, "span_gold": counts.gold}

    @staticmethod
    def reduce_metrics(logging_outputs) -> None:
        def total(key):
            return sum(log.get(key, 0) for log in logging_outputs)

        sample_size = total("sample_size")
        for key in ("loss", "start_loss", "end_loss", "span_loss"):
            if any(key in log for log in logging_outputs):
                metrics.log_scalar(key, total(key) / max(sample_size, 1), sample_size, round=4)
        if any("span_tp" in log for log in logging_outputs):
            for key in ("span_tp", "span_pred", "span_gold"):
                metrics.log_scalar_sum(key, total(key))
            metrics.log_derived("precision", lambda m: _ratio(m["span_tp"].sum, m["span_pred"].sum))
            metrics.log_derived("recall", lambda m: _ratio(m["span_tp"].sum, m["span_gold"].sum))
            metrics.log_derived("f1", lambda m: round(100 * f1_score(
                m["span_tp"].sum, m["span_pred"].sum, m["span_gold"].sum), 2))

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return True


def _ratio(numerator, denominator) -> float:
    return round(100 * numerator / denominator, 2) if denominator else 0.0
