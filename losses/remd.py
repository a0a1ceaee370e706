"""Relaxed Earth Mover's Distance (method note, loss term 1) with gradient through the chosen pairs only.

ℓ_r = max(mean_i min_j C_ij, mean_j min_i C_ij). The argmins are found on the full N×M cost matrix
without autograd; the loss is then re-evaluated on the N + M chosen pairs only. Value and gradient
equal autograd through `min` exactly, without keeping the N×M matrix for backward.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

EPS = 1e-8
PairCost = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
MatrixCost = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def cosine_cost_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """C_ij = 1 − cos(a_i, b_j) for B×N×C and B×M×C inputs → B×N×M (zero vectors count as orthogonal)."""
    return 1.0 - F.normalize(a, dim=-1, eps=EPS) @ F.normalize(b, dim=-1, eps=EPS).transpose(-1, -2)


def cosine_cost_pairs(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """1 − cos(a_k, b_k) row by row for equally shaped B×K×C inputs → B×K."""
    return 1.0 - (F.normalize(a, dim=-1, eps=EPS) * F.normalize(b, dim=-1, eps=EPS)).sum(-1)


def _gather_rows(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """x[b, index[b, k]] for B×N×C x and B×K index → B×K×C."""
    return torch.gather(x, 1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def relaxed_emd(a: torch.Tensor, b: torch.Tensor, *, cost_matrix: MatrixCost = cosine_cost_matrix,
                cost_pairs: PairCost = cosine_cost_pairs) -> torch.Tensor:
    """Relaxed EMD between point sets a (B×N×C) and b (B×M×C) → B; defaults to the cosine cost."""
    with torch.no_grad():
        cost = cost_matrix(a, b)
        nearest_b = cost.argmin(dim=2)
        nearest_a = cost.argmin(dim=1)
    row = cost_pairs(a, _gather_rows(b, nearest_b)).mean(dim=1)
    col = cost_pairs(_gather_rows(a, nearest_a), b).mean(dim=1)
    return torch.maximum(row, col)
