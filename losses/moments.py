"""Moment matching (method note, loss term 2): mean |μ_A − μ_B| + mean |Σ_A − Σ_B| over channels.

The covariance term's gradient, 2/N · (A − μ_A)·sign(Σ_A − Σ_B)/C², is applied with one matmul through
a surrogate (autograd would run two), so the term costs two C×C×N products instead of three.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from strotss.losses.gram import gram
from strotss.choices import LossPrecision
from strotss.losses.precision import low_precision_matmul


class Moments(NamedTuple):
    """Per-set channel mean (B×C) and covariance (B×C×C, 1/N normalization as in the authors' code)."""

    mean: torch.Tensor
    cov: torch.Tensor


def moments(x: torch.Tensor) -> Moments:
    """Mean and 1/N covariance of B×N×C samples; cache the style's once instead of every step."""
    mean = x.mean(dim=1)
    xc = x - mean.unsqueeze(1)
    return Moments(mean, gram(xc.transpose(1, 2)) / x.shape[1])


def moment_loss(a: torch.Tensor, target: Moments | torch.Tensor, loss_precision: LossPrecision = "fp32"
                ) -> torch.Tensor:
    """mean|μ_a − μ_t| + mean|Σ_a − Σ_t| → B; target is samples (B×M×C) or precomputed Moments (constant).

    loss_precision (see strotss.losses.precision) sets the dtype of the gradient's matmul; the value stays exact.
    """
    t = target if isinstance(target, Moments) else moments(target.detach())
    n, c = a.shape[1], a.shape[2]
    mean = a.mean(dim=1)
    xc = a - mean.unsqueeze(1)
    with torch.no_grad():
        diff = gram(xc.transpose(1, 2)) / n - t.cov
        value = diff.abs().mean(dim=(-2, -1))
        pull = low_precision_matmul(xc, diff.sign_(), loss_precision) * (2.0 / (n * c * c))
    surrogate = (xc * pull).sum(dim=(1, 2))
    return (mean - t.mean).abs().mean(dim=-1) + value + surrogate - surrogate.detach()
