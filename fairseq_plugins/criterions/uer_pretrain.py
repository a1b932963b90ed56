"""UER-py's pre-training losses, one criterion per target: ``uer_mlm``, ``uer_lm``, ``uer_bert``,
``uer_albert``, ``uer_bilm``, ``uer_cls``.

As in UER's trainer the loss is the sum of each part's mean (``bert`` = MLM + NSP, ``albert`` =
MLM + SOP, ``bilm`` = forward + backward LM), so the criterion reports ``sample_size`` 1; each
part's summed loss, correct predictions and count are logged so that aggregated figures are
exact over updates and workers. Losses are in nats, as UER reports them.
"""
import math

import torch
import torch.nn.functional as F
from fairseq import metrics
from fairseq.criterions import FairseqCriterion, register_criterion

# target -> parts: (model output, sample target) pairs
PARTS = {
    "mlm": (("mlm", "mlm"),),
    "bert": (("mlm", "mlm"), ("sp", "label")),
    "albert": (("mlm", "mlm"), ("sp", "label")),
    "lm": (("lm", "lm"),),
    "bilm": (("bilm_forward", "bilm_forward"), ("bilm_backward", "bilm_backward")),
    "cls": (("cls", "label"),),
}


class UerPretrainCriterion(FairseqCriterion):
    target_name = None

    def __init__(self, task):
        super().__init__(task)
        if task.cfg.target != self.target_name:
            raise ValueError(f"--criterion uer_{self.target_name} trains the {self.target_name} target, the model's "
                             f"is {task.cfg.target}: use --criterion uer_{task.cfg.target}")

    def forward(self, model, sample, reduce=True):
        targets = sample["target"]
        masked = targets["mlm"].ne(self.padding_idx) if "mlm" in targets else None
        outputs = model(**sample["net_input"], masked_tokens=masked)
        loss = 0.0
        log = {"sample_size": 1, "ntokens": sample["ntokens"], "nsentences": sample["nsentences"]}
        for output_name, target_name in PARTS[self.target_name]:
            logits, target = outputs[output_name], targets[target_name]
            if output_name == "mlm":
                target = target[masked]
            logits, target = logits.reshape(-1, logits.size(-1)), target.reshape(-1)
            keep = target.ne(self.padding_idx) if target_name != "label" else torch.ones_like(target, dtype=torch.bool)
            part_sum = F.cross_entropy(logits.float(), target, reduction="sum",
                                       ignore_index=self.padding_idx if target_name != "label" else -100)
            count = int(keep.sum())
            loss = loss + part_sum / max(count, 1)
            log[f"{output_name}_loss"] = part_sum.data
            log[f"{output_name}_correct"] = int((logits.argmax(-1).eq(target) & keep).sum())
            log[f"{output_name}_count"] = count
        log["loss"] = loss.data
        return loss, 1, log

    @staticmethod
    def reduce_metrics(logging_outputs) -> None:
        def total(key):
            return sum(log.get(key, 0) for log in logging_outputs)

        metrics.log_scalar("loss", total("loss") / max(total("sample_size"), 1), round=3)
        for name in ("mlm", "sp", "lm", "bilm_forward", "bilm_backward", "cls"):
            count = total(f"{name}_count")
            if count:
                metrics.log_scalar(f"{name}_loss", total(f"{name}_loss") / count, count, round=3)
                metrics.log_scalar(f"{name}_acc", total(f"{name}_correct") / count, count, round=4)
                if name in ("lm", "bilm_forward", "bilm_backward", "mlm"):
                    metrics.log_derived(f"{name}_ppl", lambda m, n=name: math.exp(min(m[f"{n}_loss"].avg, 50)))

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return True


def _register(target):
    name = f"uer_{target}"
    cls = type(f"Uer{target.capitalize()}Criterion", (UerPretrainCriterion,),
               {"target_name": target, "__doc__": f"UER-py's {target} target loss."})
    return register_criterion(name)(cls)


CRITERIONS = {target: _register(target) for target in PARTS}
