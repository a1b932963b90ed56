"""``luke_squad``: the ``extractive_qa`` loss (mean of start and end cross-entropies) on LUKE's span head."""
from fairseq.criterions import register_criterion

from ..tasks.luke_squad import span_logits
from .extractive_qa import ExtractiveQaCriterion


@register_criterion("luke_squad")
class LukeSquadCriterion(ExtractiveQaCriterion):
    def forward(self, model, sample, reduce=True):
        return self.loss_from_output(span_logits(model, sample["net_input"]), sample)
