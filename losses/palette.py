"""Palette loss (method note, loss term 3): relaxed EMD on rotated RGB with cosine + L2 cost."""

from __future__ import annotations

import torch

from strotss.losses.remd import cosine_cost_pairs, relaxed_emd_with_cost, unit

# Orthonormal colour rotation of the authors' code; the first axis is the grey axis.
COLOUR_ROTATION = torch.tensor([[0.577350, 0.577350, 0.577350],
                                [-0.577350, 0.788675, -0.211325],
                                [-0.577350, -0.211325, 0.788675]])


def rotate_colours(rgb: torch.Tensor) -> torch.Tensor:
    """Rotate B×N×3 RGB samples into the decorrelated (grey, chroma, chroma) basis."""
    return rgb @ COLOUR_ROTATION.to(rgb).T


def _l2_term(sq: torch.Tensor) -> torch.Tensor:
    """sqrt(clamp(squared L2 / 3, 1e-5, 1e5)), the authors' bounded colour distance."""
    return torch.sqrt(torch.clamp(sq / 3.0, 1e-5, 1e5))


def palette_cost_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Cosine distance plus bounded L2 distance between every pair of colours → B×N×M (no autograd).

    Built in place from two small matmuls, since for N×M of 1024×5000 the elementwise passes dominate.
    """
    norms = a.pow(2).sum(-1, keepdim=True) + b.pow(2).sum(-1).unsqueeze(1)
    cost = torch.baddbmm(norms, a, b.transpose(1, 2).expand(a.shape[0], -1, -1), alpha=-2.0)
    cost.clamp_(min=0.0).div_(3.0).clamp_(1e-5, 1e5).sqrt_()
    return cost.sub_(unit(a) @ unit(b).transpose(1, 2)).add_(1.0)


def palette_cost_pairs(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Cosine distance plus bounded L2 distance row by row → B×K."""
    return cosine_cost_pairs(a, b) + _l2_term((a - b).pow(2).sum(-1))


def palette_loss(a_rgb: torch.Tensor, b_rgb: torch.Tensor) -> torch.Tensor:
    """Relaxed EMD between output colours (B×N×3) and style colours (B×M×3) after rotation → B."""
    return relaxed_emd_with_cost(rotate_colours(a_rgb), rotate_colours(b_rgb.detach()),
                                 palette_cost_matrix, palette_cost_pairs)
