"""UER-py's recurrent encoders: ``rnn``/``lstm``/``gru`` (optionally ``--bidirectional``) and ``birnn``/``bilstm``/``bigru``.

The two bidirectional forms differ on purpose. ``--bidirectional`` is torch's own: from the second
layer on, each direction reads both directions of the layer below, so every output has seen the
whole sentence (fine for ``mlm``/``cls``). The ``bi*`` encoders run two independent stacks, one on
the reversed sequence, and concatenate them: the first half of each output has seen only the past,
the second half only the future, which is what ELMo's ``bilm`` target needs.

Given the padding mask of a right-padded batch, every stack reads only each row's real tokens
(packed sequences; the backward stream reverses each row within its length), so a sentence's
states do not depend on how much padding follows it. UER pads every batch to one fixed length and
never notices; batches made by length would. The parameters are the plain ``nn.RNN/LSTM/GRU``
ones either way, so UER checkpoints convert unchanged.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _stack(cell: str, input_dim: int, hidden_dim: int, layers: int, dropout: float, bidirectional: bool):
    return CELLS[cell](input_size=input_dim, hidden_size=hidden_dim, num_layers=layers, dropout=dropout,
                       batch_first=True, bidirectional=bidirectional)


def _split_hidden(hidden_dim: int, what: str) -> int:
    if hidden_dim % 2:
        raise ValueError(f"{what} needs an even hidden size (each direction gets half), got {hidden_dim}")
    return hidden_dim // 2


def real_lengths(padding_mask: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
    """Each row's token count from a B x T mask (True on padding); None when nothing is padded, where
    the plain call is already exact. Only right padding has lengths, so other layouts are refused."""
    if padding_mask is None or not padding_mask.any():
        return None
    lengths = (~padding_mask).sum(1)
    positions = torch.arange(padding_mask.size(1), device=padding_mask.device)
    if not torch.equal(padding_mask, positions[None] >= lengths[:, None]):
        raise ValueError("recurrent encoders need right-padded batches (all padding after the tokens)")
    return lengths.clamp(min=1)  # an all-padding row: its one step is never a real position


def _run(rnn: nn.RNNBase, x: torch.Tensor, lengths: Optional[torch.Tensor]) -> torch.Tensor:
    """``rnn``'s outputs for the first ``lengths[i]`` steps of row i; zeros after them."""
    if lengths is None:
        return rnn(x)[0]
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    return pad_packed_sequence(rnn(packed)[0], batch_first=True, total_length=x.size(1))[0]


def _reverse_rows(x: torch.Tensor, lengths: Optional[torch.Tensor]) -> torch.Tensor:
    """Reverse each row's first ``lengths[i]`` steps, padding staying in place (its own inverse)."""
    if lengths is None:
        return x.flip(1)
    positions = torch.arange(x.size(1), device=x.device)[None]
    last = lengths.to(x.device)[:, None] - 1
    index = torch.where(positions <= last, last - positions, positions)
    return x.gather(1, index[..., None].expand_as(x))


class RnnEncoder(nn.Module):
    """One ``nn.RNN/LSTM/GRU`` stack; with ``bidirectional`` each direction gets half the hidden size."""

    def __init__(self, cell: str, input_dim: int, hidden_dim: int, layers: int, dropout: float,
                 bidirectional: bool = False):
        super().__init__()
        per_direction = _split_hidden(hidden_dim, f"--bidirectional {cell}") if bidirectional else hidden_dim
        self.rnn = _stack(cell, input_dim, per_direction, layers, dropout, bidirectional)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.dropout(_run(self.rnn, x, real_lengths(padding_mask)))


class BiRnnEncoder(nn.Module):
    """Independent forward and backward stacks (the backward one reads the flipped sequence), concatenated."""

    def __init__(self, cell: str, input_dim: int, hidden_dim: int, layers: int, dropout: float):
        super().__init__()
        half = _split_hidden(hidden_dim, f"bi{cell}")
        self.rnn_forward = _stack(cell, input_dim, half, layers, dropout, False)
        self.rnn_backward = _stack(cell, input_dim, half, layers, dropout, False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        lengths = real_lengths(padding_mask)
        forward = _run(self.rnn_forward, x, lengths)
        backward = _reverse_rows(_run(self.rnn_backward, _reverse_rows(x, lengths), lengths), lengths)
        return self.dropout(torch.cat([forward, backward], dim=-1))
