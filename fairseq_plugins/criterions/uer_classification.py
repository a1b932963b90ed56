"""``uer_classification``: cross-entropy on the ``uer`` model's cls logits (UER's ``run_classifier.py`` loss),
for classification, distillation, multi-task, DBQA and C3 alike.

- Distillation (the task's ``--soft-targets``): on batches with the teacher's logits the loss is
  ``alpha * MSE(logits, teacher) + (1 - alpha) * CE``, UER's mix (MSE averaged over the labels).
- C3: the batch's ``choices_num`` folds one score per sequence into one row of choices per question.
- Logs accuracy always, and at validation per-class precision, recall and F1 (``p_<c>``, ``r_<c>``,
  ``f1_<c>``, their mean ``macro_f1``) from summed counts, so they are exact over batches and workers;
  a multi-task batch logs them also under its data set's name (``<name>_accuracy``, ``<name>_f1_0``...).
- DBQA (batches with ``question``): MRR and MAP over the batch's whole questions, scored by the class-1 logit.

Losses are in nats per sentence (question, for C3).
"""
from collections import defaultdict

import torch
import torch.nn.functional as F
from fairseq import metrics
from fairseq.criterions import FairseqCriterion, register_criterion

from ..metrics.ranking import average_precision, reciprocal_rank
from ..metrics.span_f1 import f1_score

COUNT = "_count:"  # hidden summed counts: _count:<data set name>:<tp|pred|gold>:<class>


@register_criterion("uer_classification")
class UerClassificationCriterion(FairseqCriterion):
    def __init__(self, task):
        super().__init__(task)
        self.soft_targets = bool(getattr(task.cfg, "soft_targets", False))
        self.soft_alpha = float(getattr(task.cfg, "soft_alpha", 0.0))

    def forward(self, model, sample, reduce=True):
        logits = model(**sample["net_input"])["cls"].float()
        if "choices_num" in sample:
            logits = logits.view(-1, sample["choices_num"])
        target = sample["target"]
        n = target.numel()
        loss = cross_entropy = F.cross_entropy(logits, target, reduction="sum")
        log = {"sample_size": n, "nsentences": n, "ntokens": sample["ntokens"]}
        soft = sample.get("soft_target")
        if self.soft_targets and soft is not None:
            mse = F.mse_loss(logits, soft, reduction="none").mean(-1).sum()
            loss = self.soft_alpha * mse + (1 - self.soft_alpha) * cross_entropy
            log.update(soft_mse=mse.data, hard_ce=cross_entropy.data)
        predicted = logits.argmax(-1)
        log.update(loss=loss.data, correct=int(predicted.eq(target).sum()))
        if not model.training:
            names = [""] + ([sample["dataset_name"]] if sample.get("dataset_name") else [])
            for name in names:
                for c in range(logits.size(-1)):
                    log[f"{COUNT}{name}:tp:{c}"] = int((predicted.eq(c) & target.eq(c)).sum())
                    log[f"{COUNT}{name}:pred:{c}"] = int(predicted.eq(c).sum())
                    log[f"{COUNT}{name}:gold:{c}"] = int(target.eq(c).sum())
            if "question" in sample:
                log.update(_ranking_sums(logits[:, 1], target, sample["question"]))
        return loss, n, log

    @staticmethod
    def reduce_metrics(logging_outputs) -> None:
        keys = {key for log in logging_outputs for key in log}
        total = {key: sum(log.get(key, 0) for log in logging_outputs) for key in keys}
        n = total.get("sample_size", 0)
        metrics.log_scalar("loss", total.get("loss", 0) / max(n, 1), n, round=3)
        for part in ("soft_mse", "hard_ce"):
            if part in total:
                metrics.log_scalar(part, total[part] / max(n, 1), n, round=3)
        metrics.log_scalar("accuracy", total.get("correct", 0) / max(n, 1), n, round=4)
        classes = defaultdict(set)
        for key in keys:
            if key.startswith(COUNT):
                name, _, c = key[len(COUNT):].split(":")
                classes[name].add(int(c))
        for name, labels in classes.items():
            _log_class_metrics(total, name, sorted(labels))
        if "_questions" in total:
            for kind in ("_questions", "_rr", "_ap"):
                metrics.log_scalar_sum(kind, total[kind])
            metrics.log_scalar_sum("questions_no_answer", total["_no_answer"])
            metrics.log_derived("mrr", lambda m: round(m["_rr"].sum / max(m["_questions"].sum, 1), 4))
            metrics.log_derived("map", lambda m: round(m["_ap"].sum / max(m["_questions"].sum, 1), 4))

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return True


def _log_class_metrics(total, name: str, labels):
    prefix = f"{name}_" if name else ""

    def count(m, kind, c):
        return m[f"{COUNT}{name}:{kind}:{c}"].sum

    def class_f1(m, c):
        return f1_score(count(m, "tp", c), count(m, "pred", c), count(m, "gold", c))

    for c in labels:
        for kind in ("tp", "pred", "gold"):
            metrics.log_scalar_sum(f"{COUNT}{name}:{kind}:{c}", total[f"{COUNT}{name}:{kind}:{c}"])
        metrics.log_derived(f"{prefix}p_{c}", lambda m, c=c: round(count(m, "tp", c) / max(count(m, "pred", c), 1), 4))
        metrics.log_derived(f"{prefix}r_{c}", lambda m, c=c: round(count(m, "tp", c) / max(count(m, "gold", c), 1), 4))
        metrics.log_derived(f"{prefix}f1_{c}", lambda m, c=c: round(class_f1(m, c), 4))
    metrics.log_derived(f"{prefix}macro_f1", lambda m: round(sum(class_f1(m, c) for c in labels) / len(labels), 4))
    if name:
        metrics.log_derived(f"{prefix}accuracy", lambda m: round(
            sum(count(m, "tp", c) for c in labels) / max(sum(count(m, "gold", c) for c in labels), 1), 4))


def _ranking_sums(scores: torch.Tensor, target: torch.Tensor, question: torch.Tensor) -> dict:
    """Summed reciprocal ranks and average precisions of the batch's questions (each one whole)."""
    sums = {"_questions": 0, "_rr": 0.0, "_ap": 0.0, "_no_answer": 0}
    scores, relevant, question = scores.tolist(), target.eq(1).tolist(), question.tolist()
    by_question = defaultdict(list)
    for i, q in enumerate(question):
        by_question[q].append(i)
    for rows in by_question.values():
        rr = reciprocal_rank([scores[i] for i in rows], [relevant[i] for i in rows])
        if rr is None:
            sums["_no_answer"] += 1
            continue
        sums["_questions"] += 1
        sums["_rr"] += rr
        sums["_ap"] += average_precision([scores[i] for i in rows], [relevant[i] for i in rows])
    return sums
