"""Validate uploaded files before they reach the editor: readable images within a pixel limit, fitting masks."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from strotss.errors import UserError
from strotss.imageio import decode_rgb

DEFAULT_MAX_PIXELS = 4096 * 4096
UPLOAD_FORMATS = "upload a JPEG, PNG, WebP, BMP or TIFF file"


def load_upload(path: str | os.PathLike, max_pixels: int, name: str) -> np.ndarray:
    """Read an uploaded image as H×W×3 uint8, rejecting non-images and images over max_pixels before decoding.

    Messages name the upload by its file name only, never by the server's temporary path.
    """
    p = Path(path)
    try:
        with Image.open(p) as img:
            w, h = img.size
    except Image.DecompressionBombError:
        raise UserError(f"{name} ({p.name}): over Pillow's safety limit of {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} "
                        f"MP and {limit_words(max_pixels)}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        what = "an empty file" if p.is_file() and p.stat().st_size == 0 else "not an image"
        raise UserError(f"{name} ({p.name}): {what}; {UPLOAD_FORMATS}") from None
    check_pixels(w, h, max_pixels, f"{name} ({p.name})")
    return decode_rgb(p, f"{name} ({p.name})")


def limit_words(max_pixels: int) -> str:
    """The page's pixel limit in words, with how to get under it."""
    return f"this page's limit of {max_pixels / 1e6:.1f} MP; downscale it first (the server's --max-pixels sets it)"


def check_pixels(width: int, height: int, max_pixels: int, name: str) -> None:
    """Reject an image of width×height pixels over max_pixels, in one line that names it."""
    if width * height > max_pixels:
        raise UserError(f"{name}: {width}×{height} px is {width * height / 1e6:.1f} MP, "
                        f"over {limit_words(max_pixels)}")
