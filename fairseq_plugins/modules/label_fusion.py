"""LEAR's heads: label-knowledge fusion, per-label classifiers and the nested span classifier.

Fusion turns text states ``[B, T, H]`` and label states into one representation per token *and
label* ``[B, T, C, H]``:

* ``attention`` (the paper's semantics-guided attention): each text token attends over each
  label's description tokens (dot product, no 1/sqrt(d) scaling, as LEAR), and
  ``tanh(W (t + attended))`` fuses them.
* ``cosine`` (LEAR's default code path): ``t + cos(t, l) * l`` with ``l`` the label's pooled
  description vector.
"""
from __future__ import annotations

import math
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint


class LabelAttentionFusion(nn.Module):
    def __init__(self, hidden_dim: int):
        super().__init__()
        self.text_proj = nn.Linear(hidden_dim, hidden_dim, bias=False)
        self.label_proj = nn.Linear(hidden_dim, hidden_dim, bias=False)
        self.out_proj = nn.Linear(hidden_dim, hidden_dim)

    def forward(self, text: torch.Tensor, labels: torch.Tensor, label_mask: torch.Tensor) -> torch.Tensor:
        """text [B, T, H]; labels [C, L, H]; label_mask [C, L] (True = a real token) -> [B, T, C, H]."""
        t = self.text_proj(text)
        lab = self.label_proj(labels)
        # Broadcast SDPA: queries [B, 1, T, H] against keys/values [1, C, L, H] -> [B, C, T, H].
        attended = F.scaled_dot_product_attention(t[:, None], lab[None], lab[None],
                                                  attn_mask=label_mask[None, :, None, :], scale=1.0)
        return torch.tanh(self.out_proj(t[:, :, None] + attended.transpose(1, 2)))


class LabelCosineFusion(nn.Module):
    def __init__(self, hidden_dim: int):
        super().__init__()
        self.text_proj = nn.Linear(hidden_dim, hidden_dim, bias=False)
        self.label_proj = nn.Linear(hidden_dim, hidden_dim, bias=False)

    def forward(self, text: torch.Tensor, pooled_labels: torch.Tensor) -> torch.Tensor:
        """text [B, T, H]; pooled_labels [C, H] -> [B, T, C, H]."""
        t = self.text_proj(text)[:, :, None]
        lab = self.label_proj(pooled_labels)[None, None]
        return t + F.cosine_similarity(t, lab, dim=-1)[..., None] * lab


class PerLabelClassifier(nn.Module):
    """One weight vector and bias per label: ``logit[..., c] = x[..., c, :] . W[c] + b[c]``."""

    def __init__(self, num_labels: int, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_labels, dim))
        self.bias = nn.Parameter(torch.empty(num_labels))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # nn.Linear's initialisation, as LEAR
        bound = 1 / math.sqrt(dim)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.weight).sum(-1) + self.bias


class SpanClassifier(nn.Module):
    """Per-label scores of (start, end) pairs up to ``max_width`` tokens, LEAR's nested head.

    LEAR scores ``Linear(2H, 2H) -> GELU -> dropout -> per-label classifier`` on
    ``concat(F[i], F[j])`` for all ``T^2`` pairs. The first linear layer splits into a start and
    an end half, so both are projected once per token; pairs are then formed one width at a
    time, only up to ``max_width``, and (when training) each chunk of widths is recomputed in
    the backward pass instead of being stored: memory is ``O(B T C H)`` per chunk, not
    ``O(B T^2 C H)``.
    """

    def __init__(self, num_labels: int, hidden_dim: int, dropout: float, max_width: int, chunk_widths: int = 4):
        super().__init__()
        self.start_proj = nn.Linear(hidden_dim, 2 * hidden_dim)
        self.end_proj = nn.Linear(hidden_dim, 2 * hidden_dim, bias=False)
        self.dropout = nn.Dropout(dropout)
        self.classifier = PerLabelClassifier(num_labels, 2 * hidden_dim)
        self.max_width = max_width
        self.chunk_widths = chunk_widths

    def forward(self, fused: torch.Tensor) -> torch.Tensor:
        """fused [B, T, C, H] -> logits [B, W, T, C]: ``[:, w, i, c]`` scores span (i, i + w); i + w >= T is 0."""
        start, end = self.start_proj(fused), self.end_proj(fused)
        length = fused.size(1)
        widths = min(self.max_width, length)
        chunks = []
        for lo in range(0, widths, self.chunk_widths):
            hi = min(lo + self.chunk_widths, widths)
            if self.training and torch.is_grad_enabled():
                chunks.append(checkpoint(self._score_widths, start, end, lo, hi, use_reentrant=False))
            else:
                chunks.append(self._score_widths(start, end, lo, hi))
        return torch.cat(chunks, dim=1)

    def _score_widths(self, start: torch.Tensor, end: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
        length = start.size(1)
        rows = []
        for w in range(lo, hi):
            logits = self.classifier(self.dropout(F.gelu(start[:, :length - w] + end[:, w:])))
            rows.append(F.pad(logits, (0, 0, 0, w)))
        return torch.stack(rows, dim=1)

