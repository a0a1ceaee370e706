"""PerStyleNet: a lean feed-forward stylizer trained for one style (stride-4 residual encoder-decoder)."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn

from strotss.errors import UserError
from strotss.models.blocks import ConvNormAct, FixedNoise, ResidualBlock, conv, pad_to_multiple, residual_output
from strotss.models.metadata import STYLIZER
from strotss.models.network import ExportGraph, Method, Network, example_image
from strotss.models.presets import PresetName, resolve_preset


class PerStyleNet(Network):
    """Residual encoder-decoder with instance norm, reflection padding and resize-conv upsampling.

    `preset` names a preset of strotss.models.presets; channels, num_blocks and separable override it.
    `noise` > 0 adds a fixed Gaussian pattern of that std (RGB in [0, 1] units) to the input, which lets the
    network paint strokes on flat regions (strotss.models.blocks.FixedNoise); 0 leaves the input as it is.

    RGB in [0, 1] → RGB in [0, 1], any size; H and W are reflect-padded to a multiple of `stride`
    inside forward and cropped back. Export uses `forward_aligned` and lets the runtime pad.
    """

    def __init__(self, preset: PresetName = "tiny", channels: Sequence[int] | None = None,
                 num_blocks: int | None = None, separable: bool | None = None, noise: float = 0.0) -> None:
        super().__init__()
        if noise < 0:
            raise UserError(f"model_kwargs noise {noise}: the std of the fixed input noise must be 0 (none) or more")
        self.noise = FixedNoise(noise) if noise > 0 else nn.Identity()
        spec = resolve_preset(preset, channels, num_blocks, separable)
        (c0, c1, c2), num_blocks, separable = spec.channels, spec.num_blocks, spec.separable
        self.encoder = nn.Sequential(
            ConvNormAct(3, c0),
            ConvNormAct(c0, c1, stride=2, separable=separable),
            ConvNormAct(c1, c2, stride=2, separable=separable),
        )
        self.blocks = nn.Sequential(*(ResidualBlock(c2, separable) for _ in range(num_blocks)))
        self.decoder = nn.Sequential(
            ConvNormAct(c2, c1, separable=separable, upsample=True),
            ConvNormAct(c1, c0, separable=separable, upsample=True),
        )
        self.head = conv(c0, 3)
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)

    def forward_aligned(self, x: torch.Tensor) -> torch.Tensor:
        """Stylize a B×3×H×W batch whose H and W are multiples of `stride`."""
        x = self.noise(x)
        return residual_output(x, self.head(self.decoder(self.blocks(self.encoder(x)))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Stylize a B×3×H×W batch of RGB in [0, 1] of any size."""
        h, w = x.shape[-2:]
        return self.forward_aligned(pad_to_multiple(x, self.stride))[..., :h, :w]

    def onnx_graphs(self, style01: torch.Tensor | None = None) -> list[ExportGraph]:
        """One image → image graph of the stride-aligned forward (the runtime pads to the stride and crops back)."""
        return [ExportGraph(STYLIZER, Method(self, "forward_aligned"), (example_image(),), {})]
