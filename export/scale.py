"""The size a stylizer works at, and its result brought back to the photo's size (numpy and Pillow, no torch).

A feed-forward stylizer paints strokes of a fixed size in pixels: the same photo at 512 px and at 4000 px comes
out as two different pictures (at 4000 px, fine swirls over an intact photo). Running the network at the
size the model was trained at and resizing its result gives one picture at every resolution. When the result
is enlarged, the photo's fine detail is added back in proportion to how closely the stylization follows the
photo there (a local linear fit, as in the guided filter), so edges the painting kept stay sharp and texture
it painted over does not come back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np
from PIL import Image

from strotss.imageio import resize_long_side, resize_to

if TYPE_CHECKING:
    from strotss.export.runtime import StyleModel

DEFAULT_WORK_SIDE = 1024  # long side for models that do not record the size they were trained at
GAIN_RADIUS = 2  # window radius (working-size px) of the fit of stylized colour against photo luminance
GAIN_EPS = 1e-3  # regularizes that fit on flat regions (luminance variance in [0, 1] units)
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def model_work_side(meta: Mapping[str, str]) -> int:
    """The long side a model paints its trained look at: its recorded train_size, else DEFAULT_WORK_SIDE."""
    recorded = meta.get("train_size") or ""
    return int(recorded) if recorded.isdigit() and int(recorded) > 0 else DEFAULT_WORK_SIDE


def work_side(long_side: int, size: int | None, model_side: int) -> int:
    """The network's long side for an input: `size` when given (0: the input's own), else min(input, model's)."""
    if size is None:
        return min(long_side, model_side)
    return size or long_side


def _resize_float(x: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Bicubic resize of an H×W×C float32 array, channel by channel (Pillow mode F)."""
    return np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(x[..., c]), "F")
                                .resize((hw[1], hw[0]), Image.Resampling.BICUBIC)) for c in range(x.shape[-1])], -1)


def _box(x: np.ndarray, r: int) -> np.ndarray:
    """Mean over (2r+1)² windows of an H×W×C array, edges repeated (summed-area table)."""
    k = 2 * r + 1
    s = np.pad(x, ((r + 1, r), (r + 1, r), (0, 0)), mode="edge").cumsum(0).cumsum(1)
    return (s[k:, k:] - s[:-k, k:] - s[k:, :-k] + s[:-k, :-k]) / np.float32(k * k)


def detail_gain(stylized: np.ndarray, photo: np.ndarray) -> np.ndarray:
    """Per pixel and channel, how strongly the stylized colour follows the photo's luminance (H×W×3, in [-1, 1])."""
    g = (photo.astype(np.float32) @ LUMA)[..., None] / 255
    o = stylized.astype(np.float32) / 255
    mean_g, mean_o = _box(g, GAIN_RADIUS), _box(o, GAIN_RADIUS)
    cov = _box(g * o, GAIN_RADIUS) - mean_g * mean_o
    var = _box(g * g, GAIN_RADIUS) - mean_g * mean_g
    return np.clip(_box(cov / (var + GAIN_EPS), GAIN_RADIUS), -1.0, 1.0)


def upsample_with_detail(stylized: np.ndarray, photo: np.ndarray, photo_small: np.ndarray) -> np.ndarray:
    """A stylized H×W×3 uint8 made from photo_small, brought to photo's size with its detail where it follows it."""
    hw = photo.shape[:2]
    if stylized.shape[:2] == hw:
        return stylized
    if stylized.shape[0] > hw[0]:
        return resize_to(stylized, hw)
    luma = (photo.astype(np.float32) @ LUMA)[..., None]
    detail = luma - _resize_float((photo_small.astype(np.float32) @ LUMA)[..., None], hw)
    out = _resize_float(stylized.astype(np.float32), hw)
    out += _resize_float(detail_gain(stylized, photo_small), hw) * detail
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def blend(photo: np.ndarray, stylized: np.ndarray, strength: float) -> np.ndarray:
    """photo + strength × (stylized − photo) for uint8 images, as the network's own strength blend does."""
    if strength == 1.0:
        return stylized
    mixed = photo.astype(np.float32) + np.float32(strength) * (stylized.astype(np.float32) - photo)
    return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def stylize_at(model: StyleModel, images: Sequence[np.ndarray], side: int, strength: float = 1.0,
               alpha: float | None = None) -> list[np.ndarray]:
    """Stylize same-sized H×W×3 uint8 images with the network at long side `side` (at content weight α for a model
    conditioned on it); results at the images' size, blended with them by `strength` there (so strength 0 gives
    each image back exactly)."""
    if side == max(images[0].shape[:2]):
        return list(model.stylize_images(images, strength, alpha=alpha))
    small = [resize_long_side(img, side) for img in images]
    return [blend(img, upsample_with_detail(out, img, s), strength)
            for out, img, s in zip(model.stylize_images(small, alpha=alpha), images, small)]
