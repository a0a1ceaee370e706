"""Synthetic camera-motion clips cut from still photos, with the exact affine of every frame (for `bench flicker`).

Coordinates: x right, y down, pixel centres at integer coordinates (the top-left pixel's centre is (0, 0)).
A frame's affine maps its pixel coordinates (x, y, 1) to the coordinates of the point it shows in the photo,
so frame t + 1 maps onto frame t with inv(A_t) @ A_(t+1), exactly.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MOTIONS = ("pan", "zoom", "rotate")
MARGIN = 1.2  # at rest a frame shows 1/MARGIN of the photo's width and height, leaving room to move
PAN_UNIT = 96  # frames get one more pixel of pan per frame for every PAN_UNIT px of long side
ZOOM_PER_FRAME = 0.982  # zoom-in: the frame shows 1.8 % less of the photo each frame
ROTATE_DEG_PER_FRAME = 0.45  # slow rotation ...
ROTATE_ZOOM_PER_FRAME = 0.991  # ... with a slow zoom-in
FRAME_NAME = "frame_{:03d}.png"
AFFINES_JSON = "affines.json"


@dataclass
class Clip:
    """T frames of one photo under one motion, and each frame's affine (frame pixel → photo pixel)."""

    photo: str
    motion: str
    frames: np.ndarray
    affines: np.ndarray

    @property
    def name(self) -> str:
        """Folder name of the clip: <photo stem>_<motion>."""
        return f"{self.photo}_{self.motion}"


def pan_steps(size: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """The pan's two alternating per-frame steps in frame px: an integer one, then a sub-pixel one (4, 1), (2.5, 1.2)
    at 384 px; in proportion for other sizes."""
    k = max(1, round(size / PAN_UNIT))
    return (float(k), float(round(k / 4))), (0.625 * k, 0.3 * k)


def motion_path(motion: str, n: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame offsets (n×2, frame px, centred on zero), scales (n) and angles (n, radians) of a motion at a
    frame long side of `size` px."""
    t = np.arange(n, dtype=np.float64)
    offsets, scales, angles = np.zeros((n, 2)), np.ones(n), np.zeros(n)
    if motion == "pan":
        steps = np.array([pan_steps(size)[i % 2] for i in range(n - 1)]).reshape(-1, 2)
        offsets = np.concatenate([np.zeros((1, 2)), np.cumsum(steps, axis=0)])
        offsets -= (offsets[0] + offsets[-1]) / 2
    elif motion == "zoom":
        scales = ZOOM_PER_FRAME ** t
    elif motion == "rotate":
        scales, angles = ROTATE_ZOOM_PER_FRAME ** t, np.radians(ROTATE_DEG_PER_FRAME) * t
    else:
        raise ValueError(f"unknown motion {motion!r}; one of {MOTIONS}")
    return offsets, scales, angles


def frame_shape(photo_hw: tuple[int, int], size: int) -> tuple[int, int]:
    """Height and width of frames with the photo's aspect ratio and long side `size`."""
    h, w = photo_hw
    return (size, max(1, round(size * w / h))) if h >= w else (max(1, round(size * h / w)), size)


def motion_affines(motion: str, n: int, frame_hw: tuple[int, int], source_hw: tuple[int, int]) -> np.ndarray:
    """n×3×3 affines from frame pixels to source pixels: the motion about the source's centre, at rest MARGIN."""
    offsets, scales, angles = motion_path(motion, n, max(frame_hw))
    (fh, fw), (sh, sw) = frame_hw, source_hw
    base = min((sw - 1) / max(fw - 1, 1), (sh - 1) / max(fh - 1, 1)) / MARGIN  # source px per frame px at rest
    cos, sin = np.cos(angles), np.sin(angles)
    a = np.zeros((n, 3, 3))
    a[:, 0, 0], a[:, 0, 1], a[:, 1, 0], a[:, 1, 1] = cos, -sin, sin, cos
    a[:, :2, :2] *= (base * scales)[:, None, None]
    frame_centre = np.array([(fw - 1) / 2, (fh - 1) / 2])
    a[:, :2, 2] = np.array([(sw - 1) / 2, (sh - 1) / 2]) + base * offsets - a[:, :2, :2] @ frame_centre
    a[:, 2, 2] = 1.0
    return a


def frame_corners_inside(affines: np.ndarray, frame_hw: tuple[int, int], source_hw: tuple[int, int]) -> bool:
    """True when every frame's four corner pixels map inside the source image."""
    (fh, fw), (sh, sw) = frame_hw, source_hw
    corners = np.array([[0, 0, 1], [fw - 1, 0, 1], [0, fh - 1, 1], [fw - 1, fh - 1, 1]], dtype=np.float64)
    mapped = affines @ corners.T
    return bool(np.all(mapped[:, 0] >= 0) and np.all(mapped[:, 0] <= sw - 1)
                and np.all(mapped[:, 1] >= 0) and np.all(mapped[:, 1] <= sh - 1))


def pixel_grid(affines: np.ndarray, frame_hw: tuple[int, int], source_hw: tuple[int, int]):
    """torch grid (T×h×w×2) for grid_sample(align_corners=True): where each frame pixel lies in the source."""
    import torch

    h, w = frame_hw
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64),
                            indexing="ij")
    points = torch.stack([xs, ys, torch.ones_like(xs)], dim=-1)
    mapped = torch.einsum("tij,hwj->thwi", torch.from_numpy(affines)[:, :2], points)
    sh, sw = source_hw
    scale = torch.tensor([2.0 / max(sw - 1, 1), 2.0 / max(sh - 1, 1)], dtype=torch.float64)
    return mapped * scale - 1.0


