"""``nq_reader``: summed cross-entropy of answer type, start and end (the first-place solution's loss).

Targets of ``-1`` (a gold window whose short span was cut) are ignored; the loss is summed over
sequences and normalized per sequence. Logged: answer-type accuracy and, on short-answer
windows, exact start+end accuracy.
"""
import math

import torch.nn.functional as F
from fairseq import metrics
from fairseq.criterions import FairseqCriterion, register_criterion

from ..data.nq_inputs import IGNORE, SHORT


@register_criterion("nq_reader")
class NqReaderCriterion(FairseqCriterion):
    def forward(self, model, sample, reduce=True):
        out = model(**sample["net_input"])
        target = sample["target"]
        kinds = target["answer_type"]
        loss = (F.cross_entropy(out["answer_type"], kinds, ignore_index=IGNORE, reduction="sum")
                + F.cross_entropy(out["start"], target["start"], ignore_index=IGNORE, reduction="sum")
                + F.cross_entropy(out["end"], target["end"], ignore_index=IGNORE, reduction="sum"))
        short = kinds.eq(SHORT)
        span_correct = (out["start"].argmax(-1).eq(target["start"]) & out["end"].argmax(-1).eq(target["end"]))
        sample_size = sample["nsentences"]
        logging_output = {
            "loss": loss.data, "ntokens": sample["ntokens"], "nsentences": sample["nsentences"],
            "sample_size": sample_size,
            "labelled": int(kinds.ne(IGNORE).sum()),
            "type_correct": int(out["answer_type"].argmax(-1).eq(kinds).sum()),
            "short": int(short.sum()), "span_correct": int((span_correct & short).sum()),
        }
        return loss, sample_size, logging_output

    @staticmethod
    def reduce_metrics(logging_outputs) -> None:
        def total(key):
            return sum(log.get(key, 0) for log in logging_outputs)

        sample_size = total("sample_size")
        metrics.log_scalar("loss", total("loss") / max(sample_size, 1) / math.log(2), sample_size, round=3)
        if total("labelled"):
            metrics.log_scalar("type_acc", 100.0 * total("type_correct") / total("labelled"), total("labelled"),
                               round=2)
        if total("short"):
            metrics.log_scalar("span_acc", 100.0 * total("span_correct") / total("short"), total("short"), round=2)

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return True
