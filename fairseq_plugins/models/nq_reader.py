"""``nq_reader``: the Kaggle TF2-QA first-place reader, one long-answer candidate per sequence.

The shared encoder (:class:`BertPluginEncoder`) reads ``[CLS] question [SEP] candidate [SEP]``; a
5-way answer-type classifier on the dropped-out pooled output (no answer, long only, short, NO,
YES) says whether the candidate is the long answer, and start/end logits over its tokens find the
short span. ``1 - p(no answer)`` ranks candidates at prediction time.
"""
from dataclasses import dataclass, field
from typing import Optional

import torch
from fairseq.models import BaseFairseqModel, register_model
from torch import nn

from ..data.answer_types import ANSWER_TYPES
from ..errors import InputError
from .bert_plugin import BertPluginEncoder
from .extractive_qa import SpanHead
from .pretrained_encoder import PretrainedEncoderConfig, load_encoder_weights, register_sizes


@dataclass
class NqReaderConfig(PretrainedEncoderConfig):
    head_dropout: float = field(default=0.1, metadata={"help": "dropout on the pooled output and token states"})


@register_model("nq_reader", dataclass=NqReaderConfig)
class NqReaderModel(BaseFairseqModel):
    def __init__(self, cfg: NqReaderConfig, encoder: BertPluginEncoder):
        super().__init__()
        self.cfg = cfg
        self.encoder = encoder
        hidden = cfg.encoder_embed_dim
        self.dropout = nn.Dropout(cfg.head_dropout)
        self.answer_type = nn.Linear(hidden, len(ANSWER_TYPES))
        self.span = SpanHead(hidden, cfg.head_dropout)

    @classmethod
    def build_model(cls, cfg, task):
        encoder = BertPluginEncoder(cfg, task.source_dictionary, with_lm_head=False)
        if encoder.pooler is None:
            raise InputError(None, "the answer-type head reads BERT's pooled output; drop --no-pooler",
                             field="no_pooler")
        return cls(cfg, encoder)

    def load_pretrained_encoder(self, weights):
        load_encoder_weights(self.encoder, weights)

    def forward(self, src_tokens: torch.Tensor, segment_labels: Optional[torch.Tensor] = None, **unused):
        """Logits: ``answer_type`` [B, 5]; ``start``, ``end`` [B, T] with padding at -inf."""
        states, _ = self.encoder(src_tokens, features_only=True, segment_labels=segment_labels)
        answer_type = self.answer_type(self.dropout(self.encoder.pooled_output(states)))
        return {"answer_type": answer_type.float(), **self.span(states, src_tokens.eq(self.encoder.dictionary.pad()))}

    def max_positions(self):
        return self.cfg.max_positions


register_sizes("nq_reader")
