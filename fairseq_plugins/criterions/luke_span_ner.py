"""Cross-entropy over enumerated spans, with LUKE's greedy decode for entity-level F1 in validation."""

import torch.nn.functional as F
from fairseq.criterions import FairseqCriterion, register_criterion

from ..data.luke_ner import IGNORE, greedy_decode
from .luke_entity_classification import log_loss_and_f1
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
        log_loss_and_f1(logging_outputs, "nspans")

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return False
