"""Image reading and atomic writing with Pillow and NumPy only (no torch), shared by every verb."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from strotss.errors import UserError

_UMASK = os.umask(0)
os.umask(_UMASK)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".ppm")


def _to_rgb(img: Image.Image) -> Image.Image:
    """Convert any Pillow mode (grayscale, 16-bit, float, palette, CMYK, alpha) to 8-bit RGB."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    elif img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        top = 1.0 if arr.max() <= 1.0 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as an H×W×3 uint8 RGB array, converting other modes instead of rejecting them."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"{p}: file not found; check the path")
    if p.is_dir():
        raise UserError(f"{p}: is a folder, expected an image file")
    try:
        with Image.open(p) as img:
            img = ImageOps.exif_transpose(img)
            img.load()
            return np.asarray(_to_rgb(img), dtype=np.uint8).copy()
    except Image.DecompressionBombError as exc:
        raise UserError(f"{p}: image is too large to read safely ({exc}); downscale it first") from None
    except UnidentifiedImageError:
        raise UserError(f"{p}: not an image Pillow can read; use a JPEG, PNG, WebP, BMP or TIFF file") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise UserError(f"{p}: image is corrupt or truncated ({exc}); re-export or replace it") from None


def resize_long_side(img: np.ndarray, long_side: int) -> np.ndarray:
    """Resize an H×W×3 uint8 image so that its longer side equals long_side (Lanczos, aspect kept)."""
    h, w = img.shape[:2]
    scale = long_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.array(Image.fromarray(img).resize(size, Image.Resampling.LANCZOS))


def resize_to(img: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Lanczos resize of an H×W×3 uint8 image to exactly hw; unchanged if it already has that size."""
    if img.shape[:2] == tuple(hw):
        return img
    return np.array(Image.fromarray(img).resize((hw[1], hw[0]), Image.Resampling.LANCZOS))


def resize_nearest(img: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of an H×W×C uint8 array (a colour mask or layer) to hw; unchanged if it fits."""
    if img.shape[:2] == tuple(hw):
        return img
    return np.array(Image.fromarray(img).resize((hw[1], hw[0]), Image.Resampling.NEAREST))


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside path and move it over path only when the block succeeds."""
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".part", dir=p.parent)
    except OSError as exc:
        raise UserError(f"{p}: cannot write here ({exc.strerror}); choose another output path") from None
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def check_writable(path: str | os.PathLike) -> Path:
    """Fail early, before long work starts, when an output path cannot be written (an existing file is kept)."""
    p = Path(path)
    if p.is_dir():
        raise UserError(f"{p}: is a folder; give an output file name such as {p / 'out.png'}")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=p.parent):
            pass
    except OSError as exc:
        raise UserError(f"{p}: cannot write here ({exc.strerror}); choose another output path") from None
    return p


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Convert a float image in [0, 1] (values outside are clipped) or a uint8 image to uint8."""
    if img.dtype == np.uint8:
        return img
    return (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def write_image(path: str | os.PathLike, img: np.ndarray) -> Path:
    """Write an H×W×3 image (uint8, or float in [0, 1]) atomically; the format follows the suffix."""
    p = Path(path)
    fmt = Image.registered_extensions().get(p.suffix.lower())
    if fmt is None:
        raise UserError(f"{p}: unknown image suffix {p.suffix!r}; use .png or .jpg")
    pil = Image.fromarray(to_uint8(img))
    with atomic_output(p) as fh:
        pil.save(fh, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return p


def list_images(folder: str | os.PathLike) -> list[Path]:
    """List the image files directly inside a folder, sorted by name."""
    return sorted(q for q in Path(folder).iterdir() if q.suffix.lower() in IMAGE_SUFFIXES and q.is_file())
