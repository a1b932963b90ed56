"""Attention-only layers for UER-py's ``attn`` and ``synt`` encoders, pluggable into ``TransformerEncoderCore``.

Both keep ``TransformerLayer``'s call contract ``(x, attn_mask, causal)`` so that the shared core
runs them (padding masks, cross-layer sharing). ``attn`` stacks bare multi-head attention (no
residual, no feed-forward), as UER does. ``synt`` is the Synthesizer (Tay et al. 2020): a
post-LN transformer layer whose attention weights are synthesized from each token alone
(``dense``) or learned as a free T x T matrix (``random``) instead of query-key products.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from .transformer_layer import SelfAttention, TransformerLayer


class AttentionOnlyLayer(nn.Module):
    def __init__(self, hidden_dim: int, num_heads: int, dropout: float):
        super().__init__()
        self.self_attn = SelfAttention(hidden_dim, num_heads, dropout)

    def forward(self, x: torch.Tensor, attn_mask: Optional[torch.Tensor] = None, causal: bool = False):
        return self.self_attn(x, attn_mask, causal)


class SynthesizerAttention(nn.Module):
    """Synthesized attention weights over at most ``max_length`` positions, applied to G(x)."""

    def __init__(self, hidden_dim: int, max_length: int, kind: str, dropout: float):
        super().__init__()
        if kind not in ("dense", "random"):
            raise ValueError(f"synthesizer type must be dense or random, got {kind!r}")
        self.kind = kind
        if kind == "dense":
            self.f_1 = nn.Linear(hidden_dim, max_length)
            self.f_2 = nn.Linear(max_length, max_length)
        else:
            self.scores = nn.Parameter(torch.randn(max_length, max_length))
        self.values = nn.Linear(hidden_dim, hidden_dim)
        self.out_proj = nn.Linear(hidden_dim, hidden_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, attn_mask: Optional[torch.Tensor] = None, causal: bool = False):
        length = x.size(1)
        if self.kind == "dense":
            scores = self.f_2(torch.relu(self.f_1(x)))[:, :, :length]
        else:
            scores = self.scores[:length, :length].expand(x.size(0), length, length)
        if attn_mask is not None:  # boolean B x 1 x (1|T) x T, True = may attend
            scores = scores.masked_fill(~attn_mask[:, 0], float("-inf"))
        if causal:
            future = torch.ones(length, length, dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(future, float("-inf"))
        probs = self.dropout(torch.softmax(scores, dim=-1))
        return self.out_proj(probs @ self.values(x))


class SynthesizerLayer(TransformerLayer):
    """``TransformerLayer`` (post-LN, feed-forward, residuals) with synthesized attention."""

    def __init__(self, hidden_dim: int, ffn_dim: int, activation_fn, max_length: int, kind: str,
                 dropout: float = 0.1, layernorm_eps: float = 1e-6):
        super().__init__(hidden_dim, ffn_dim, 1, activation_fn, dropout=dropout, attention_dropout=dropout,
                         layernorm_eps=layernorm_eps)
        self.self_attn = SynthesizerAttention(hidden_dim, max_length, kind, dropout)
