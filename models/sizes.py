"""Named network sizes shared by the per-style and arbitrary stylizers (tiny → base), chosen by measurement.

`tiny` is the lean depthwise-separable net that runs in real time on a laptop CPU; `base` is the classic
Johnson et al. (2016) transformer width (32/64/128 channels, 5 residual blocks, full 3×3 convolutions,
~1.7 M parameters); `small` keeps base's width with separable convolutions. README's size table gives
parameters, ONNX Runtime latency and the objective each reaches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

from strotss.errors import UserError

Size = Literal["tiny", "small", "base"]


@dataclass(frozen=True)
class NetSize:
    """Encoder/decoder widths (stride 1, 2, 4), residual blocks at stride 4, and depthwise-separable convs."""

    channels: tuple[int, int, int]
    num_blocks: int
    separable: bool


SIZES: dict[str, NetSize] = {
    "tiny": NetSize((16, 32, 64), 4, True),
    "small": NetSize((32, 64, 128), 5, True),
    "base": NetSize((32, 64, 128), 5, False),
}


def resolve_size(size: str, channels: Sequence[int] | None, num_blocks: int | None,
                 separable: bool | None) -> NetSize:
    """The named size with any explicitly given field overriding it."""
    if size not in SIZES:
        raise UserError(f"model_kwargs size {size!r}: choose one of {', '.join(SIZES)}")
    base = SIZES[size]
    return NetSize(tuple(channels) if channels is not None else base.channels,  # type: ignore[arg-type]
                   base.num_blocks if num_blocks is None else num_blocks,
                   base.separable if separable is None else separable)
