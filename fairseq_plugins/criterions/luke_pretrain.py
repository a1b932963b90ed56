"""``luke_pretrain``: masked-LM loss + masked entity prediction loss (LUKE's pre-training objective).

As LUKE, the loss is the sum of the two means (cross-entropy per masked word plus per masked entity),
so the criterion reports ``sample_size`` 1. Each part's summed loss (in bits, as fairseq's
``masked_lm``), correct predictions and count are logged, so the aggregated ``mlm_loss``,
``entity_loss``, ``mlm_acc`` and ``entity_acc`` are exact over updates and workers.
"""
import math

from fairseq.criterions import FairseqCriterion, register_criterion

from ..tasks.luke_pretrain import HEAD
from .summed_parts import add_part, reduce_parts

PARTS = ("mlm", "entity")


@register_criterion("luke_pretrain")
class LukePretrainCriterion(FairseqCriterion):
    def __init__(self, task):
        super().__init__(task)
        self.entity_pad = task.entity_vocab.pad

    def forward(self, model, sample, reduce=True):
        masked = sample["target"].ne(self.padding_idx)
        logits, extra = model(**sample["net_input"], masked_tokens=masked)
        entity_masked = sample["entity_target"].ne(self.entity_pad)
        entity_logits = model.entity_heads[HEAD](extra["entity_states"], entity_masked)
        log = {"sample_size": 1, "ntokens": sample["ntokens"], "nsentences": sample["nsentences"]}
        loss = (add_part(log, "mlm", logits, sample["target"][masked])
                + add_part(log, "entity", entity_logits, sample["entity_target"][entity_masked]))
        log["loss"] = loss.data
        return loss, 1, log

    @staticmethod
    def reduce_metrics(logging_outputs) -> None:
        reduce_parts(logging_outputs, PARTS, loss_unit=math.log(2), acc_scale=100, acc_round=2)

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return True
