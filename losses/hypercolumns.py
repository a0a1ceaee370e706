"""Hypercolumns: RGB plus every feature map, read at (sub-)pixel positions by bilinear interpolation.

Method note, "Features": a position (y, x) in image pixels is read at (y, x) / stride in each layer,
clamped to the map's border, with bilinear weights — one batched `grid_sample` per layer.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _read(maps: torch.Tensor, coords: torch.Tensor, stride: float) -> torch.Tensor:
    """Bilinearly read B×C×h×w maps at B×N×2 (y, x) image positions divided by stride → B×N×C."""
    h, w = maps.shape[-2:]
    pos = coords / stride
    gy = pos[..., 0] * (2.0 / max(h - 1, 1)) - 1.0
    gx = pos[..., 1] * (2.0 / max(w - 1, 1)) - 1.0
    grid = torch.stack((gx, gy), dim=-1).unsqueeze(1).to(maps.dtype)
    out = F.grid_sample(maps, grid, mode="bilinear", padding_mode="border", align_corners=True)
    return out.squeeze(2).transpose(1, 2)


def sample_hypercolumns(rgb: torch.Tensor, feats: list[torch.Tensor], coords: torch.Tensor,
                        strides: list[int]) -> torch.Tensor:
    """Concatenate RGB and every feature map read at coords (B×N×2, (y, x) pixels) into B×N×C hypercolumns."""
    if coords.dim() == 2:
        coords = coords.unsqueeze(0).expand(rgb.shape[0], -1, -1)
    coords = coords.to(rgb.device, torch.float32)
    parts = [_read(rgb, coords, 1.0)]
    parts += [_read(f, coords, float(s)) for f, s in zip(feats, strides)]
    return torch.cat(parts, dim=-1)
