"""``token_tagging``: cross-entropy over each word's first sub-token, entity-level F1 at validation.

Losses are in nats per tagged word. Validation also logs ``precision``/``recall``/``f1``: exact
entity spans read from the gold and argmax tag sequences with seqeval's chunk rules, from
counts summed over batches and workers. They are per window and against the training tags, so
exact when no text is longer than one window (the task logs how many are) and, for LEAR files,
blind to the nested entities flattening dropped; ``scripts/predict_tags.py`` scores whole texts
against every gold entity (nested ones included).
"""
import torch.nn.functional as F
from fairseq import metrics
from fairseq.criterions import FairseqCriterion, register_criterion

from ..data.tagging_inputs import IGNORE
from ..metrics.seqeval import entity_f1
from ..metrics.span_f1 import f1_score


@register_criterion("token_tagging")
class TokenTaggingCriterion(FairseqCriterion):
    def __init__(self, task):
        super().__init__(task)
        self.tags = task.tags

    def forward(self, model, sample, reduce=True):
        logits = model(**sample["net_input"])
        target = sample["target"]
        loss = F.cross_entropy(logits.float().flatten(0, 1), target.flatten(), ignore_index=IGNORE, reduction="sum")
        tagged = target.ne(IGNORE)
        n = int(tagged.sum())
        predicted = logits.argmax(-1)
        log = {"loss": loss.data, "sample_size": n, "nsentences": sample["nsentences"], "ntokens": sample["ntokens"],
               "correct": int((predicted.eq(target) & tagged).sum())}
        if not model.training:
            gold, guess = [], []
            for row_gold, row_pred, row_mask in zip(target.tolist(), predicted.tolist(), tagged.tolist()):
                gold.append([self.tags[g] for g, m in zip(row_gold, row_mask) if m])
                guess.append([self.tags[p] for p, m in zip(row_pred, row_mask) if m])
            counts = entity_f1(gold, guess)
            log.update(_tp=counts.true_positives, _pred=counts.predicted, _gold=counts.gold)
        return loss, n, log

    @staticmethod
    def reduce_metrics(logging_outputs) -> None:
        total = {k: sum(log.get(k, 0) for log in logging_outputs) for k in ("loss", "sample_size", "correct")}
        n = total["sample_size"]
        metrics.log_scalar("loss", total["loss"] / max(n, 1), n, round=3)
        metrics.log_scalar("accuracy", total["correct"] / max(n, 1), n, round=4)
        if any("_gold" in log for log in logging_outputs):
            for key in ("_tp", "_pred", "_gold"):
                metrics.log_scalar_sum(key, sum(log.get(key, 0) for log in logging_outputs))
            metrics.log_derived("precision", lambda m: round(m["_tp"].sum / max(m["_pred"].sum, 1), 4))
            metrics.log_derived("recall", lambda m: round(m["_tp"].sum / max(m["_gold"].sum, 1), 4))
            metrics.log_derived("f1", lambda m: round(f1_score(m["_tp"].sum, m["_pred"].sum, m["_gold"].sum), 4))

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return True
