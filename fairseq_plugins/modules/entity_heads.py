"""Heads over LUKE's word and entity states (Hugging Face's ``LukeFor*`` classifiers)."""
from __future__ import annotations

import torch
from torch import nn


class EntitySpanClassificationHead(nn.Module):
    """Linear over ``[word at span start ; word at span end ; entity]`` (span-enumeration NER)."""

    def __init__(self, hidden_dim: int, num_classes: int, dropout: float = 0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.out_proj = nn.Linear(3 * hidden_dim, num_classes)

    def forward(self, words: torch.Tensor, entities: torch.Tensor, starts: torch.Tensor,
                ends: torch.Tensor) -> torch.Tensor:
        hidden = words.size(-1)
        start = words.gather(1, starts.unsqueeze(-1).expand(-1, -1, hidden))
        end = words.gather(1, ends.unsqueeze(-1).expand(-1, -1, hidden))
        return self.out_proj(self.dropout(torch.cat([start, end, entities], dim=-1)))


class EntityClassificationHead(nn.Module):
    """Linear over the concatenated states of the first ``num_entities`` entities.

    One entity: Hugging Face's ``LukeForEntityClassification`` (entity typing); two, bias-free:
    ``LukeForEntityPairClassification`` (relation classification over ``[head ; tail]``)."""

    def __init__(self, hidden_dim: int, num_classes: int, num_entities: int = 1, dropout: float = 0.1,
                 bias: bool = True):
        super().__init__()
        self.num_entities = num_entities
        self.dropout = nn.Dropout(dropout)
        self.out_proj = nn.Linear(num_entities * hidden_dim, num_classes, bias=bias)

    def forward(self, entities: torch.Tensor) -> torch.Tensor:
        return self.out_proj(self.dropout(entities[:, :self.num_entities].flatten(1)))


class PlaceholderScoringHead(nn.Module):
    """One logit per candidate entity as the filler of the first entity (the placeholder):
    a linear over ``[placeholder ; candidate]`` (LUKE's ReCoRD scorer). B x (1 + E) x C -> B x E."""

    def __init__(self, hidden_dim: int, dropout: float = 0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.out_proj = nn.Linear(2 * hidden_dim, 1)

    def forward(self, entities: torch.Tensor) -> torch.Tensor:
        candidates = entities[:, 1:]
        placeholder = entities[:, :1].expand_as(candidates)
        return self.out_proj(self.dropout(torch.cat([placeholder, candidates], dim=-1))).squeeze(-1)
