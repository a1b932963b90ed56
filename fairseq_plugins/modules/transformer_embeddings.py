"""Token + position + segment embeddings shared by BERT, RoBERTa, ALBERT and GPT-style encoders."""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn


class TransformerEmbeddings(nn.Module):
    """Sum of word, learned position and (optional) segment embeddings, then LayerNorm and dropout.

    ``padding_offset_positions`` selects RoBERTa's numbering (non-pad tokens count from
    ``padding_idx + 1``, pads sit at ``padding_idx``) instead of BERT's ``0..T-1``.
    When ``embedding_dim`` differs from ``hidden_dim`` (ALBERT's factorized embedding),
    a projection after the normalisation maps to the encoder width. ``max_positions=0``
    leaves positions out (UER-py's ``word`` embedding, for RNN/CNN encoders).
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        hidden_dim: int,
        padding_idx: int,
        max_positions: int,
        num_segments: int = 2,
        padding_offset_positions: bool = False,
        layernorm: bool = True,
        layernorm_eps: float = 1e-12,
        dropout: float = 0.1,
    ):
        super().__init__()
        self.padding_idx = padding_idx
        self.padding_offset_positions = padding_offset_positions
        self.position_offset = padding_idx + 1 if padding_offset_positions else 0
        self.embed_tokens = nn.Embedding(vocab_size, embedding_dim, padding_idx)
        self.embed_positions = (nn.Embedding(max_positions + self.position_offset, embedding_dim)
                                if max_positions > 0 else None)
        self.embed_segments = nn.Embedding(num_segments, embedding_dim) if num_segments > 0 else None
        self.layernorm_embedding = nn.LayerNorm(embedding_dim, eps=layernorm_eps) if layernorm else None
        self.dropout = nn.Dropout(dropout)
        self.embed_projection = nn.Linear(embedding_dim, hidden_dim) if embedding_dim != hidden_dim else None

    def positions(self, tokens: torch.Tensor) -> torch.Tensor:
        if self.padding_offset_positions:
            not_pad = tokens.ne(self.padding_idx).long()
            return torch.cumsum(not_pad, dim=1) * not_pad + self.padding_idx
        return torch.arange(tokens.size(1), device=tokens.device).unsqueeze(0).expand_as(tokens)

    def forward(self, tokens: torch.Tensor, segments: Optional[torch.Tensor] = None,
                positions: Optional[torch.Tensor] = None) -> torch.Tensor:
        x = self.embed_tokens(tokens)
        if self.embed_positions is not None:
            x = x + self.embed_positions(self.positions(tokens) if positions is None else positions)
        if self.embed_segments is not None:
            if segments is None:
                x = x + self.embed_segments.weight[0]
            else:
                x = x + self.embed_segments(segments)
        if self.layernorm_embedding is not None:
            x = self.layernorm_embedding(x)
        x = self.dropout(x)
        if self.embed_projection is not None:
            x = self.embed_projection(x)
        return x
