"""Image reading and atomic writing with Pillow and NumPy only (no torch), shared by every verb."""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import tempfile
import warnings
from pathlib import Path
from typing import IO, Iterable, Iterator

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from strotss.errors import InputError, UserError, warn
from strotss.memory import format_bytes

_UMASK = os.umask(0)
os.umask(_UMASK)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".ppm")
PART_SUFFIX = ".part"  # atomic_output's temporary files: .NAME.XXXXXXXX.part (tempfile's 8 random characters)
_PART = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}" + re.escape(PART_SUFFIX))
ASPECT_TOLERANCE = 0.02  # width/height ratios this close (relative) are one shape at another scale (rounding)


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


def decode_rgb(source: str | os.PathLike | IO[bytes], name: str) -> np.ndarray:
    """Decode an image file or binary stream to H×W×3 uint8 RGB; InputError, naming it `name`, says why it can't."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # said below, in one line
            img = Image.open(source)
        with img:
            _warn_if_huge(img, name)
            img = ImageOps.exif_transpose(img)
            img.load()
            return np.asarray(_to_rgb(img), dtype=np.uint8).copy()
    except Image.DecompressionBombError as exc:
        raise InputError(f"{name}: image is too large to read safely ({exc}); downscale it first") from None
    except UnidentifiedImageError:
        raise InputError(f"{name}: not an image Pillow can read; use a JPEG, PNG, WebP, BMP or TIFF file") from None
    except OSError as exc:
        reason = exc.strerror if exc.filename else str(exc)
        raise InputError(f"{name}: image is corrupt or truncated ({reason}); re-export or replace it") from None
    except (SyntaxError, ValueError) as exc:
        raise InputError(f"{name}: image is corrupt or truncated ({exc}); re-export or replace it") from None


def _warn_if_huge(img: Image.Image, name: str) -> None:
    """One line when an image is over Pillow's decompression-bomb warning limit (and under its error limit)."""
    w, h = img.size
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and w * h > limit:
        warn(f"{name}: {w}×{h} px ({w * h / 1e6:.3g} MP) is over Pillow's decompression-bomb warning limit of "
             f"{limit / 1e6:.3g} MP; reading it anyway ({format_bytes(3 * w * h)} decoded); downscale it if it should "
             "not be this large")


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as an H×W×3 uint8 RGB array, converting other modes instead of rejecting them."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: file not found; check the path")
    if p.is_dir():
        raise InputError(f"{p}: is a folder, expected an image file")
    return decode_rgb(p, str(p))


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


def same_aspect(hw: tuple[int, int], reference_hw: tuple[int, int]) -> bool:
    """Whether an image of size hw (height, width) is reference_hw at any scale (width/height within tolerance)."""
    ratio = reference_hw[1] / reference_hw[0]
    return abs(hw[1] / hw[0] - ratio) <= ASPECT_TOLERANCE * ratio


def check_same_aspect(hw: tuple[int, int], reference_hw: tuple[int, int], name: str, reference: str,
                      advice: str) -> None:
    """UserError when the image `name` (size hw) is not `reference` (size reference_hw) at some scale."""
    if not same_aspect(hw, reference_hw):
        raise UserError(f"{name}: {hw[1]}×{hw[0]} px, but {reference} is {reference_hw[1]}×{reference_hw[0]} px; "
                        f"{advice}")


def check_mask_fits(mask_hw: tuple[int, int], image_hw: tuple[int, int], name: str,
                    image_name: str = "the image") -> None:
    """Reject a mask whose aspect ratio differs from its image's (a mask for another picture), in the GUI and CLI."""
    check_same_aspect(mask_hw, image_hw, name, image_name, "a mask must have its image's shape (any scale) — was it "
                      "drawn for another picture?")


def _missing_folders(p: Path) -> list[Path]:
    """The folders above p that do not exist yet, innermost first."""
    missing = []
    for parent in p.parents:
        if parent.exists():
            break
        missing.append(parent)
    return missing


