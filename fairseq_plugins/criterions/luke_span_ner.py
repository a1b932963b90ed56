"""Cross-entropy over enumerated spans, with LUKE's greedy decode for entity-level F1 in validation."""
import math

import torch.nn.functional as F
from fairseq import metrics
from fairseq.criterions import FairseqCriterion, register_criterion

from ..data.luke_ner import IGNORE, greedy_decode
from ..metrics.span_f1 import f1_score
from ..tasks.luke_ner import HEAD


def span_logits(model, sample):
    features, extra = model(**sample["net_input"], features_only=True)
    return model.entity_heads[HEAD](features, extra["entity_states"], sample["entity_starts"], sample["entity_ends"])


def decode_batch(logits, sample):
    """Per example: the kept spans as (word spans E' x 2, predicted label ids E', target label ids E')."""
    scores, predictions = logits.max(-1)
    out = []
    for b in range(logits.size(0)):
        real = sample["target"][b].ne(IGNORE)
        kept = greedy_decode(scores[b][real], predictions[b][real], sample["spans"][b][real])
        out.append((sample["spans"][b][real][kept], predictions[b][real][kept], sample["target"][b][real][kept]))
    return out


@register_criterion("luke_span_ner")
class LukeSpanNerCriterion(FairseqCriterion):
    def forward(self, model, sample, reduce=True):
        logits = span_logits(model, sample)
        target = sample["target"]
        loss = F.cross_entropy(logits.flatten(0, 1).float(), target.flatten(), ignore_index=IGNORE,
                               reduction="sum")
        spans = int(target.ne(IGNORE).sum())
        log = {"loss": loss.data, "ntokens": sample["ntokens"], "nsentences": sample["nsentences"],
               "sample_size": spans, "nspans": spans}
        if not model.training:
            decoded = decode_batch(logits.detach(), sample)
            log.update(tp=sum(int(p.eq(t).sum()) for _, p, t in decoded), predicted=sum(len(p) for _, p, _ in decoded),
                       gold=int(sample["n_gold"].sum()))
        return loss, spans, log

    @staticmethod
    def reduce_metrics(logging_outputs) -> None:
        loss = sum(log.get("loss", 0) for log in logging_outputs)
        spans = sum(log.get("nspans", 0) for log in logging_outputs)
        metrics.log_scalar("loss", loss / max(spans, 1) / math.log(2), spans, round=3)
        if any("tp" in log for log in logging_outputs):
            counts = [sum(log.get(k, 0) for log in logging_outputs) for k in ("tp", "predicted", "gold")]
            metrics.log_scalar("f1", 100 * f1_score(*counts), round=2)
            metrics.log_scalar("precision", 100 * counts[0] / max(counts[1], 1), round=2)
            metrics.log_scalar("recall", 100 * counts[0] / max(counts[2], 1), round=2)

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return False
