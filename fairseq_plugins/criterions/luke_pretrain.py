"""``luke_pretrain``: masked-LM loss + masked entity prediction loss (LUKE's pre-training objective).

As LUKE, the loss is the sum of the two means (cross-entropy per masked word plus per masked entity),
so the criterion reports ``sample_size`` 1. Each part's summed loss (in bits, as fairseq's
``masked_lm``), correct predictions and count are logged, so the aggregated ``mlm_loss``,
``entity_loss``, ``mlm_acc`` and ``entity_acc`` are exact over updates and workers.
"""
import math

import torch.nn.functional as F
from fairseq import metrics
from fairseq.criterions import FairseqCriterion, register_criterion

from ..tasks.luke_pretrain import HEAD

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
        loss = 0.0
        for name, scores, target in (("mlm", logits, sample["target"][masked]),
                                     ("entity", entity_logits, sample["entity_target"][entity_masked])):
            part = F.cross_entropy(scores.float(), target, reduction="sum")
            count = target.numel()
            loss = loss + part / max(count, 1)
            log[f"{name}_loss"] = part.data
            log[f"{name}_correct"] = int(scores.argmax(-1).eq(target).sum())
            log[f"{name}_count"] = count
        log["loss"] = loss.data
        return loss, 1, log

    @staticmethod
    def reduce_metrics(logging_outputs) -> None:
        def total(key):
            return sum(log.get(key, 0) for log in logging_outputs)

        metrics.log_scalar("loss", total("loss") / max(total("sample_size"), 1) / math.log(2), round=3)
        for name in PARTS:
            count = total(f"{name}_count")
            if count:
                metrics.log_scalar(f"{name}_loss", total(f"{name}_loss") / count / math.log(2), count, round=3)
                metrics.log_scalar(f"{name}_acc", 100 * total(f"{name}_correct") / count, count, round=2)

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return True
