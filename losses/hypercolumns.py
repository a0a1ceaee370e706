"""Hypercolumns: RGB plus every feature map, read at (sub-)pixel positions by bilinear interpolation.

Method note, "Features": a position (y, x) in image pixels is read at (y, x) / stride in each layer,
clamped to the map's border, with bilinear weights. Each layer is read with one gather of the four
neighbours (backward: one scatter-add), about twice as fast on CPU as `grid_sample`'s backward.
`ReadThrough` reads a map inside a network's forward pass so that backward adds the reads' gradient
into the network's own gradient in place, instead of into a dense zero map that autograd then adds.
"""

from __future__ import annotations

from typing import Any

import torch


def bilinear_corners(coords: torch.Tensor, stride: float, h: int, w: int, dtype: torch.dtype
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat indices and weights (both B×4N) of the four neighbours of B×N×2 (y, x) positions / stride in h×w."""
    pos = coords / stride
    y = pos[..., 0].clamp(0, h - 1)
    x = pos[..., 1].clamp(0, w - 1)
    y0 = y.floor().clamp(max=max(h - 2, 0))
    x0 = x.floor().clamp(max=max(w - 2, 0))
    wy, wx = (y - y0).to(dtype), (x - x0).to(dtype)
    y0, x0 = y0.long(), x0.long()
    y1, x1 = (y0 + 1).clamp(max=h - 1), (x0 + 1).clamp(max=w - 1)
    index = torch.cat((y0 * w + x0, y0 * w + x1, y1 * w + x0, y1 * w + x1), dim=-1)
    weight = torch.cat(((1 - wy) * (1 - wx), (1 - wy) * wx, wy * (1 - wx), wy * wx), dim=-1)
    return index, weight


def gather_bilinear(maps: torch.Tensor, index: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Read B×C×h×w maps at precomputed corners (B×4N indices and weights) → B×N×C."""
    b, c = maps.shape[:2]
    corners = torch.gather(maps.flatten(2), 2, index.unsqueeze(1).expand(-1, c, -1))
    return (corners * weight.unsqueeze(1)).view(b, c, 4, -1).sum(dim=2).transpose(1, 2)


class ReadThrough(torch.autograd.Function):
    """Identity on a feature map that also returns its bilinear reads at fixed positions.

    Backward adds the reads' gradient into the map's downstream gradient in place. Only valid where that
    gradient is a fresh tensor no other node holds (a map consumed by one conv or pooling layer, as in a
    VGG trunk) or absent (the last tap).
    """

    @staticmethod
    def forward(ctx: Any, maps: torch.Tensor, index: torch.Tensor, weight: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        ctx.save_for_backward(index, weight)
        ctx.map_shape = maps.shape
        return maps.view_as(maps), gather_bilinear(maps, index, weight)

    @staticmethod
    def backward(ctx: Any, grad_maps: torch.Tensor | None, grad_reads: torch.Tensor | None
                 ) -> tuple[torch.Tensor | None, None, None]:
        index, weight = ctx.saved_tensors
        b, c, h, w = ctx.map_shape
        if grad_maps is None:
            grad_maps = torch.zeros(ctx.map_shape, dtype=weight.dtype, device=weight.device)
        if grad_reads is None:
            return grad_maps, None, None
        flat = grad_maps.reshape(b, c, h * w)
        spread = grad_reads.transpose(1, 2).contiguous().unsqueeze(2) * weight.view(b, 1, 4, -1)
        flat.scatter_add_(2, index.unsqueeze(1).expand(-1, c, -1), spread.reshape(b, c, -1).to(flat.dtype))
        return flat.view(b, c, h, w), None, None


def read_bilinear(maps: torch.Tensor, coords: torch.Tensor, stride: float) -> torch.Tensor:
    """Bilinearly read B×C×h×w maps at B×N×2 (y, x) image positions divided by stride → B×N×C."""
    index, weight = bilinear_corners(coords, stride, maps.shape[-2], maps.shape[-1], maps.dtype)
    return gather_bilinear(maps, index, weight)


def batched_coords(coords: torch.Tensor, batch: int, device: torch.device) -> torch.Tensor:
    """B×N×2 float32 positions on device from N×2 (shared by the batch) or B×N×2 positions."""
    if coords.dim() == 2:
        coords = coords.unsqueeze(0).expand(batch, -1, -1)
    return coords.to(device, torch.float32)


def sample_hypercolumns(rgb: torch.Tensor, feats: list[torch.Tensor], coords: torch.Tensor,
                        strides: list[int]) -> torch.Tensor:
    """Concatenate RGB and every feature map read at coords (B×N×2, (y, x) pixels) into B×N×C hypercolumns."""
    coords = batched_coords(coords, rgb.shape[0], rgb.device)
    parts = [read_bilinear(rgb, coords, 1.0)]
    parts += [read_bilinear(f, coords, float(s)) for f, s in zip(feats, strides)]
    return torch.cat(parts, dim=-1)
