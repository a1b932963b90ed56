"""``uer_classification``: cross-entropy on the ``uer`` model's cls logits (UER's ``run_classifier.py`` loss).

Logs accuracy always, and at validation per-class precision, recall and F1 (``p_<c>``, ``r_<c>``,
``f1_<c>``, and their mean ``macro_f1``) from summed counts, so they are exact over batches and workers.
Losses are in nats per sentence.
"""
import torch.nn.functional as F
from fairseq import metrics
from fairseq.criterions import FairseqCriterion, register_criterion

from ..metrics.span_f1 import f1_score


@register_criterion("uer_classification")
class UerClassificationCriterion(FairseqCriterion):
    def __init__(self, task):
        super().__init__(task)
        self.labels_num = task.labels_num

    def forward(self, model, sample, reduce=True):
        logits = model(**sample["net_input"])["cls"]
        target = sample["target"]
        loss = F.cross_entropy(logits.float(), target, reduction="sum")
        predicted = logits.argmax(-1)
        n = target.numel()
        log = {"loss": loss.data, "sample_size": n, "nsentences": n, "ntokens": sample["ntokens"],
               "correct": int(predicted.eq(target).sum())}
        if not model.training:
            for c in range(self.labels_num):
                log[f"_tp{c}"] = int((predicted.eq(c) & target.eq(c)).sum())
                log[f"_pred{c}"] = int(predicted.eq(c).sum())
                log[f"_gold{c}"] = int(target.eq(c).sum())
        return loss, n, log

    @staticmethod
    def reduce_metrics(logging_outputs) -> None:
        keys = {key for log in logging_outputs for key in log}
        total = {key: sum(log.get(key, 0) for log in logging_outputs) for key in keys}
        n = total.get("sample_size", 0)
        metrics.log_scalar("loss", total.get("loss", 0) / max(n, 1), n, round=3)
        metrics.log_scalar("accuracy", total.get("correct", 0) / max(n, 1), n, round=4)
        classes = sorted(int(key[5:]) for key in keys if key.startswith("_gold"))
        for c in classes:
            for kind in ("tp", "pred", "gold"):
                metrics.log_scalar_sum(f"_{kind}{c}", total[f"_{kind}{c}"])
            metrics.log_derived(f"p_{c}", lambda m, c=c: round(m[f"_tp{c}"].sum / max(m[f"_pred{c}"].sum, 1), 4))
            metrics.log_derived(f"r_{c}", lambda m, c=c: round(m[f"_tp{c}"].sum / max(m[f"_gold{c}"].sum, 1), 4))
            metrics.log_derived(f"f1_{c}", lambda m, c=c: round(_class_f1(m, c), 4))
        if classes:
            metrics.log_derived("macro_f1", lambda m, cs=tuple(classes): round(
                sum(_class_f1(m, c) for c in cs) / len(cs), 4))

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return True


def _class_f1(meters, c) -> float:
    return f1_score(meters[f"_tp{c}"].sum, meters[f"_pred{c}"].sum, meters[f"_gold{c}"].sum)
