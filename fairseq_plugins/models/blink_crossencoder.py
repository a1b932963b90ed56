"""BLINK's crossencoder: one encoder reads context and candidate together and scores the pair.

Input is ``B x k x T`` (k retrieved candidates per mention, segment 1 on the candidate); the
output is ``B x k`` scores, with ``-inf`` for padding candidates (mentions with fewer than k),
so a softmax over k is the loss. The score is pooled output -> dropout -> linear, as BLINK's
``--add_linear``; ``--representation cls`` reads the [CLS] state instead of the pooler.
"""
from dataclasses import dataclass, field

import torch
from fairseq.models import BaseFairseqModel, register_model

from .blink_biencoder import REPRESENTATIONS, BlinkEncoderConfig, BlinkTower, freeze_by_type_optimization
from .pretrained_encoder import load_encoder_weights, register_sizes


@dataclass
class BlinkCrossencoderConfig(BlinkEncoderConfig):
    representation: REPRESENTATIONS = field(
        default="pooled", metadata={"help": "pooled: BERT's pooler output (BLINK); cls: last hidden state at [CLS]; "
                                     "mean: average of the non-padding states"})


@register_model("blink_crossencoder", dataclass=BlinkCrossencoderConfig)
class BlinkCrossencoderModel(BaseFairseqModel):
    def __init__(self, cfg, tower: BlinkTower):
        super().__init__()
        self.cfg = cfg
        self.tower = tower

    @classmethod
    def build_model(cls, cfg, task):
        model = cls(cfg, BlinkTower(cfg, task.source_dictionary, output_dim=1))
        freeze_by_type_optimization(model, cfg.type_optimization)
        return model

    def load_pretrained_encoder(self, weights):
        load_encoder_weights(self.tower.encoder, weights)

    def forward(self, tokens: torch.Tensor, segments: torch.Tensor) -> torch.Tensor:
        batch, k, length = tokens.shape
        flat = tokens.view(batch * k, length)
        real = flat[:, 0].ne(self.tower.encoder.dictionary.pad())
        scores = flat.new_full((batch * k,), float("-inf"), dtype=torch.float)
        if real.any():
            scores[real] = self.tower(flat[real], segments.view(batch * k, length)[real]).squeeze(-1).float()
        return scores.view(batch, k)

    def max_positions(self):
        return self.cfg.max_positions


register_sizes("blink_crossencoder")