def render(source: np.ndarray, affines: np.ndarray, frame_hw: tuple[int, int]) -> np.ndarray:
    """Resample an H×W×3 uint8 source at every frame's affine (bicubic) → T×h×w×3 uint8 frames."""
    import torch
    import torch.nn.functional as F

    grid = pixel_grid(affines, frame_hw, source.shape[:2]).float()
    x = torch.from_numpy(source).permute(2, 0, 1)[None].float().div(255).expand(len(affines), -1, -1, -1)
    out = F.grid_sample(x, grid, mode="bicubic", padding_mode="border", align_corners=True)
    return out.clamp(0, 1).mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def source_for(photo: np.ndarray, frame_hw: tuple[int, int]) -> np.ndarray:
    """The photo shrunk (Lanczos) so that frames at rest sample it 1:1; a smaller photo is kept as it is."""
    from strotss.imageio import resize_long_side

    long_side = math.ceil(MARGIN * max(frame_hw))
    return resize_long_side(photo, long_side) if max(photo.shape[:2]) > long_side else photo


def to_photo_coords(affines: np.ndarray, source_hw: tuple[int, int], photo_hw: tuple[int, int]) -> np.ndarray:
    """Re-express frame → source affines as frame → photo affines (the source is the photo resized)."""
    (sh, sw), (ph, pw) = source_hw, photo_hw
    kx, ky = pw / sw, ph / sh
    to_photo = np.array([[kx, 0, (kx - 1) / 2], [0, ky, (ky - 1) / 2], [0, 0, 1]])
    return to_photo @ affines


def make_clip(photo: np.ndarray, name: str, motion: str, size: int, n: int) -> Clip:
    """A clip of n frames (long side `size`) of one motion over the photo; UserError if the photo cannot hold it."""
    from strotss.errors import UserError

    frame_hw = frame_shape(photo.shape[:2], size)
    source = source_for(photo, frame_hw)
    affines = motion_affines(motion, n, frame_hw, source.shape[:2])
    if not frame_corners_inside(affines, frame_hw, source.shape[:2]):
        raise UserError(f"{name}: a {motion} of {n} frames leaves the photo ({photo.shape[1]}×{photo.shape[0]}); "
                        "give fewer --frames or a less elongated photo")
    frames = render(source, affines, frame_hw)
    return Clip(name, motion, frames, to_photo_coords(affines, source.shape[:2], photo.shape[:2]))


def write_clip(clip: Clip, folder: Path, photo_path: Path) -> None:
    """Write folder/<clip>/frame_000.png … and affines.json (atomically, file by file)."""
    from strotss.imageio import atomic_output, write_image

    where = folder / clip.name
    for i, frame in enumerate(clip.frames):
        write_image(where / FRAME_NAME.format(i), frame)
    record = {
        "photo": str(photo_path),
        "motion": clip.motion,
        "frame_size": [int(clip.frames.shape[2]), int(clip.frames.shape[1])],
        "convention": "affine (3x3) maps frame pixel (x, y, 1) to photo pixel coordinates; x right, y down, "
                      "pixel centres at integer coordinates; frame t+1 maps onto frame t by inv(A_t) @ A_t+1",
        "frames": [{"file": FRAME_NAME.format(i), "affine": a.tolist()} for i, a in enumerate(clip.affines)],
    }
    with atomic_output(where / AFFINES_JSON, "w") as fh:
        json.dump(record, fh, indent=1)


def read_frames(folder: Path, clip: Clip) -> np.ndarray | None:
    """Another tool's frames of a clip from folder/<clip>/frame_NNN.*, resized to the clip's frames; None if absent."""
    from strotss.errors import UserError
    from strotss.imageio import IMAGE_SUFFIXES, read_rgb, resize_to

    frames = []
    hw = clip.frames.shape[1:3]
    for i in range(len(clip.frames)):
        stem = Path(FRAME_NAME.format(i)).stem
        hits = sorted(p for p in (folder / clip.name).glob(f"{stem}.*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not hits:
            return None
        img = read_rgb(hits[0])
        if abs(img.shape[0] / img.shape[1] - hw[0] / hw[1]) > 0.02:
            raise UserError(f"{hits[0]}: {img.shape[1]}×{img.shape[0]} has another aspect ratio than the clip's "
                            f"{hw[1]}×{hw[0]} frames; stylize the frames written by --write-clips whole")
        frames.append(resize_to(img, hw))
    return np.stack(frames)
