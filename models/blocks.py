"""Building blocks shared by the stylization networks: padded convolutions, residual blocks, resize-conv."""

from __future__ import annotations

import json
import math
from typing import Any, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from strotss.errors import UserError


def conv(c_in: int, c_out: int, kernel: int = 3, stride: int = 1, separable: bool = False) -> nn.Sequential:
    """Reflection-padded convolution; separable=True makes it depthwise k×k followed by pointwise 1×1."""
    pad = nn.ReflectionPad2d(kernel // 2)
    if separable:
        return nn.Sequential(pad, nn.Conv2d(c_in, c_in, kernel, stride, groups=c_in, bias=False),
                             nn.Conv2d(c_in, c_out, 1))
    return nn.Sequential(pad, nn.Conv2d(c_in, c_out, kernel, stride))


class ConvNormAct(nn.Sequential):
    """Convolution → instance norm (affine) → ReLU, the unit every encoder and decoder stage is made of."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 3, stride: int = 1, separable: bool = False,
                 upsample: bool = False) -> None:
        layers: list[nn.Module] = [nn.Upsample(scale_factor=2, mode="nearest")] if upsample else []
        layers += [conv(c_in, c_out, kernel, stride, separable), nn.InstanceNorm2d(c_out, affine=True),
                   nn.ReLU()]
        super().__init__(*layers)


class ResidualBlock(nn.Module):
    """Two instance-normalized convolutions with an identity shortcut."""

    def __init__(self, channels: int, separable: bool = True) -> None:
        super().__init__()
        self.body = nn.Sequential(ConvNormAct(channels, channels, separable=separable),
                                  conv(channels, channels, separable=separable),
                                  nn.InstanceNorm2d(channels, affine=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return x plus the block's residual."""
        return x + self.body(x)


class ModulatedNorm(nn.Module):
    """Instance norm without its own affine, scaled and shifted per sample by (gamma, beta) from a style code."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.norm = nn.InstanceNorm2d(channels, affine=False)

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        """AdaIN-style modulation: IN(x)·(1+gamma) + beta with gamma, beta of shape B×C."""
        return self.norm(x) * (1.0 + gamma[:, :, None, None]) + beta[:, :, None, None]


class FixedNoise(nn.Module):
    """Add a fixed, seeded Gaussian pattern of std `std` to B×3×H×W images of any size (a texture seed).

    A deterministic network paints nothing where the photo is flat (sky, walls): no input variation reaches
    its strokes. Fixed noise gives it some (Ulyanov et al., 2016, fed noise to texture networks), and being
    the same for every call it keeps video frames stable. Two tiles with coprime sides (251, 256 px), each of
    variance std²/2, add up to a pattern that repeats only every 64 256 px, stored in 1.5 MB of fp32.
    """

    sides = (251, 256)

    def __init__(self, std: float, channels: int = 3, seed: int = 0) -> None:
        super().__init__()
        self.std = std
        g = torch.Generator().manual_seed(seed)
        for i, side in enumerate(self.sides):
            tile = torch.randn(1, channels, side, side, generator=g) * (std / len(self.sides) ** 0.5)
            self.register_buffer(f"tile{i}", tile, persistent=False)  # regenerated from the seed, not saved

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x plus the pattern's top-left H×W window."""
        h, w = x.shape[-2:]
        for i, side in enumerate(self.sides):
            tile = getattr(self, f"tile{i}")
            x = x + tile.repeat(1, 1, (h + side - 1) // side, (w + side - 1) // side)[..., :h, :w].to(x.dtype)
        return x


class AlphaFiLM(nn.Module):
    """Per-channel scale and shift of a network's stages as a function of the content weight α (a real-time knob).

    log α, mapped to [-1, 1] over `alpha_range`, goes through a small MLP whose heads give (γ, β) for each
    stage; the heads start at zero, so a fresh network ignores α until training teaches it (Babaeizadeh and
    Ghiasi, 2018, adjust style strength the same way). α outside the range is clamped to it.
    """

    def __init__(self, channels: Sequence[int], alpha_range: Sequence[float], hidden: int = 64) -> None:
        super().__init__()
        lo, hi = (float(a) for a in alpha_range)
        if not 0 < lo < hi < float("inf"):
            raise UserError(f"model_kwargs alpha_range {list(alpha_range)}: give two content weights 0 < low < high")
        self.lo, self.hi = lo, hi
        self.embed = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.heads = nn.ModuleList(nn.Linear(hidden, 2 * c) for c in channels)
        for head in self.heads:
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)

    def for_batch(self, n: int, alpha: torch.Tensor | None, default: float, device: torch.device
                  ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """forward for a batch of n images at α (n values, one shared value, or None for `default`)."""
        if alpha is None:
            alpha = torch.full((n,), default, device=device)
        return self(alpha.reshape(-1).expand(n) if alpha.numel() == 1 else alpha.reshape(-1))

    def facts(self, default: float) -> dict[str, Any]:
        """What an exported graph records of the knob: its default α and range."""
        return {"alpha": default, "alpha_range": json.dumps([self.lo, self.hi])}

    def forward(self, alpha: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(γ, β), each B×C, for every stage, from a B-vector of content weights."""
        lo, hi = math.log(self.lo), math.log(self.hi)
        t = (torch.log(alpha.float().clamp(self.lo, self.hi)) - (lo + hi) / 2) / ((hi - lo) / 2)
        e = self.embed(t.reshape(-1, 1))
        return [tuple(head(e).chunk(2, dim=1)) for head in self.heads]  # type: ignore[misc]


def alpha_film(channels: Sequence[int], alpha_range: Sequence[float] | None, alpha: float | None
               ) -> tuple[AlphaFiLM | None, float | None]:
    """A network's α conditioning from its model_kwargs: the FiLM (None without alpha_range) and the default α
    (given, else the range's geometric middle)."""
    film = AlphaFiLM(channels, alpha_range) if alpha_range is not None else None
    if film is None and alpha is not None:
        raise UserError("model_kwargs alpha is the default of a network conditioned on α; give alpha_range too")
    default = float(alpha) if alpha is not None else (math.sqrt(film.lo * film.hi) if film is not None else None)
    return film, default


def modulate(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """FiLM: x·(1+γ) + β with γ, β of shape B×C."""
    return x * (1.0 + gamma[:, :, None, None].to(x.dtype)) + beta[:, :, None, None].to(x.dtype)


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Pad the bottom and right edges so H and W become multiples of `multiple`, and at least 2 × `multiple`.

    The floor keeps the deepest feature map at 2 px or more, which its reflection padding needs (thin and tiny
    images); pads as wide as the image itself repeat the edge, since a reflection cannot be that wide.
    """
    h, w = x.shape[-2:]
    ph, pw = max(2 * multiple, h + (-h) % multiple) - h, max(2 * multiple, w + (-w) % multiple) - w
    return F.pad(x, (0, pw, 0, ph), mode="reflect" if ph < h and pw < w else "replicate")


def residual_output(x: torch.Tensor, delta: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Sigmoid head around the input's logit: exact identity when delta is 0, always inside (0, 1)."""
    x = x.clamp(eps, 1.0 - eps)
    return torch.sigmoid(torch.log(x) - torch.log1p(-x) + delta)
