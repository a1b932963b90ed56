"""Extractive question answering (SQuAD, CMRC 2018): start/end logits over any of our encoders.

- ``extractive_qa`` (archs ``extractive_qa_tiny/_base/_large``): the shared BERT-family encoder,
  started from a converted checkpoint with ``--pretrained-encoder converted/model.pt``; one linear
  layer gives start and end logits (BERT's SQuAD head).
- ``uer_mrc``: UER-py's embedding x encoder (``--embedding``, ``--encoder``, sizes,
  ``--uer-config``), the seed's ``run_cmrc.py``; archs ``uer_mrc_<name>`` mirror ``uer_<name>``
  (``uer_mrc_bert_base``, ``uer_mrc_lstm``, ...). Its head is the two feed-forward layers the
  seed describes (dense + tanh, then start/end). Segment ids are UER's: 1 for ``[CLS] question
  [SEP]``, 2 for the context, 0 on padding.

Both return ``{"start", "end"}`` [B, T] float logits with padding at ``-inf``; the ``nq_reader``
model returns the same keys plus its answer type, so the ``extractive_qa`` task trains and
decodes all three.
"""
from dataclasses import dataclass, field
from typing import Dict, Optional

import torch
from fairseq.models import BaseFairseqModel, register_model
from torch import nn

from .bert_plugin import BertPluginEncoder
from .pretrained_encoder import PretrainedEncoderConfig, load_encoder_weights, register_sizes
from .uer import UerConfig, UerModelBody, register_uer_archs

__all__ = ["SpanHead", "ExtractiveQaModel", "UerMrcModel"]


class SpanHead(nn.Module):
    """dropout -> [dense -> tanh ->] linear to 2: start and end logits at every position."""

    def __init__(self, hidden_dim: int, dropout: float = 0.1, inner_dim: int = 0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear(hidden_dim, inner_dim) if inner_dim else None
        self.output = nn.Linear(inner_dim or hidden_dim, 2)

    def forward(self, states: torch.Tensor, padding: torch.Tensor) -> Dict[str, torch.Tensor]:
        x = self.dropout(states)
        if self.dense is not None:
            x = torch.tanh(self.dense(x))
        start, end = self.output(x).float().unbind(-1)
        return {"start": start.masked_fill(padding, float("-inf")), "end": end.masked_fill(padding, float("-inf"))}


@dataclass
class ExtractiveQaConfig(PretrainedEncoderConfig):
    head_dropout: float = field(default=0.1, metadata={"help": "dropout before the start/end layer"})


@register_model("extractive_qa", dataclass=ExtractiveQaConfig)
class ExtractiveQaModel(BaseFairseqModel):
    def __init__(self, cfg: ExtractiveQaConfig, encoder: BertPluginEncoder):
        super().__init__()
        self.cfg = cfg
        self.encoder = encoder
        self.span = SpanHead(cfg.encoder_embed_dim, cfg.head_dropout)

    @classmethod
    def build_model(cls, cfg, task):
        encoder = BertPluginEncoder(cfg, task.source_dictionary, with_lm_head=False)
        encoder.pooler = None  # spans read token states only; an untrained pooler would be dead weight
        return cls(cfg, encoder)

    def load_pretrained_encoder(self, weights):
        load_encoder_weights(self.encoder, weights)

    def forward(self, src_tokens: torch.Tensor, segment_labels: Optional[torch.Tensor] = None, **unused):
        states, _ = self.encoder(src_tokens, features_only=True, segment_labels=segment_labels)
        return self.span(states, src_tokens.eq(self.encoder.dictionary.pad()))

    def max_positions(self):
        return self.cfg.max_positions


register_sizes("extractive_qa")


@register_model("uer_mrc", dataclass=UerConfig)
class UerMrcModel(BaseFairseqModel):
    def __init__(self, cfg: UerConfig, dictionary):
        super().__init__()
        self.cfg = cfg
        self.padding_idx = dictionary.pad()
        self.body = UerModelBody(cfg, dictionary)
        self.span = SpanHead(cfg.hidden_size, cfg.dropout, inner_dim=cfg.hidden_size)

    @classmethod
    def build_model(cls, cfg, task):
        return cls(cfg, task.source_dictionary)

    def forward(self, src_tokens: torch.Tensor, segment_labels: Optional[torch.Tensor] = None, **unused):
        padding = src_tokens.eq(self.padding_idx)
        segments = None
        if self.cfg.embedding == "word_pos_seg":
            first = torch.zeros_like(src_tokens) if segment_labels is None else segment_labels
            segments = (first + 1).masked_fill(padding, 0)  # BERT's 0/1 types -> UER's 1/2, 0 on padding
        return self.span(self.body(src_tokens, segments), padding)

    def max_positions(self):
        return self.cfg.max_seq_length if self.cfg.embedding != "word" else None


register_uer_archs("uer_mrc", "uer_mrc_")
