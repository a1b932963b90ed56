"""Turning LEAR's per-label boundary (and span) scores into spans.

Both decoders return, per batch row, a list of ``(start, end, label, score)`` with inclusive
token positions. Only positions where ``text_mask`` is True (text tokens, not ``[CLS]``,
``[SEP]`` or padding) can hold a boundary.
"""
from __future__ import annotations

from itertools import groupby
from typing import List, Tuple

import torch

Prediction = Tuple[int, int, int, float]


def decode_flat(start_probs: torch.Tensor, end_probs: torch.Tensor, text_mask: torch.Tensor,
                threshold: float = 0.5) -> List[List[Prediction]]:
    """LEAR's ``v5``: per label, one span per start block, its most probable start and most probable end after it.

    Scanning left to right per label: a position with ``p_start >= threshold`` first closes the
    pending span if an end was already seen, then becomes the start if it beats the current
    start; a position with ``p_end > threshold`` after a start becomes the end if it beats the
    current end. The pending span is emitted at the end. Score: ``p_start * p_end``.
    Inputs are ``[B, T, C]`` probabilities; only above-threshold positions are visited.
    """
    is_start = (start_probs >= threshold) & text_mask[..., None]
    is_end = (end_probs > threshold) & text_mask[..., None]
    events = sorted(map(tuple, (is_start | is_end).nonzero().tolist()), key=lambda e: (e[0], e[2], e[1]))
    out = [[] for _ in range(start_probs.size(0))]
    starts, ends = start_probs.tolist(), end_probs.tolist()
    for (b, c), group in groupby(events, key=lambda e: (e[0], e[2])):
        start = end = None
        start_p = end_p = 0.0
        for _, i, _ in group:
            p_start, p_end = starts[b][i][c], ends[b][i][c]
            if p_start >= threshold:
                if end is not None:
                    out[b].append((start, end, c, start_p * end_p))
                    start = end = None
                    start_p = end_p = 0.0
                if p_start > start_p:
                    start, start_p = i, p_start
            if p_end > threshold and start is not None and p_end > end_p:
                end, end_p = i, p_end
        if start is not None and end is not None:
            out[b].append((start, end, c, start_p * end_p))
    return out


def decode_nested(start_logits: torch.Tensor, end_logits: torch.Tensor, span_logits: torch.Tensor,
                  text_mask: torch.Tensor) -> List[List[Prediction]]:
    """LEAR's nested decode: span (i, j, c) where the span, start i and end j are all positive.

    ``span_logits[b, w, i, c]`` scores the span (i, i + w). Score: the product of the three
    probabilities.
    """
    out = [[] for _ in range(start_logits.size(0))]
    length = start_logits.size(1)
    for w in range(min(span_logits.size(1), length)):
        n = length - w
        hit = ((span_logits[:, w, :n] > 0) & (start_logits[:, :n] > 0) & (end_logits[:, w:] > 0)
               & text_mask[:, :n, None] & text_mask[:, w:, None])
        for b, i, c in hit.nonzero().tolist():
            logits = torch.stack([span_logits[b, w, i, c], start_logits[b, i, c], end_logits[b, i + w, c]])
            out[b].append((i, i + w, c, float(torch.sigmoid(logits).prod())))
    return out


def decode(net_output, text_mask: torch.Tensor, threshold: float = 0.5) -> List[List[Prediction]]:
    """The model's decode: nested when it has span scores, else ``v5``."""
    if net_output["span"] is not None:
        return decode_nested(net_output["start"], net_output["end"], net_output["span"], text_mask)
    return decode_flat(torch.sigmoid(net_output["start"]), torch.sigmoid(net_output["end"]), text_mask, threshold)
