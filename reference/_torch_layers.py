"""Custom torch layers, at module level so trained networks pickle (``check_estimators_pickle``).

Imported only by ``reference._torch_nets`` inside the functions that build networks, so
``import reference`` does not import torch.
"""

from __future__ import annotations

import torch
from torch import nn


class BasicBlock(nn.Module):
    """ResNet basic block: two 3 x 3 convs with batch norm, plus an identity or 1 x 1
    projection shortcut, then ReLU."""

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.ReLU(),
            nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False),
            nn.BatchNorm2d(out_ch),
        )
        self.shortcut = (
            nn.Identity()
            if stride == 1 and in_ch == out_ch
            else nn.Sequential(
                nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch)
            )
        )
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


class Maxout(nn.Module):
    """Maxout units ``max(W1 x + b1, ..., Wk x + bk)``: ``out_f`` units of ``pieces`` pieces."""

    def __init__(self, in_f: int, out_f: int, pieces: int = 2):
        super().__init__()
        self.out_f, self.pieces = out_f, pieces
        self.linear = nn.Linear(in_f, out_f * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).view(x.shape[0], self.out_f, self.pieces).max(dim=2).values
