"""Laplacian pyramid used to parameterize the optimized image (method note, "Per-image optimizer")."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of a B×C×H×W tensor, as the authors' pyramid does."""
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def laplacian_pyramid(image: torch.Tensor, levels: int = 5) -> list[torch.Tensor]:
    """Decompose into `levels` band-pass images (finest first) plus one low-pass residual."""
    bands = []
    cur = image
    for _ in range(levels):
        h, w = cur.shape[-2:]
        small = _resize(cur, (max(h // 2, 1), max(w // 2, 1)))
        bands.append(cur - _resize(small, (h, w)))
        cur = small
    return bands + [cur]


def collapse_pyramid(pyramid: list[torch.Tensor]) -> torch.Tensor:
    """Rebuild the image from its pyramid (exact inverse of laplacian_pyramid)."""
    cur = pyramid[-1]
    for band in reversed(pyramid[:-1]):
        cur = band + _resize(cur, band.shape[-2:])
    return cur


def finest_band(image: torch.Tensor) -> torch.Tensor:
    """The highest-frequency Laplacian band: the content detail added to each scale's initialization."""
    return laplacian_pyramid(image, levels=1)[0]
