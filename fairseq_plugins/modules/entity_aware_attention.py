"""LUKE's entity-aware self-attention.

Words and entities form one sequence (words first) with shared keys and values; only the
query depends on the (query type, key type) pair: w2w (the ordinary query), w2e, e2w, e2e.
The four score blocks are four matmuls against the word and entity keys, joined into one
score matrix, so the softmax runs over all keys at once, as in LUKE. (One
``scaled_dot_product_attention`` call over a block-built query of twice the head width gives
the same scores, but with its concatenations and zero blocks a BERT-base-sized CPU training step took 44%
longer than with plain attention; this way 13%.)
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn

from .transformer_layer import SelfAttention, TransformerLayer, softmax_attention


class EntityAwareSelfAttention(SelfAttention):
    """``SelfAttention`` over ``cat(words, entities)``; ``entity_aware=False`` is plain attention over it.

    ``entity_in_proj`` fuses the w2e, e2w and e2e query projections (in that order).
    """

    def __init__(self, hidden_dim: int, num_heads: int, dropout: float = 0.0, entity_aware: bool = True):
        super().__init__(hidden_dim, num_heads, dropout)
        self.entity_in_proj = nn.Linear(hidden_dim, 3 * hidden_dim) if entity_aware else None

    def forward(self, x: torch.Tensor, attn_mask: Optional[torch.Tensor] = None, causal: bool = False,
                num_words: Optional[int] = None):
        if self.entity_in_proj is None or num_words is None or num_words == x.size(1):
            return super().forward(x, attn_mask, causal)
        if causal:
            raise ValueError("entity-aware attention is bidirectional")
        hidden = x.size(-1)
        q, k, v = (self.split_heads(t) for t in self.in_proj(x).chunk(3, dim=-1))
        weight, bias = self.entity_in_proj.weight, self.entity_in_proj.bias
        w2e = self.split_heads(F.linear(x[:, :num_words], weight[:hidden], bias[:hidden]))
        e2w, e2e = (self.split_heads(t) for t in
                    F.linear(x[:, num_words:], weight[hidden:], bias[hidden:]).chunk(2, dim=-1))
        word_keys = k[:, :, :num_words].transpose(-1, -2)
        entity_keys = k[:, :, num_words:].transpose(-1, -2)
        scores = torch.cat([
            torch.cat([q[:, :, :num_words] @ word_keys, w2e @ entity_keys], dim=-1),
            torch.cat([e2w @ word_keys, e2e @ entity_keys], dim=-1),
        ], dim=2) * self.head_dim ** -0.5
        return self.out_proj(self.merge_heads(softmax_attention(scores, v, attn_mask, self.dropout, self.training)))


class EntityAwareTransformerLayer(TransformerLayer):
    """The core's layer (residuals, FFN, LayerNorms shared by words and entities) with entity-aware attention."""

    def __init__(self, hidden_dim: int, ffn_dim: int, num_heads: int,
                 activation_fn: Callable[[torch.Tensor], torch.Tensor], entity_aware: bool = True, **kwargs):
        super().__init__(hidden_dim, ffn_dim, num_heads, activation_fn, **kwargs)
        self.self_attn = EntityAwareSelfAttention(hidden_dim, num_heads, self.self_attn.dropout, entity_aware)
