"""The STROTSS objective (method note, loss term 5): content, relaxed EMD, moment and palette terms combined."""

from __future__ import annotations

from typing import NamedTuple

import torch

from strotss.choices import LossPrecision, Weighting
from strotss.losses.moments import Moments, moment_loss, moments
from strotss.losses.palette import palette_loss
from strotss.losses.remd import relaxed_emd, relaxed_emd_unit, unit
from strotss.losses.self_similarity import self_similarity_loss_unit
from strotss.method import ALPHA, WEIGHTING

class StyleTarget(NamedTuple):
    """Style hypercolumns (B×M×C), their unit-length copies and moments, computed once per style and scale."""

    samples: torch.Tensor
    unit: torch.Tensor
    moments: Moments


class PointTargets(NamedTuple):
    """Point-to-point guidance: output and style hypercolumns around paired points (B×P×K×C each)."""

    out: torch.Tensor
    style: torch.Tensor


def style_target(samples: torch.Tensor, point_samples: torch.Tensor | None = None) -> StyleTarget:
    """Cache a style's samples and moments; guidance point samples also enter the moments (method note)."""
    with torch.no_grad():
        pool = samples if point_samples is None else torch.cat([samples, point_samples.flatten(1, 2)], dim=1)
        return StyleTarget(samples.detach(), unit(samples), moments(pool))


def strotss_terms(out: torch.Tensor, content: torch.Tensor, style: StyleTarget,
                  points: PointTargets | None = None, loss_precision: LossPrecision = "fp32"
                  ) -> dict[str, torch.Tensor]:
    """The four loss terms (each B, keyed by strotss.method.TERMS) for output/content hypercolumns at the same
    positions and a style target.

    loss_precision (auto/fp32/bf16, see strotss.losses.precision): dtype of the relaxed EMD's nearest-neighbour
    search and of the matmuls that only form gradients (moment and self-similarity); values stay fp32.
    """
    out_unit = unit(out)
    remd = relaxed_emd_unit(out_unit, style.unit, loss_precision)
    moment_samples = out
    if points is not None:
        b, p, k, c = points.out.shape
        pair_remd = relaxed_emd(points.out.reshape(b * p, k, c), points.style.reshape(b * p, k, c))
        remd = remd + pair_remd.view(b, p).mean(dim=1)
        moment_samples = torch.cat([out, points.out.flatten(1, 2)], dim=1)
    return {
        "content": self_similarity_loss_unit(out_unit, unit(content.detach()), loss_precision),
        "remd": remd,
        "moment": moment_loss(moment_samples, style.moments, loss_precision),
        "palette": palette_loss(out[..., :3], style.samples[..., :3]),
    }


def combine_terms(terms: dict[str, torch.Tensor], alpha: float | torch.Tensor, weighting: Weighting = WEIGHTING
                  ) -> torch.Tensor:
    """Weight the terms as the authors' code, (αℓc+ℓr+ℓm+ℓp/max(α,1))/(α+2), or as the paper writes it.

    α is one number or one per image (B), as when a network conditioned on α trains across a range.
    """
    if weighting == "code":
        floor = alpha.clamp(min=1.0) if isinstance(alpha, torch.Tensor) else max(alpha, 1.0)
        total = alpha * terms["content"] + terms["remd"] + terms["moment"] + terms["palette"] / floor
        return total / (alpha + 2.0)
    if weighting == "paper":
        total = alpha * terms["content"] + terms["remd"] + terms["moment"] + terms["palette"] / alpha
        return total / (2.0 + alpha + 1.0 / alpha)
    raise ValueError(f"unknown weighting {weighting!r}; use 'code' or 'paper'")


def strotss_loss(out: torch.Tensor, content: torch.Tensor, style: StyleTarget, alpha: float | torch.Tensor = ALPHA,
                 weighting: Weighting = WEIGHTING, points: PointTargets | None = None,
                 loss_precision: LossPrecision = "fp32") -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Total STROTSS objective per image (B) and its terms, for hypercolumns already sampled."""
    terms = strotss_terms(out, content, style, points, loss_precision)
    return combine_terms(terms, alpha, weighting), terms
