"""Shared helpers for the training tests: tiny synthetic image folders and small modules (no tests here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
TINY_NET = {"channels": [8, 16, 32], "num_blocks": 2}


def smooth_image(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A smooth random colour image (upsampled noise plus a gradient), H×W×3 uint8."""
    small = rng.random((4, 4, 3))
    big = np.asarray(Image.fromarray((small * 255).astype(np.uint8)).resize((w, h), Image.Resampling.BICUBIC))
    ramp = np.linspace(0, 60, w)[None, :, None]
    return np.clip(big * 0.8 + ramp + rng.normal(0, 8, (h, w, 3)), 0, 255).astype(np.uint8)


def make_folder(folder: Path, n: int, size: tuple[int, int] = (80, 96), seed: int = 0, prefix: str = "img") -> Path:
    """Write n smooth random JPEGs into folder and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(smooth_image(rng, *size)).save(folder / f"{prefix}{i:02d}.jpg", quality=95)
    return folder
