"""LUKE's entity embeddings: an entity table plus the mean position of the mention's words."""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn


class EntityEmbeddings(nn.Module):
    """Entity (+ projection) + span position + token type, then LayerNorm and dropout.

    The entity table is narrow (``entity_emb_size``, 256 in LUKE) because it is large; a
    bias-free projection maps it to the encoder width. An entity's position vector is the
    mean of its own position table over the word indices of its mention (``positions``:
    ``B x E x M`` raw 0-based word indices, -1 padded), so entities carry no order of
    their own; a row of only -1 gets a zero position vector.
    """

    def __init__(self, entity_vocab_size: int, entity_emb_size: int, hidden_dim: int, max_positions: int,
                 num_segments: int, padding_idx: int, layernorm_eps: float = 1e-5, dropout: float = 0.1):
        super().__init__()
        self.padding_idx = padding_idx
        self.embed_entities = nn.Embedding(entity_vocab_size, entity_emb_size, padding_idx)
        self.embed_projection = (nn.Linear(entity_emb_size, hidden_dim, bias=False)
                                 if entity_emb_size != hidden_dim else None)
        self.embed_positions = nn.Embedding(max_positions, hidden_dim)
        self.embed_segments = nn.Embedding(num_segments, hidden_dim) if num_segments > 0 else None
        self.layernorm_embedding = nn.LayerNorm(hidden_dim, eps=layernorm_eps)
        self.dropout = nn.Dropout(dropout)

    def span_positions(self, positions: torch.Tensor) -> torch.Tensor:
        vectors = self.embed_positions(positions.clamp(min=0))
        valid = positions.ne(-1).unsqueeze(-1).type_as(vectors)
        return (vectors * valid).sum(-2) / valid.sum(-2).clamp(min=1e-7)

    def forward(self, entity_ids: torch.Tensor, positions: torch.Tensor,
                segments: Optional[torch.Tensor] = None) -> torch.Tensor:
        x = self.embed_entities(entity_ids)
        if self.embed_projection is not None:
            x = self.embed_projection(x)
        x = x + self.span_positions(positions)
        if self.embed_segments is not None:
            x = x + (self.embed_segments.weight[0] if segments is None else self.embed_segments(segments))
        return self.dropout(self.layernorm_embedding(x))
