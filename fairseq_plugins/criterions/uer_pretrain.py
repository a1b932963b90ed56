"""UER-py's pre-training losses, one criterion per target: ``uer_mlm``, ``uer_lm``, ``uer_bert``,
``uer_albert``, ``uer_bilm``, ``uer_cls``.

As in UER's trainer the loss is the sum of each part's mean (``bert`` = MLM + NSP, ``albert`` =
MLM + SOP, ``bilm`` = forward + backward LM), so the criterion reports ``sample_size`` 1; each
part's summed loss, correct predictions and count are logged so that aggregated figures are
exact over updates and workers. Losses are in nats, as UER reports them.
"""
from fairseq.criterions import FairseqCriterion, register_criterion

from .summed_parts import add_part, reduce_parts

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
            if target_name == "label":  # every row counts
                loss = loss + add_part(log, output_name, logits, target)
            else:
                loss = loss + add_part(log, output_name, logits, target, target.ne(self.padding_idx),
                                       ignore_index=self.padding_idx)
        log["loss"] = loss.data
        return loss, 1, log

    @staticmethod
    def reduce_metrics(logging_outputs) -> None:
        reduce_parts(logging_outputs, ("mlm", "sp", "lm", "bilm_forward", "bilm_backward", "cls"),
                     perplexity=("lm", "bilm_forward", "bilm_backward", "mlm"))

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return True


def _register(target):
    name = f"uer_{target}"
    cls = type(f"Uer{target.capitalize()}Criterion", (UerPretrainCriterion,),
               {"target_name": target, "__doc__": f"UER-py's {target} target loss."})
    return register_criterion(name)(cls)


CRITERIONS = {target: _register(target) for target in PARTS}
