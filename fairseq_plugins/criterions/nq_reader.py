"""``nq_reader``: summed cross-entropy of answer type, start and end (the first-place solution's loss).

Targets of ``-1`` (a gold window whose short span was cut) are ignored; the loss is summed over
sequences and normalized per sequence. Logged: answer-type accuracy and, on short-answer
windows, exact start+end accuracy.
"""
import torch.nn.functional as F
from fairseq import metrics
from fairseq.criterions import FairseqCriterion, register_criterion

from ..data.answer_types import IGNORE, SHORT
from .extractive_qa import log_loss_and_span_accuracy


@register_criterion("nq_reader")
class NqReaderCriterion(FairseqCriterion):
    def forward(self, model, sample, reduce=True):
        return self.loss_from_output(model(**sample["net_input"]), sample)

    def loss_from_output(self, out, sample):
        """(loss, sample size, logging output) of the model output ``out`` (tasks reuse it to decode)."""
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
        log_loss_and_span_accuracy(logging_outputs, "short")
        labelled = sum(log.get("labelled", 0) for log in logging_outputs)
        if labelled:
            type_correct = sum(log.get("type_correct", 0) for log in logging_outputs)
            metrics.log_scalar("type_acc", 100.0 * type_correct / labelled, labelled, round=2)

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return True
