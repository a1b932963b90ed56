"""Small heads over encoder features: masked-LM projection, the BERT pooler, per-token tag logits."""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn


class MaskedLMHead(nn.Module):
    """dense -> activation -> LayerNorm -> projection onto the (tied) word embeddings + bias.

    ``embedding_dim`` < ``hidden_dim`` is ALBERT's factorized head; otherwise this is BERT's
    and RoBERTa's. Only ``masked_tokens`` positions are projected when given.
    """

    def __init__(self, hidden_dim: int, embedding_dim: int, vocab_size: int,
                 activation_fn: Callable[[torch.Tensor], torch.Tensor], layernorm_eps: float = 1e-12,
                 weight: Optional[torch.Tensor] = None):
        super().__init__()
        self.dense = nn.Linear(hidden_dim, embedding_dim)
        self.activation_fn = activation_fn
        self.layer_norm = nn.LayerNorm(embedding_dim, eps=layernorm_eps)
        self.weight = weight if weight is not None else nn.Linear(embedding_dim, vocab_size, bias=False).weight
        self.bias = nn.Parameter(torch.zeros(vocab_size))

    def forward(self, features: torch.Tensor, masked_tokens: Optional[torch.Tensor] = None) -> torch.Tensor:
        if masked_tokens is not None:
            features = features[masked_tokens, :]
        x = self.layer_norm(self.activation_fn(self.dense(features)))
        return F.linear(x, self.weight) + self.bias


class Pooler(nn.Module):
    """BERT's pooler: tanh(dense(first token)), the input of next-sentence and sentence-order heads."""

    def __init__(self, hidden_dim: int):
        super().__init__()
        self.dense = nn.Linear(hidden_dim, hidden_dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dense(features[:, 0]))


class TokenClassificationHead(nn.Module):
    """dropout -> linear on every position: tag logits (BERT's token classifier, UER-py's NER output layer)."""

    def __init__(self, hidden_dim: int, num_tags: int, dropout: float = 0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(hidden_dim, num_tags)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.output(self.dropout(features))
