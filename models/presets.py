"""Network presets shared by the per-style and arbitrary stylizers (tiny → base), chosen by measurement.

A preset names a network's width and depth (`model_kwargs: {preset: base}`); `size` always means pixels.
`tiny` is the lean depthwise-separable net that runs in real time on a laptop CPU; `base` is the classic
Johnson et al. (2016) transformer width (32/64/128 channels, 5 residual blocks, full 3×3 convolutions,
~1.7 M parameters); `small` keeps base's width with separable convolutions. README's preset table gives
parameters, ONNX Runtime latency and the objective each reaches.

Files written before the preset had its own name (checkpoints, ONNX exports, the bundled model cards) say
`size` in their model_kwargs; `current_kwargs` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping, Sequence

from strotss.errors import UserError

PresetName = Literal["tiny", "small", "base"]
LEGACY_KWARGS = {"size": "preset"}  # model_kwargs keys of older files → today's


@dataclass(frozen=True)
class Preset:
    """Encoder/decoder widths (stride 1, 2, 4), residual blocks at stride 4, and depthwise-separable convs."""

    channels: tuple[int, int, int]
    num_blocks: int
    separable: bool


PRESETS: dict[str, Preset] = {
    "tiny": Preset((16, 32, 64), 4, True),
    "small": Preset((32, 64, 128), 5, True),
    "base": Preset((32, 64, 128), 5, False),
}


def resolve_preset(preset: str, channels: Sequence[int] | None, num_blocks: int | None,
                   separable: bool | None) -> Preset:
    """The named preset with any explicitly given field overriding it."""
    if preset not in PRESETS:
        raise UserError(f"model_kwargs preset {preset!r}: choose one of {', '.join(PRESETS)}")
    base = PRESETS[preset]
    return Preset(tuple(channels) if channels is not None else base.channels,  # type: ignore[arg-type]
                  base.num_blocks if num_blocks is None else num_blocks,
                  base.separable if separable is None else separable)


def current_kwargs(kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """model_kwargs as the networks take them today: the keys of older files renamed (`size` → `preset`)."""
    return {LEGACY_KWARGS.get(k, k): v for k, v in (kwargs or {}).items()}
