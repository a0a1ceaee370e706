"""What the page sends to Preview and Refine, turned into checked arrays: images and masks read from the editors.

Each side's one image editor is the source of truth: its background is the image, its layers the painted regions.
An uploaded mask is shown as the editor's background, tinted over the image (a MaskBase remembers the image and
mask under that view). Nothing here imports Gradio, so the page's logic is testable without it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from PIL import Image

from strotss.errors import UserError
from strotss.gui.inputs import check_pixels
from strotss.gui.jobs import RefineJob
from strotss.gui.masks import PALETTE, layers_to_mask, tint
from strotss.gui.points import as_array

EditorValue = dict[str, Any]
_NAMES = {v: k for k, v in PALETTE.items()}
DISPLAY_LONG_SIDE = 768  # the before/after slider's images at most this size, unless the result is larger
MAX_SEED = 2**32 - 1


class Oversized(NamedTuple):
    """Stands in for an editor image whose header says it is over the page's pixel limit (never decoded)."""

    width: int
    height: int


class Unreadable(NamedTuple):
    """Stands in for an editor file that is empty or not a readable image (Gradio would raise a raw error)."""

    file: str
    reason: str

    def error(self, name: str) -> UserError:
        """The one-line error for this file as the page's `name` (content image, style image)."""
        return UserError(f"{name} ({self.file}): {self.reason}")


def editor_image(value: EditorValue | None, max_pixels: int, name: str) -> np.ndarray:
    """The editor's background as H×W×3 uint8 (transparency flattened on white); UserError if missing, unreadable
    or too large."""
    background = (value or {}).get("background")
    if background is None:
        raise UserError(f"{name}: none loaded; drop, paste or upload one into its editor, or pick a bundled one")
    if isinstance(background, Unreadable):
        raise background.error(name)
    if isinstance(background, Oversized):
        check_pixels(background.width, background.height, max_pixels, name)
    image = np.asarray(background)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    check_pixels(image.shape[1], image.shape[0], max_pixels, name)
    if image.shape[2] == 4:
        alpha = image[..., 3:].astype(np.float32) / 255.0
        image = image[..., :3] * alpha + 255.0 * (1.0 - alpha) + 0.5
    return image[..., :3].astype(np.uint8)


def editor_value(image: np.ndarray) -> EditorValue:
    """An ImageEditor value with image as the background and no paint."""
    return {"background": image, "layers": [], "composite": image}


@dataclass(frozen=True)
class MaskBase:
    """An uploaded mask under new paint: the editor shows `image` tinted by `mask`, fingerprinted as `shown`."""

    shown: str
    image: np.ndarray
    mask: np.ndarray

    @classmethod
    def over(cls, image: np.ndarray, mask: np.ndarray) -> MaskBase:
        """The base for mask under image (mask already snapped to the palette at the image's size)."""
        return cls(digest(tint(image, mask)), image, mask)

    def view(self) -> np.ndarray:
        """What the editor shows: the image with the mask's regions tinted in."""
        return tint(self.image, self.mask)


def read_side(value: EditorValue | None, base: MaskBase | None, max_pixels: int,
              name: str) -> tuple[np.ndarray, np.ndarray]:
    """One side's image and mask from its editor: paint over the uploaded mask while the editor still shows that
    mask's tinted view; the background itself with only the paint once something else was uploaded."""
    shown = editor_image(value, max_pixels, name)
    layers = (value or {}).get("layers")
    for layer in layers or []:
        if isinstance(layer, (Unreadable, Oversized)):
            raise UserError(f"{name}: its painted layer is not a readable image of the editor's size; repaint it")
    if base is not None and base.image.shape == shown.shape and base.shown == digest(shown):
        return base.image, layers_to_mask(layers, shown.shape[:2], base.mask)
    return shown, layers_to_mask(layers, shown.shape[:2])


def region_names(mask: np.ndarray) -> list[str]:
    """The palette names painted in a mask, in palette order."""
    present = {tuple(int(v) for v in c) for c in np.unique(mask.reshape(-1, 3), axis=0)}
    return [name for rgb, name in _NAMES.items() if rgb in present]


