"""The one encoder core: embeddings followed by a stack of transformer layers.

BERT, RoBERTa, ALBERT (factorized embedding, cross-layer parameter sharing) and
GPT-style causal encoders are configurations of this module; task heads sit on top.
"""
from __future__ import annotations

from typing import Callable, List, Optional

import torch
from torch import nn

from .transformer_embeddings import TransformerEmbeddings


class TransformerEncoderCore(nn.Module):
    """Runs ``num_layers`` layers built from ``num_layer_groups`` parameter sets.

    With groups < layers, consecutive layers share parameters as in ALBERT (layer i uses
    group ``i * groups // layers``). Returns every hidden state, batch first: the
    embedding output, then each layer's output (after the final LayerNorm for pre-LN).
    """

    def __init__(
        self,
        embeddings: TransformerEmbeddings,
        build_layer: Callable[[], nn.Module],
        num_layers: int,
        hidden_dim: int,
        num_layer_groups: Optional[int] = None,
        normalize_before: bool = False,
        layernorm_eps: float = 1e-12,
        causal: bool = False,
    ):
        super().__init__()
        groups = num_layer_groups or num_layers
        if not 1 <= groups <= num_layers or num_layers % groups:
            raise ValueError(f"{num_layers} layers cannot be split into {groups} shared groups")
        self.embeddings = embeddings
        self.layers = nn.ModuleList(build_layer() for _ in range(groups))
        self.num_layers = num_layers
        self.causal = causal
        self.final_layer_norm = nn.LayerNorm(hidden_dim, eps=layernorm_eps) if normalize_before else None

    @property
    def padding_idx(self) -> int:
        return self.embeddings.padding_idx

    def layer(self, i: int) -> nn.Module:
        return self.layers[i * len(self.layers) // self.num_layers]

    def attention_mask(self, tokens: torch.Tensor) -> Optional[torch.Tensor]:
        """Boolean mask (True = may attend), or None when nothing needs masking."""
        keys = tokens.ne(self.padding_idx)
        if not self.causal:
            return None if keys.all() else keys[:, None, None, :]
        length = tokens.size(1)
        if keys.all():
            return None
        eye = torch.eye(length, dtype=torch.bool, device=tokens.device)
        causal = torch.ones(length, length, dtype=torch.bool, device=tokens.device).tril()
        # A padding query sees itself, so that a row is never fully masked (NaN) under left padding.
        return causal & (keys[:, None, None, :] | eye)

    def forward(
        self,
        tokens: torch.Tensor,
        segments: Optional[torch.Tensor] = None,
        positions: Optional[torch.Tensor] = None,
    ) -> List[torch.Tensor]:
        x = self.embeddings(tokens, segments, positions)
        mask = self.attention_mask(tokens)
        states = [x]
        for i in range(self.num_layers):
            x = self.layer(i)(x, mask, self.causal)
            states.append(x)
        if self.final_layer_norm is not None:
            states[-1] = self.final_layer_norm(x)
        return states
