"""Turn image-editor layers into colour region masks (and back), pair them, and save them as plain PNG files.

Rule for unpainted pixels: painted pixels take the nearest palette colour; unpainted pixels are black, and black
is one more region pair — the implicit background. So when both images are painted only partly, their unpainted
parts are paired with each other; when one image is fully painted and the other is not, the page asks to paint
or unpaint until both agree. When nothing is painted at all, there is no region guidance. An uploaded mask becomes
the base under new paint (shown tinted on the image). The saved masks keep black for unpainted pixels, so
`strotss optimize --regions` applies exactly the same rule.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from strotss.errors import UserError
from strotss.imageio import resize_nearest, write_image
from strotss.teacher.guidance import (RegionMasks, UnpairedRegion, merge_colours, region_colours, region_masks,
                                     snap_to_palette)

PALETTE = {
    "blue": (0, 0, 255), "green": (0, 255, 0), "red": (255, 0, 0), "yellow": (255, 255, 0),
    "magenta": (255, 0, 255), "cyan": (0, 255, 255), "orange": (255, 128, 0), "white": (255, 255, 255),
}
BACKGROUND = (0, 0, 0)
BRUSH_OPACITY = 0.6
ALPHA_MIN = 32
_COLOURS = np.array(list(PALETTE.values()), dtype=np.float32)
_NAMES = {v: k for k, v in PALETTE.items()} | {BACKGROUND: "unpainted (black)"}


def brush_colours() -> list[tuple[str, float]]:
    """The palette as (hex colour, opacity) pairs for gr.Brush."""
    return [("#%02x%02x%02x" % rgb, BRUSH_OPACITY) for rgb in PALETTE.values()]


def layers_to_mask(layers: list[np.ndarray] | None, hw: tuple[int, int], base: np.ndarray | None = None) -> np.ndarray:
    """Flatten RGBA editor layers (later on top) over a base mask into an H×W×3 mask: palette colours, black = unpainted."""
    mask = np.zeros((*hw, 3), dtype=np.uint8) if base is None else resize_nearest(base, hw).copy()
    for layer in layers or []:
        layer = np.asarray(layer)
        if layer.ndim != 3 or layer.shape[2] != 4:
            continue
        layer = resize_nearest(layer, hw)
        painted = layer[..., 3] >= ALPHA_MIN
        if not painted.any():
            continue
        rgb = layer[..., :3][painted].astype(np.float32)
        nearest = np.argmin(((rgb[:, None] - _COLOURS[None]) ** 2).sum(-1), axis=1)
        mask[painted] = _COLOURS[nearest].astype(np.uint8)
    return mask


def snap_mask(mask: np.ndarray, hw: tuple[int, int], name: str = "mask") -> np.ndarray:
    """Map an uploaded colour mask's colours to the palette (near-black = unpainted) at size hw; UserError, naming
    it, for a mask without a few clear region colours."""
    mask = resize_nearest(mask, hw)
    colours = merge_colours(region_colours(mask, name))
    labels = snap_to_palette(mask, colours)
    out = np.zeros_like(mask)
    taken: dict[tuple[int, ...], tuple[int, ...]] = {}
    for i, colour in enumerate(colours):
        if np.linalg.norm(colour) < 60.0:
            continue
        target = tuple(int(v) for v in _COLOURS[np.argmin(((_COLOURS - colour) ** 2).sum(-1))])
        rgb = tuple(int(round(v)) for v in colour)
        if target in taken:
            raise UserError(f"mask colours {taken[target]} and {rgb} both map to the palette's {_NAMES[target]}; "
                            f"use clearly different colours ({', '.join(PALETTE)}; black = unpainted)")
        taken[target] = rgb
        out[labels == i] = target
    return out


def tint(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The image with its painted mask pixels blended in at brush opacity, for display under new paint."""
    painted = mask.any(axis=-1, keepdims=True)
    blend = (1 - BRUSH_OPACITY) * image + BRUSH_OPACITY * mask.astype(np.float32)
    return np.where(painted, blend + 0.5, image).astype(np.uint8)


def pair_masks(content_mask: np.ndarray, style_mask: np.ndarray) -> RegionMasks | None:
    """The painted masks' region pairs by the optimizer's own rule (region_masks), None when nothing is painted.

    A region without partner is told in the page's words: palette names, and black as the unpainted background.
    """
    if not (content_mask.any() or style_mask.any()):
        return None
    try:
        return region_masks(content_mask, style_mask, content_mask.shape[:2], style_mask.shape[:2],
                            names=("content", "style"))
    except UnpairedRegion as exc:
        if exc.colour == BACKGROUND:
            raise UserError(f"the {exc.has} has unpainted pixels but the {exc.lacks} is fully painted; unpainted "
                            f"pixels form one background region that needs a partner: leave part of the "
                            f"{exc.lacks} unpainted, or paint the rest of the {exc.has}") from None
        raise UserError(f"{_NAMES.get(exc.colour, str(exc.colour))} is painted on the {exc.has} but not on the "
                        f"{exc.lacks}; paint the matching region of the {exc.lacks} with the same colour, or erase "
                        "it") from None


def save_masks(folder: str | os.PathLike, content_mask: np.ndarray, style_mask: np.ndarray) -> tuple[Path, Path]:
    """Write both colour masks as PNG files (re-uploadable, and usable with `strotss optimize --regions`)."""
    folder = Path(folder)
    return (write_image(folder / "content_mask.png", content_mask), write_image(folder / "style_mask.png", style_mask))
