"""Guidance inputs: colour-coded region masks and point-pair files, turned into per-scale boolean masks.

Method note, "Guidance": pixels of the same colour in the content and style masks form a region pair.
Mask colours are snapped to a palette of dominant colours, so noisy JPEG masks work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from strotss.errors import UserError
from strotss.imageio import check_mask_fits, read_rgb, resize_nearest
from strotss.textfiles import read_text

MIN_REGION_FRACTION = 0.002  # colours covering less than this are JPEG noise, not regions
MERGE_DISTANCE = 60.0        # dominant colours closer than this (RGB, 0–255) are one region colour
MAX_REGION_COLOURS = 32      # more region colours than this in one mask: a photo or a gradient, not a mask
MIN_REGION_COVERAGE = 0.5    # region colours must cover at least this share of a mask


class UnpairedRegion(UserError):
    """A colour that marks a region in one mask and none in the other (regions pair by colour)."""

    def __init__(self, colour: tuple[int, ...], has: str, lacks: str) -> None:
        self.colour, self.has, self.lacks = colour, has, lacks
        super().__init__(f"{has}: colour {colour} has no partner region in the {lacks}; paint the matching "
                         f"region in the {lacks} with the same colour, or remove it")


@dataclass
class RegionMasks:
    """Paired boolean masks at full resolution: content R×H×W and style R×H'×W', one row per colour."""

    colours: np.ndarray
    content: torch.Tensor
    style: torch.Tensor

    def at(self, content_hw: tuple[int, int], style_hw: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Both mask stacks resized (nearest) to one scale's content and style sizes."""
        return _resize_masks(self.content, content_hw), _resize_masks(self.style, style_hw)


