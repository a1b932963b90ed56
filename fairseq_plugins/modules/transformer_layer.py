"""One transformer layer (post-LN as in BERT, or pre-LN as in GPT-2) on ``scaled_dot_product_attention``."""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn


def softmax_attention(scores: torch.Tensor, v: torch.Tensor, attn_mask: Optional[torch.Tensor], dropout: float,
                      training: bool) -> torch.Tensor:
    """``dropout(softmax(scores + mask)) @ v``, for scores ``scaled_dot_product_attention`` cannot form (LUKE's
    entity-aware ones) and for CPU training with dropout, where SDPA runs this same math with extra copies
    (measured: 11% of a bf16 BERT-base training step). ``attn_mask`` as in :class:`SelfAttention`."""
    if attn_mask is not None:
        scores = (scores.masked_fill(~attn_mask, float("-inf")) if attn_mask.dtype == torch.bool
                  else scores + attn_mask)
    return F.dropout(scores.softmax(dim=-1), dropout, training) @ v


class SelfAttention(nn.Module):
    """Multi-head self-attention with one fused query/key/value projection.

    ``attn_mask`` is anything ``scaled_dot_product_attention`` accepts (boolean, True =
    may attend, or additive float), broadcastable to ``B x heads x T x T``.
    """

    def __init__(self, hidden_dim: int, num_heads: int, dropout: float = 0.0):
        super().__init__()
        if hidden_dim % num_heads:
            raise ValueError(f"hidden size {hidden_dim} is not a multiple of {num_heads} attention heads")
        self.num_heads = num_heads
        self.head_dim = hidden_dim // num_heads
        self.dropout = dropout
        self.in_proj = nn.Linear(hidden_dim, 3 * hidden_dim)
        self.out_proj = nn.Linear(hidden_dim, hidden_dim)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape
        return x.view(batch, length, self.num_heads, self.head_dim).transpose(1, 2)

    def merge_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, length, _ = x.shape
        return x.transpose(1, 2).reshape(batch, length, self.num_heads * self.head_dim)

    def forward(self, x: torch.Tensor, attn_mask: Optional[torch.Tensor] = None, causal: bool = False):
        q, k, v = (self.split_heads(t) for t in self.in_proj(x).chunk(3, dim=-1))
        dropout = self.dropout if self.training else 0.0
        if dropout and x.device.type == "cpu" and not causal:  # SDPA's fused CPU kernels take no dropout
            out = softmax_attention((q @ k.transpose(-1, -2)) * self.head_dim ** -0.5, v, attn_mask, dropout, True)
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=dropout,
                                                 is_causal=causal and attn_mask is None)
        return self.out_proj(self.merge_heads(out))


class TransformerLayer(nn.Module):
    """Self-attention + feed-forward block with residuals; ``normalize_before`` picks pre-LN."""

    def __init__(
        self,
        hidden_dim: int,
        ffn_dim: int,
        num_heads: int,
        activation_fn: Callable[[torch.Tensor], torch.Tensor],
        dropout: float = 0.1,
        attention_dropout: float = 0.1,
        activation_dropout: float = 0.0,
        layernorm_eps: float = 1e-12,
        normalize_before: bool = False,
    ):
        super().__init__()
        self.self_attn = SelfAttention(hidden_dim, num_heads, attention_dropout)
        self.self_attn_layer_norm = nn.LayerNorm(hidden_dim, eps=layernorm_eps)
        self.fc1 = nn.Linear(hidden_dim, ffn_dim)
        self.fc2 = nn.Linear(ffn_dim, hidden_dim)
        self.final_layer_norm = nn.LayerNorm(hidden_dim, eps=layernorm_eps)
        self.activation_fn = activation_fn
        self.dropout = nn.Dropout(dropout)
        self.activation_dropout = nn.Dropout(activation_dropout)
        self.normalize_before = normalize_before

    def feed_forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.fc2(self.activation_dropout(self.activation_fn(self.fc1(x)))))

    def forward(self, x: torch.Tensor, attn_mask: Optional[torch.Tensor] = None, causal: bool = False,
                **attn_kwargs):
        """``attn_kwargs`` go to the attention module (entity-aware attention takes ``num_words``)."""
        if self.normalize_before:
            x = x + self.dropout(self.self_attn(self.self_attn_layer_norm(x), attn_mask, causal, **attn_kwargs))
            return x + self.feed_forward(self.final_layer_norm(x))
        x = self.self_attn_layer_norm(x + self.dropout(self.self_attn(x, attn_mask, causal, **attn_kwargs)))
        return self.final_layer_norm(x + self.feed_forward(x))