def _remove_empty(folders: list[Path]) -> None:
    """Remove folders (innermost first) that a failed write created, where they are still empty."""
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def check_writable(path: str | os.PathLike) -> Path:
    """Fail early, before long work starts, when an output path cannot be written; creates and changes nothing."""
    p = Path(path)
    if p.is_dir():
        raise UserError(f"{p}: is a folder; give an output file name such as {p / ('out' + (p.suffix or '.png'))}")
    check_creatable_under(p.parents, str(p), "output path")
    return p


def check_creatable_under(candidates: Iterable[Path], label: str, what: str) -> None:
    """UserError unless the first existing path of `candidates` (a target and the folders above it) is a folder
    this process can create files in; `label` starts the message, `what` names what to choose instead."""
    base = next(q for q in candidates if q.exists())
    if not base.is_dir():
        raise UserError(f"{label}: cannot write here: {base} is a file, not a folder; choose another {what}")
    try:
        with tempfile.TemporaryFile(dir=base):
            pass
    except OSError as exc:
        raise UserError(f"{label}: cannot write here ({exc.strerror} in {base}); choose another {what}") from None


def remove_stale_parts(outputs: Iterable[Path]) -> int:
    """Remove the temporary files that a killed run's atomic_output left beside these outputs; returns how many.

    Only hidden files of atomic_output's exact naming for one of these outputs (`.NAME.XXXXXXXX.part`) are removed;
    each folder is listed once.
    """
    names_by_folder: dict[Path, set[str]] = {}
    for out in outputs:
        names_by_folder.setdefault(out.parent, set()).add(out.name)
    removed = 0
    for folder, names in names_by_folder.items():
        for entry in os.scandir(folder) if folder.is_dir() else ():
            match = _PART.fullmatch(entry.name)
            if match and match["name"] in names and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed += 1
    return removed


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside path and move it over path only when the block succeeds.

    Folders created for it are removed again when the block fails, so a failed run leaves nothing behind.
    """
    p = check_writable(path)
    created = _missing_folders(p)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=PART_SUFFIX, dir=p.parent)
    except OSError as exc:
        _remove_empty(created)
        raise UserError(f"{p}: cannot write here ({exc.strerror}); choose another output path") from None
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        _remove_empty(created)
        raise


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Convert a float image in [0, 1] (values outside are clipped) or a uint8 image to uint8."""
    if img.dtype == np.uint8:
        return img
    return (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


@functools.lru_cache(maxsize=None)
def _writable_format(suffix: str) -> str | None:
    """Pillow's format name for a suffix when Pillow can write RGB images in it (tried on a 2×2 image), else None."""
    fmt = Image.registered_extensions().get(suffix)
    if fmt is None:
        return None
    try:
        Image.new("RGB", (2, 2)).save(io.BytesIO(), format=fmt)
    except (OSError, KeyError, ValueError):
        return None
    return fmt


def image_format(path: str | os.PathLike) -> str:
    """The Pillow format that an output image path's suffix asks for; UserError when Pillow cannot write it."""
    p = Path(path)
    fmt = _writable_format(p.suffix.lower())
    if fmt is None:
        known = p.suffix.lower() in Image.registered_extensions()
        what = f"Pillow cannot write RGB images as {p.suffix!r}" if known else f"unknown image suffix {p.suffix!r}"
        raise UserError(f"{p}: {what}; use .png or .jpg")
    return fmt


def check_image_output(path: str | os.PathLike) -> Path:
    """Fail before long work starts when an image cannot be written at path (format, folder or permissions)."""
    image_format(path)
    return check_writable(path)


def write_image(path: str | os.PathLike, img: np.ndarray) -> Path:
    """Write an H×W×3 image (uint8, or float in [0, 1]) atomically; the format follows the suffix."""
    p = Path(path)
    fmt = image_format(p)
    pil = Image.fromarray(to_uint8(img))
    with atomic_output(p) as fh:
        pil.save(fh, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return p


def list_images(folder: str | os.PathLike) -> list[Path]:
    """List the image files directly inside a folder, sorted by name."""
    return sorted(q for q in Path(folder).iterdir() if q.suffix.lower() in IMAGE_SUFFIXES and q.is_file())