def _resize_masks(masks: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """Nearest-neighbour resize of an R×H×W boolean stack."""
    return F.interpolate(masks[None].float(), size=hw, mode="nearest")[0] > 0.5


def _colour_bins(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A mask's pixels (N×3), each pixel's colour bin (8 levels per channel) and the bins' pixel counts."""
    px = mask.reshape(-1, 3).astype(np.int64)
    codes = (px // 32) @ np.array([64, 8, 1])
    return px, codes, np.bincount(codes, minlength=512)


def _large_bins(counts: np.ndarray, min_fraction: float) -> np.ndarray:
    """The indices of the colour bins covering at least min_fraction of the pixels."""
    return np.nonzero(counts >= max(1, min_fraction * counts.sum()))[0]


def dominant_colours(mask: np.ndarray, min_fraction: float = MIN_REGION_FRACTION) -> np.ndarray:
    """Mean colours of the 8-level-per-channel colour bins that cover at least min_fraction of the pixels."""
    px, codes, counts = _colour_bins(mask)
    keep = _large_bins(counts, min_fraction)
    sums = np.stack([np.bincount(codes, weights=px[:, c], minlength=512) for c in range(3)], axis=1)
    return sums[keep] / counts[keep, None]


def region_colours(mask: np.ndarray, name: str) -> np.ndarray:
    """A mask's dominant colours, checked: UserError when, merged, they are none or too many, or cover too little."""
    dominant = dominant_colours(mask)
    colours = merge_colours(dominant)
    coverage = _dominant_coverage(mask)
    if 1 <= len(colours) <= MAX_REGION_COLOURS and coverage >= MIN_REGION_COVERAGE:
        return dominant
    found = (f"none covers {MIN_REGION_FRACTION:.1%} of it" if not len(colours) else
             f"{len(colours)} regions" if len(colours) > MAX_REGION_COLOURS else f"regions cover only {coverage:.0%}")
    raise UserError(f"{name}: {_count_colours(mask)} colours, {found}; a region mask needs 1 to {MAX_REGION_COLOURS} "
                    "flat colours, one per region, covering most of it — repaint it with a few solid colours")


def _dominant_coverage(mask: np.ndarray, min_fraction: float = MIN_REGION_FRACTION) -> float:
    """The share of a mask's pixels in colour bins big enough to be regions (see dominant_colours)."""
    counts = _colour_bins(mask)[2]
    return float(counts[_large_bins(counts, min_fraction)].sum() / counts.sum())


def _count_colours(mask: np.ndarray) -> int:
    """The number of distinct RGB colours in a mask."""
    rgb = mask.reshape(-1, 3).astype(np.int32)
    return int(np.unique((rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]).size)


def merge_colours(colours: np.ndarray, distance: float = MERGE_DISTANCE) -> np.ndarray:
    """Greedily merge colours closer than distance, so shades of one noisy region become one palette entry."""
    palette: list[np.ndarray] = []
    for c in colours:
        if all(np.linalg.norm(c - p) >= distance for p in palette):
            palette.append(c)
    return np.array(palette)


def snap_to_palette(mask: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Label every pixel with the index of its nearest palette colour (H×W int array)."""
    px = mask.reshape(-1, 1, 3).astype(np.float32)
    return np.argmin(((px - palette[None].astype(np.float32)) ** 2).sum(-1), axis=1).reshape(mask.shape[:2])


def region_masks(content_mask: np.ndarray, style_mask: np.ndarray, content_hw: tuple[int, int],
                 style_hw: tuple[int, int], names: tuple[str, str] = ("content mask", "style mask")
                 ) -> RegionMasks:
    """Pair the regions of two colour masks by colour; UnpairedRegion when a colour is in one mask only.

    The one home of the pairing rule: a colour is a region where it covers at least MIN_REGION_FRACTION of
    its mask (smaller specks are noise and join the nearest region), and every region needs a partner.
    A mask with no such colour, or too many (region_colours), is refused in one line.
    """
    cm, sm = resize_nearest(content_mask, content_hw), resize_nearest(style_mask, style_hw)
    palette = merge_colours(np.concatenate([region_colours(cm, names[0]), region_colours(sm, names[1])]))
    cl, sl = snap_to_palette(cm, palette), snap_to_palette(sm, palette)
    c_frac = np.bincount(cl.ravel(), minlength=len(palette)) / cl.size
    s_frac = np.bincount(sl.ravel(), minlength=len(palette)) / sl.size
    for i, colour in enumerate(palette):
        rgb = tuple(int(round(v)) for v in colour)
        if (c_frac[i] >= MIN_REGION_FRACTION) != (s_frac[i] >= MIN_REGION_FRACTION):
            raise UnpairedRegion(rgb, *(names if c_frac[i] >= MIN_REGION_FRACTION else names[::-1]))
    pairs = [i for i in range(len(palette)) if c_frac[i] >= MIN_REGION_FRACTION]
    idx = torch.tensor(pairs).view(-1, 1, 1)
    return RegionMasks(palette[pairs], torch.from_numpy(cl)[None] == idx, torch.from_numpy(sl)[None] == idx)


def load_region_masks(content_mask: str | Path, style_mask: str | Path, content_hw: tuple[int, int],
                      style_hw: tuple[int, int]) -> RegionMasks:
    """Read two mask image files (any scale of their images' shapes; resized to them) and pair their regions."""
    masks = read_rgb(content_mask), read_rgb(style_mask)
    for mask, path, hw, side in zip(masks, (content_mask, style_mask), (content_hw, style_hw), ("content", "style")):
        check_mask_fits(mask.shape[:2], hw, str(path), f"the {side} image")
    return region_masks(*masks, content_hw, style_hw, names=(str(content_mask), str(style_mask)))


def load_points(path: str | Path) -> np.ndarray:
    """Read point pairs `content_x content_y style_x style_y` (pixels of the original images) → P×4 array.

    One pair per line, numbers separated by spaces or commas; blank lines and `#` comments are ignored.
    """
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: points file not found; give a text file with lines `cx cy sx sy`")
    rows = []
    for n, line in enumerate(read_text(p, "points file").splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [f for f in re.split(r"[,\s]+", line) if f]
        try:
            values = [float(f) for f in fields]
        except ValueError:
            values = []
        if len(values) != 4:
            raise UserError(f"{p}:{n}: expected four numbers `content_x content_y style_x style_y`, got {line!r}")
        rows.append(values)
    if not rows:
        raise UserError(f"{p}: no point pairs found; add lines `content_x content_y style_x style_y`")
    return np.array(rows, dtype=np.float32)


def check_points(points: np.ndarray, content_hw: tuple[int, int], style_hw: tuple[int, int], source: str) -> None:
    """Reject points outside their image, naming the first offending pair."""
    for i, (cx, cy, sx, sy) in enumerate(points, start=1):
        if not (0 <= cx < content_hw[1] and 0 <= cy < content_hw[0] and 0 <= sx < style_hw[1] and 0 <= sy < style_hw[0]):
            raise UserError(f"{source}: pair {i} ({cx:g}, {cy:g}) → ({sx:g}, {sy:g}) lies outside the images "
                            f"(content {content_hw[1]}×{content_hw[0]}, style {style_hw[1]}×{style_hw[0]}); give "
                            "pixel coordinates of the original images")
