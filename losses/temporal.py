"""Temporal consistency under synthetic camera motion: stylizing a moved frame should move the stylized frame.

A per-frame stylizer flickers on video because nothing asks f(move(x)) to equal move(f(x)) for the small
pans, zooms and rotations of a moving camera (strided convolutions alias; textures are pinned to the screen).
With a known motion no optical flow is needed (as in ReCoNet's and Huang et al.'s consistency training, with
exact affine motion instead of estimated flow): the loss is the L1 distance between the two, on the pixels
the moved frame sees inside the original.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def random_motion(n: int, generator: torch.Generator | None = None, shift: float = 0.05, zoom: float = 0.05,
                  angle: float = 2.0) -> torch.Tensor:
    """n small random camera moves as n×2×3 affines in normalised coordinates (moved pixel → original pixel).

    shift: largest translation per axis, as a fraction of the half-side (0.05 of 256 px ≈ 6 px, sub-pixel
    amounts included); zoom: largest relative scale change; angle: largest rotation in degrees.
    """
    u = torch.rand(n, 4, generator=generator, dtype=torch.float64) * 2 - 1
    scale = torch.exp(u[:, 0] * math.log1p(zoom))
    theta = u[:, 1] * math.radians(angle)
    cos, sin = torch.cos(theta) / scale, torch.sin(theta) / scale
    rows = [torch.stack([cos, -sin, u[:, 2] * shift], dim=1), torch.stack([sin, cos, u[:, 3] * shift], dim=1)]
    return torch.stack(rows, dim=1).float()


def warp(images: torch.Tensor, motion: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Resample B×C×H×W images with B affines (random_motion's convention), and a B×1×H×W mask of the pixels
    whose source lies inside the image (1) rather than beyond its border (0)."""
    grid = F.affine_grid(motion.to(images), list(images.shape), align_corners=False)
    moved = F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
    h, w = images.shape[-2:]
    margin = torch.tensor([1 - 1 / w, 1 - 1 / h], device=images.device, dtype=grid.dtype)
    inside = (grid.abs() <= margin).all(dim=-1).unsqueeze(1)
    return moved, inside.to(images.dtype)


def temporal_loss(output_of_moved: torch.Tensor, output: torch.Tensor, motion: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference (per image, B values) between f(move(x)) and move(f(x)) where move sees inside.

    output_of_moved: the stylizer's output for the moved input; output: its output for the input; motion: the
    B×2×3 affines that moved the input.
    """
    moved_output, inside = warp(output.float(), motion)
    diff = (output_of_moved.float() - moved_output).abs().mean(dim=1, keepdim=True) * inside
    return diff.sum(dim=(1, 2, 3)) / inside.sum(dim=(1, 2, 3)).clamp_min(1.0)