def describe(side: str, image: np.ndarray, mask: np.ndarray) -> str:
    """One line about one side: its size and painted regions."""
    h, w = image.shape[:2]
    names = region_names(mask)
    regions = f"regions {', '.join(names)}" if names else "no regions painted"
    return f"{side} image {w}×{h} px · {regions}"


def digest(image: np.ndarray) -> str:
    """A short fingerprint of an image's pixels (tells whether a preview was made from this content)."""
    return hashlib.sha1(np.ascontiguousarray(image).tobytes() + str(image.shape).encode()).hexdigest()[:16]


def _display_side(content: np.ndarray, result: np.ndarray, display: int) -> int:
    """The long side at which before_after shows a result: its own, or the content's up to `display` px."""
    return max(max(result.shape[:2]), min(max(content.shape[:2]), display))


def before_after(content: np.ndarray, result: np.ndarray,
                 display: int = DISPLAY_LONG_SIDE) -> tuple[np.ndarray, np.ndarray]:
    """The two sides of the comparison slider at one size: the result's, raised to the content's up to `display` px
    on the long side, so a small result is compared against a sharp original rather than a shrunken one."""
    scale = _display_side(content, result, display) / max(result.shape[:2])
    size = (max(1, round(result.shape[1] * scale)), max(1, round(result.shape[0] * scale)))
    return tuple(img if img.shape[1::-1] == size else np.asarray(Image.fromarray(img).resize(size, Image.BILINEAR))
                 for img in (content, result))


def shown_size(content: np.ndarray, result: np.ndarray, display: int = DISPLAY_LONG_SIDE) -> str:
    """A result's own size in words, and how much before_after enlarges it for display when it does."""
    h, w = result.shape[:2]
    factor = _display_side(content, result, display) / max(h, w)
    return f"{w}×{h} px" + (f", shown upscaled ×{factor:.3g} for display" if factor > 1.01 else "")


def check_seed(value: float | int | None) -> int:
    """The seed box's value as an int from 0 to MAX_SEED; UserError for an empty, fractional or out-of-range one."""
    ask = f"give a whole number from 0 to {MAX_SEED}"
    if value is None:
        raise UserError(f"seed: empty; {ask}")
    try:
        seed = int(value)
    except (TypeError, ValueError, OverflowError):
        raise UserError(f"seed {value!r}: not a number; {ask}") from None
    if seed != value or not 0 <= seed <= MAX_SEED:
        raise UserError(f"seed {value:g}: out of range; {ask}")
    return seed


@dataclass(frozen=True)
class Preview:
    """A student preview and what it was made from; Refine starts from it only for the same content and size."""

    content: str
    size: int
    image: np.ndarray


class PageValues(NamedTuple):
    """The page's values that Preview and Refine receive, in the order the events pass them."""

    content: EditorValue | None
    style: EditorValue | None
    content_base: MaskBase | None
    style_base: MaskBase | None
    pairs: list[list[float]]
    preview: Preview | None
    alpha: float
    size: int
    iters: int
    seed: int


@dataclass
class RefineRequest:
    """A checked Preview or Refine request: images, painted masks, point pairs, warm start and settings."""

    content: np.ndarray
    style: np.ndarray
    masks: tuple[np.ndarray, np.ndarray]
    points: np.ndarray | None
    init: np.ndarray | None
    alpha: float
    size: int
    iters: int
    seed: int

    @classmethod
    def from_page(cls, values: PageValues, max_pixels: int) -> RefineRequest:
        """Read both editors (UserError for a missing or oversized image); keep the preview only if it still fits."""
        content, content_mask = read_side(values.content, values.content_base, max_pixels, "content image")
        style, style_mask = read_side(values.style, values.style_base, max_pixels, "style image")
        size = int(values.size)
        preview = values.preview
        fits = preview is not None and preview.size == size and preview.content == digest(content)
        return cls(content, style, (content_mask, style_mask), as_array(values.pairs),
                   preview.image if fits else None, float(values.alpha), size, int(values.iters),
                   check_seed(values.seed))

    def job(self, folder: Path, weights: str | None = None) -> RefineJob:
        """The optimizer job for this request, saving its files in folder."""
        return RefineJob(folder, self.content, self.style, self.size, self.alpha, self.seed, self.iters, self.masks,
                         self.points, self.init, weights)
