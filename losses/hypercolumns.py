"""Hypercolumns: RGB plus every feature map, read at (sub-)pixel positions by bilinear interpolation.

Method note, "Features": a position (y, x) in image pixels is read at (y, x) / stride in each layer,
clamped to the map's border, with bilinear weights. Each layer is read with one gather of the four
neighbours (backward: one scatter-add), about twice as fast on CPU as `grid_sample`'s backward.
"""

from __future__ import annotations

import torch


def _read(maps: torch.Tensor, coords: torch.Tensor, stride: float) -> torch.Tensor:
    """Bilinearly read B×C×h×w maps at B×N×2 (y, x) image positions divided by stride → B×N×C."""
    b, c, h, w = maps.shape
    pos = coords / stride
    y = pos[..., 0].clamp(0, h - 1)
    x = pos[..., 1].clamp(0, w - 1)
    y0 = y.floor().clamp(max=max(h - 2, 0))
    x0 = x.floor().clamp(max=max(w - 2, 0))
    wy, wx = (y - y0).to(maps.dtype), (x - x0).to(maps.dtype)
    y0, x0 = y0.long(), x0.long()
    y1, x1 = (y0 + 1).clamp(max=h - 1), (x0 + 1).clamp(max=w - 1)
    index = torch.cat((y0 * w + x0, y0 * w + x1, y1 * w + x0, y1 * w + x1), dim=-1)
    weight = torch.cat(((1 - wy) * (1 - wx), (1 - wy) * wx, wy * (1 - wx), wy * wx), dim=-1)
    corners = torch.gather(maps.flatten(2), 2, index.unsqueeze(1).expand(-1, c, -1))
    return (corners * weight.unsqueeze(1)).view(b, c, 4, -1).sum(dim=2).transpose(1, 2)


def sample_hypercolumns(rgb: torch.Tensor, feats: list[torch.Tensor], coords: torch.Tensor,
                        strides: list[int]) -> torch.Tensor:
    """Concatenate RGB and every feature map read at coords (B×N×2, (y, x) pixels) into B×N×C hypercolumns."""
    if coords.dim() == 2:
        coords = coords.unsqueeze(0).expand(rgb.shape[0], -1, -1)
    coords = coords.to(rgb.device, torch.float32)
    parts = [_read(rgb, coords, 1.0)]
    parts += [_read(f, coords, float(s)) for f, s in zip(feats, strides)]
    return torch.cat(parts, dim=-1)
