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
