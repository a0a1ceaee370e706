"""Where hypercolumns are read: a randomly offset regular grid for output/content, random pixels for style.

Method note, "Sampling": output/content positions lie on a grid whose stride keeps it at most
128×128 positions, with a fresh random offset; style positions are random pixels. Masks restrict
both to a guidance region.
"""

from __future__ import annotations

import math

import torch


def grid_positions(height: int, width: int, *, max_side: int = 128, mask: torch.Tensor | None = None,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Integer (y, x) positions of a randomly offset regular grid of at most max_side² points, inside mask."""
    stride = max(1, math.ceil(max(height, width) / max_side))
    off = torch.randint(stride, (2,), generator=generator)
    ys = torch.arange(int(off[0]), height, stride)
    xs = torch.arange(int(off[1]), width, stride)
    pos = torch.cartesian_prod(ys, xs)
    if mask is not None:
        pos = pos[mask.cpu()[pos[:, 0], pos[:, 1]]]
    return pos.float()


def shuffled_subset(positions: torch.Tensor, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """A random subset of at most n rows, freshly shuffled (one optimization step's sample)."""
    perm = torch.randperm(positions.shape[0], generator=generator)[:n]
    return positions[perm]


def random_pixels(height: int, width: int, n: int, *, mask: torch.Tensor | None = None,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """n random integer (y, x) pixels inside mask (without replacement when the region is large enough)."""
    if mask is None:
        flat = torch.arange(height * width)
    else:
        flat = torch.nonzero(mask.cpu().reshape(-1), as_tuple=False).squeeze(1)
    if flat.numel() == 0:
        raise ValueError("cannot sample pixels from an empty region")
    if flat.numel() >= n:
        pick = flat[torch.randperm(flat.numel(), generator=generator)[:n]]
    else:
        pick = flat[torch.randint(flat.numel(), (n,), generator=generator)]
    return torch.stack((pick // width, pick % width), dim=1).float()


def neighbourhood(points: torch.Tensor, spacing: float) -> torch.Tensor:
    """Expand P×2 (y, x) points into P×9×2 positions of a 3×3 neighbourhood with the given spacing."""
    d = torch.tensor([-spacing, 0.0, spacing])
    offsets = torch.cartesian_prod(d, d)
    return points.float().unsqueeze(1) + offsets.unsqueeze(0)
