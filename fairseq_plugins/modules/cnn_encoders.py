"""UER-py's convolutional encoders: ``cnn``, ``gatedcnn`` and the mixed ``rcnn`` (LSTM -> CNN) / ``crnn`` (CNN -> LSTM).

Every convolution is causal: the input is left-padded by ``kernel_size - 1`` so that output t
depends on positions <= t only, which is why these encoders pair with the ``lm`` target.
``gatedcnn`` is Dauphin et al.'s gated linear unit stack as UER builds it: a first gated layer
from the embedding to the hidden size, then ``layers - 1`` gated layers with a residual
connection added every ``block_size`` layers.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .rnn_encoders import RnnEncoder


class CausalConv(nn.Conv1d):
    """``Conv1d`` over B x T x C inputs, left-padded so that no output sees the future."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x.transpose(1, 2), (self.kernel_size[0] - 1, 0))
        return super().forward(x).transpose(1, 2)


class CnnEncoder(nn.Module):
    """A first convolution to the hidden size and ``layers`` more, with no non-linearity between (as UER)."""

    def __init__(self, input_dim: int, hidden_dim: int, layers: int, kernel_size: int):
        super().__init__()
        self.convs = nn.ModuleList(
            [CausalConv(input_dim, hidden_dim, kernel_size)]
            + [CausalConv(hidden_dim, hidden_dim, kernel_size) for _ in range(layers)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = conv(x)
        return x


class GatedConv(nn.Module):
    """conv(x) * sigmoid(gate(x)): a gated linear unit over a causal convolution."""

    def __init__(self, input_dim: int, hidden_dim: int, kernel_size: int):
        super().__init__()
        self.conv = CausalConv(input_dim, hidden_dim, kernel_size)
        self.gate = CausalConv(input_dim, hidden_dim, kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) * torch.sigmoid(self.gate(x))


class GatedCnnEncoder(nn.Module):
    """``layers`` gated convolutions; residual blocks of ``block_size`` layers after the first."""

    def __init__(self, input_dim: int, hidden_dim: int, layers: int, kernel_size: int, block_size: int):
        super().__init__()
        if layers < 1 or block_size < 1:
            raise ValueError(f"gatedcnn needs layers >= 1 and block_size >= 1, got {layers} and {block_size}")
        self.block_size = block_size
        self.first = GatedConv(input_dim, hidden_dim, kernel_size)
        self.layers = nn.ModuleList(GatedConv(hidden_dim, hidden_dim, kernel_size) for _ in range(layers - 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = residual = self.first(x)
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if (i + 1) % self.block_size == 0:
                x = residual = x + residual
        return x


class RcnnEncoder(nn.Module):
    """A unidirectional LSTM, then a causal CNN stack over its outputs."""

    def __init__(self, input_dim: int, hidden_dim: int, layers: int, kernel_size: int, dropout: float):
        super().__init__()
        self.rnn = RnnEncoder("lstm", input_dim, hidden_dim, layers, dropout)
        self.cnn = CnnEncoder(hidden_dim, hidden_dim, layers - 1, kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cnn(self.rnn(x))


class CrnnEncoder(nn.Module):
    """A causal CNN stack, then a unidirectional LSTM over its outputs."""

    def __init__(self, input_dim: int, hidden_dim: int, layers: int, kernel_size: int, dropout: float):
        super().__init__()
        self.cnn = CnnEncoder(input_dim, hidden_dim, layers - 1, kernel_size)
        self.rnn = RnnEncoder("lstm", hidden_dim, hidden_dim, layers, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rnn(self.cnn(x))
