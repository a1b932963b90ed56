"""Consecutive ``[CLS] tokens [SEP]`` windows over a text longer than the model reads at once.

Shared by LEAR and BIO tagging: both cut a text into non-overlapping windows of
``max_length - 2`` tokens, so every token lies in exactly one window and predictions can be put
back together over the whole text.
"""
from typing import Iterator, List, Sequence, Tuple

from ..errors import InputError


def window_width(max_length: int) -> int:
    """Text tokens per window, ``[CLS]`` and ``[SEP]`` taking two of ``max_length``."""
    if max_length < 3:
        raise InputError(None, f"max length {max_length} leaves no room for text between [CLS] and [SEP]",
                         field="max_length")
    return max_length - 2


def windows(ids: Sequence[int], width: int, cls: int, sep: int) -> Iterator[Tuple[int, List[int]]]:
    """``(first token index, [cls] + piece + [sep])`` per window; an empty text gives one empty window."""
    for lo in range(0, max(len(ids), 1), width):
        yield lo, [cls, *ids[lo:lo + width], sep]
