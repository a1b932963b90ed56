"""``extractive_qa``: BERT's SQuAD loss, the mean of the start and end cross-entropies per window.

Targets of ``-1`` (answers on no token) are ignored; unanswerable windows target position 0
(``[CLS]``). The loss is summed over windows and normalized per window. Logged: the share of
windows whose predicted start and end are both exact (``span_acc``). The official answer metrics
(EM/F1) are added by the ``extractive_qa`` task at validation.
"""
import math

import torch.nn.functional as F
from fairseq import metrics
from fairseq.criterions import FairseqCriterion, register_criterion

from ..data.answer_types import IGNORE


@register_criterion("extractive_qa")
class ExtractiveQaCriterion(FairseqCriterion):
    def forward(self, model, sample, reduce=True):
        return self.loss_from_output(model(**sample["net_input"]), sample)

    def loss_from_output(self, out, sample):
        """(loss, sample size, logging output) of the model output ``out`` (the task reuses it to decode)."""
        target = sample["target"]
        loss = 0.5 * (F.cross_entropy(out["start"], target["start"], ignore_index=IGNORE, reduction="sum")
                      + F.cross_entropy(out["end"], target["end"], ignore_index=IGNORE, reduction="sum"))
        labelled = target["start"].ne(IGNORE)
        exact = out["start"].argmax(-1).eq(target["start"]) & out["end"].argmax(-1).eq(target["end"])
        sample_size = sample["nsentences"]
        return loss, sample_size, {
            "loss": loss.data, "ntokens": sample["ntokens"], "nsentences": sample["nsentences"],
            "sample_size": sample_size, "labelled": int(labelled.sum()), "span_correct": int((exact & labelled).sum()),
        }

    @staticmethod
    def reduce_metrics(logging_outputs) -> None:
        log_loss_and_span_accuracy(logging_outputs, "labelled")

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return True


def log_loss_and_span_accuracy(logging_outputs, span_windows: str) -> None:
    """Log the per-window loss in bits and ``span_acc``: exact start and end among the ``span_windows`` windows
    (shared with the ``nq_reader`` criterion, whose span windows are its short-answer ones)."""
    def total(key):
        return sum(log.get(key, 0) for log in logging_outputs)

    sample_size = total("sample_size")
    metrics.log_scalar("loss", total("loss") / max(sample_size, 1) / math.log(2), sample_size, round=3)
    if total(span_windows):
        metrics.log_scalar("span_acc", 100.0 * total("span_correct") / total(span_windows), total(span_windows),
                           round=2)
