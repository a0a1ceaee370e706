"""Self-similarity content loss (method note, loss term 4).

D_ij = 1 − cos(A_i, A_j) for the output and the content; each column is divided by its sum;
ℓ_c = (1/n) Σ_ij |D^X_ij/Σ_k D^X_kj − D^C_ij/Σ_k D^C_kj|. Invariant to a global rescaling of features.
The gradient is formed analytically on the n×n matrix and applied with one matmul (instead of the
two autograd would run), through a surrogate whose gradient is exact.
"""

from __future__ import annotations

import torch

from strotss.losses.gram import gram
from strotss.choices import LossPrecision
from strotss.losses.precision import low_precision_matmul
from strotss.losses.remd import unit

EPS = 1e-8


def normalized_self_distance(x_unit: torch.Tensor) -> torch.Tensor:
    """Column-normalized cosine self-distance of unit-length B×N×C rows → B×N×N."""
    d = 1.0 - gram(x_unit)
    return d / d.sum(dim=1, keepdim=True).clamp_min(EPS)


def self_similarity_loss_unit(out_unit: torch.Tensor, content_unit: torch.Tensor,
                              loss_precision: LossPrecision = "fp32") -> torch.Tensor:
    """Self-similarity loss from unit-length output (with grad) and content rows (B×N×C) → B.

    loss_precision (see strotss.losses.precision) sets the dtype of the gradient's matmul; the value stays exact.
    """
    n = out_unit.shape[1]
    with torch.no_grad():
        target = normalized_self_distance(content_unit)
        u = out_unit.detach()
        d = 1.0 - gram(u)
        colsum = d.sum(dim=1, keepdim=True)
        safe = colsum.clamp_min(EPS)
        p = d / safe
        diff = p - target
        value = diff.abs().sum(dim=(1, 2)) / n
        e = diff.sign() / n
        grad_d = (e - (colsum > EPS) * (e * p).sum(dim=1, keepdim=True)) / safe
        pull = -low_precision_matmul(grad_d + grad_d.transpose(-1, -2), u, loss_precision)
    surrogate = (out_unit * pull).sum(dim=(1, 2))
    return value + surrogate - surrogate.detach()


def self_similarity_loss(out: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Self-similarity loss between output and content hypercolumns (B×N×C) read at the same positions → B."""
    return self_similarity_loss_unit(unit(out), unit(content.detach()))
