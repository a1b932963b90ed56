"""UER-py's recurrent encoders: ``rnn``/``lstm``/``gru`` (optionally ``--bidirectional``) and ``birnn``/``bilstm``/``bigru``.

The two bidirectional forms differ on purpose. ``--bidirectional`` is torch's own: from the second
layer on, each direction reads both directions of the layer below, so every output has seen the
whole sentence (fine for ``mlm``/``cls``). The ``bi*`` encoders run two independent stacks, one on
the reversed sequence, and concatenate them: the first half of each output has seen only the past,
the second half only the future, which is what ELMo's ``bilm`` target needs.
"""
from __future__ import annotations

import torch
from torch import nn

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _stack(cell: str, input_dim: int, hidden_dim: int, layers: int, dropout: float, bidirectional: bool):
    return CELLS[cell](input_size=input_dim, hidden_size=hidden_dim, num_layers=layers, dropout=dropout,
                       batch_first=True, bidirectional=bidirectional)


def _split_hidden(hidden_dim: int, what: str) -> int:
    if hidden_dim % 2:
        raise ValueError(f"{what} needs an even hidden size (each direction gets half), got {hidden_dim}")
    return hidden_dim // 2


class RnnEncoder(nn.Module):
    """One ``nn.RNN/LSTM/GRU`` stack; with ``bidirectional`` each direction gets half the hidden size."""

    def __init__(self, cell: str, input_dim: int, hidden_dim: int, layers: int, dropout: float,
                 bidirectional: bool = False):
        super().__init__()
        per_direction = _split_hidden(hidden_dim, f"--bidirectional {cell}") if bidirectional else hidden_dim
        self.rnn = _stack(cell, input_dim, per_direction, layers, dropout, bidirectional)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.rnn(x)[0])


class BiRnnEncoder(nn.Module):
    """Independent forward and backward stacks (the backward one reads the flipped sequence), concatenated."""

    def __init__(self, cell: str, input_dim: int, hidden_dim: int, layers: int, dropout: float):
        super().__init__()
        half = _split_hidden(hidden_dim, f"bi{cell}")
        self.rnn_forward = _stack(cell, input_dim, half, layers, dropout, False)
        self.rnn_backward = _stack(cell, input_dim, half, layers, dropout, False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        forward = self.rnn_forward(x)[0]
        backward = self.rnn_backward(x.flip(1))[0].flip(1)
        return self.dropout(torch.cat([forward, backward], dim=-1))
