"""BLINK's biencoder: a mention tower and an entity tower whose dot product scores a pair.

Each tower is the shared encoder core (:class:`BertPluginEncoder`) read at ``[CLS]``
(BLINK's Zeshel recipe) or through BERT's pooler, optionally projected by a linear layer
(BLINK's ``--add_linear``). The towers are separate by default, as in BLINK, or one shared
encoder. ``--pretrained-encoder converted/model.pt`` starts both towers from any checkpoint
``scripts/convert_hf_to_fairseq.py`` wrote (see :mod:`.pretrained_encoder`).
"""
from dataclasses import dataclass, field
from typing import Optional

import torch
from fairseq.dataclass import ChoiceEnum
from fairseq.models import BaseFairseqModel, register_model
from torch import nn

from .bert_plugin import BertPluginEncoder
from .pretrained_encoder import PretrainedEncoderConfig, load_encoder_weights, register_sizes

REPRESENTATIONS = ChoiceEnum(["cls", "pooled"])


@dataclass
class BlinkEncoderConfig(PretrainedEncoderConfig):
    representation: REPRESENTATIONS = field(
        default="cls", metadata={"help": "cls: last hidden state at [CLS]; pooled: BERT's pooler output"})


@dataclass
class BlinkBiencoderConfig(BlinkEncoderConfig):
    projection_dim: Optional[int] = field(
        default=None, metadata={"help": "add dropout + a linear layer to this size on each tower (BLINK "
                                        "--add_linear); default: none"})
    shared_encoders: bool = field(default=False, metadata={"help": "one encoder for mentions and entities"})


class BlinkTower(nn.Module):
    """Encoder core -> [CLS] or pooled vector -> optional dropout + linear."""

    def __init__(self, cfg: BlinkEncoderConfig, dictionary, output_dim: Optional[int]):
        super().__init__()
        self.encoder = BertPluginEncoder(cfg, dictionary, with_lm_head=False)
        self.pooled = cfg.representation == "pooled"
        if self.pooled and self.encoder.pooler is None:
            raise ValueError("--representation pooled needs BERT's pooler (the encoder was built with --no-pooler)")
        self.dropout = nn.Dropout(cfg.pooler_dropout) if output_dim else None
        self.projection = nn.Linear(cfg.encoder_embed_dim, output_dim) if output_dim else None

    def forward(self, tokens: torch.Tensor, segments: Optional[torch.Tensor] = None) -> torch.Tensor:
        features, _ = self.encoder(tokens, features_only=True, segment_labels=segments)
        x = self.encoder.pooled_output(features) if self.pooled else features[:, 0]
        if self.projection is not None:
            x = self.projection(self.dropout(x))
        return x


@register_model("blink_biencoder", dataclass=BlinkBiencoderConfig)
class BlinkBiencoderModel(BaseFairseqModel):
    def __init__(self, cfg: BlinkBiencoderConfig, context_tower: BlinkTower, candidate_tower: BlinkTower):
        super().__init__()
        self.cfg = cfg
        self.context_tower = context_tower
        self.candidate_tower = candidate_tower

    @classmethod
    def build_model(cls, cfg, task):
        context = BlinkTower(cfg, task.source_dictionary, cfg.projection_dim)
        candidate = context if cfg.shared_encoders else BlinkTower(cfg, task.source_dictionary, cfg.projection_dim)
        return cls(cfg, context, candidate)

    def load_pretrained_encoder(self, weights):
        load_encoder_weights(self.context_tower.encoder, weights)
        if self.candidate_tower is not self.context_tower:
            load_encoder_weights(self.candidate_tower.encoder, weights)

    def encode_contexts(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.context_tower(tokens)

    def encode_candidates(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.candidate_tower(tokens)

    def forward(self, context_tokens: torch.Tensor, candidate_tokens: torch.Tensor):
        """(mention embeddings B x D, candidate embeddings C x D); the score is their dot product."""
        return self.encode_contexts(context_tokens), self.encode_candidates(candidate_tokens)

    def max_positions(self):
        return self.cfg.max_positions


register_sizes("blink_biencoder")
