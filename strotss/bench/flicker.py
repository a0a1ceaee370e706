"""`strotss bench flicker`: temporal stability of stylizers on synthetic camera motion whose geometry is exact.

Still photos become short clips (a pan, a zoom-in, a slow rotation with zoom; strotss.bench.clips). Each
method stylizes every frame on its own; stylized frame t is warped onto frame t + 1 with the known affine
(torch grid_sample, batched) and compared there, on the pixels both frames see, away from the borders. The
input clip's own error is the floor that interpolation alone leaves. No optical flow is involved.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from strotss.bench.clips import MOTIONS, Clip

HELP = "temporal stability: warping error of stylized synthetic pans, zooms and rotations (known motion)"
DESCRIPTION = """\
Make short clips from still photos with exactly known camera motion (a pan with integer and sub-pixel steps,
a zoom-in, a slow rotation with zoom), stylize every frame independently with each method, warp stylized
frame t onto frame t+1 with the known affine and report the mean absolute difference (and RMSE), in 0–255
units, on the pixels both frames see (borders masked), averaged over frame pairs and clips. Lower is
steadier; the row `input` is the clip itself, the floor left by interpolation.

  strotss bench flicker --model wheat_field --model starry_night
  strotss bench flicker --model arbitrary --style painting.jpg
  strotss bench flicker --write-clips clips/                                (frames + affines.json for other tools)
  strotss bench flicker --model wheat_field --images magenta=magenta_clips/ (another tool's stylized frames)

--write-clips DIR writes DIR/<photo>_<motion>/frame_000.png … and affines.json (frame pixel → photo pixel).
--images DIR reads another tool's stylized frames from the same layout; run it with the same --photos,
--size and --frames. The default photos are the bundled ones, which no bundled model was trained on."""

BORDER = 8  # frame px masked along every frame edge: the networks' padding makes edge pixels differ anyway


@dataclass
class Method:
    """A way to stylize a clip's frames: `make` returns T×H×W×3 uint8 frames, or None where it has none."""

    label: str
    make: Callable[[Clip], np.ndarray | None]
    scores: dict[str, dict[str, float]] = field(default_factory=dict)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `strotss bench flicker`."""
    parser.add_argument("--model", action="append", default=[], metavar="[LABEL=]MODEL",
                        help="bundled model name, ONNX file or .pt/.ckpt checkpoint (repeatable)")
    parser.add_argument("--images", action="append", default=[], metavar="[LABEL=]DIR",
                        help="another tool's stylized frames, DIR/<photo>_<motion>/frame_000.png … (repeatable)")
    parser.add_argument("--photos", nargs="+", type=Path,
                        help="photos or folders to make clips from (default: the bundled photos, held out)")
    parser.add_argument("--style", type=Path,
                        help="painting for arbitrary-style models (default: the bundled Wheat Field with Cypresses)")
    parser.add_argument("--size", type=int, default=384,
                        help="long side of the frames (default 384: the bundled photos are 512 px, so frames at "
                             "rest sample them about 1:1 with room to move)")
    parser.add_argument("--frames", type=int, default=10, help="frames per clip (default 10)")
    parser.add_argument("--alpha", type=float, nargs="+", metavar="A",
                        help="run models conditioned on α at each of these content weights, one row each "
                             "(default: each model's own α; models with one fixed trade-off ignore it)")
    parser.add_argument("--write-clips", type=Path, metavar="DIR",
                        help="also write every clip's frames and affines.json under DIR")


def warping_error(frames: np.ndarray, affines: np.ndarray, border: int = BORDER) -> tuple[float, float]:
    """Mean absolute error and RMSE (0–255) of frame t warped onto frame t+1, over valid pixels and frame pairs.

    frames: T×H×W×3 uint8; affines: T×3×3, frame pixel → a shared (photo) coordinate frame.
    """
    import torch
    import torch.nn.functional as F

    from strotss.bench.clips import pixel_grid

    h, w = frames.shape[1:3]
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
    relative = np.linalg.inv(affines[:-1]) @ affines[1:]  # frame t+1 pixel → frame t pixel
    grid = pixel_grid(relative, (h, w), (h, w))
    warped = F.grid_sample(x[:-1], grid.float(), mode="bicubic", padding_mode="border", align_corners=True)
    lo = torch.tensor([-1.0, -1.0], dtype=torch.float64) + 2 * border / torch.tensor([w - 1, h - 1])
    inside = ((grid >= lo) & (grid <= -lo)).all(dim=-1)
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    interior = (xs >= border) & (xs <= w - 1 - border) & (ys >= border) & (ys <= h - 1 - border)
    valid = (inside & interior).unsqueeze(1).float()
    count = valid.sum(dim=(1, 2, 3)).clamp_min(1) * 3
    diff = (warped - x[1:]) * valid
    mae = diff.abs().sum(dim=(1, 2, 3)) / count
    rmse = (diff.square().sum(dim=(1, 2, 3)) / count).sqrt()
    return float(mae.mean()), float(rmse.mean())


def _model_methods(spec: str, style: np.ndarray, alphas: list[float] | None) -> list[Method]:
    """A model ([LABEL=]MODEL) that stylizes each frame at the frame's size, or one per --alpha for a model
    conditioned on α (models with one fixed trade-off ignore --alpha)."""
    from strotss.bench.quality import model_rows

    student, rows = model_rows(spec, alphas)

    def at(alpha: float | None) -> Callable[[Clip], np.ndarray]:
        def make(clip: Clip) -> np.ndarray:
            size = max(clip.frames.shape[1:3])
            return np.stack([student.stylize(frame, style, size, alpha) for frame in clip.frames])

        return make

    return [Method(label, at(alpha)) for label, alpha in rows]


def _images_method(spec: str) -> Method:
    """Another tool's stylized frames ([LABEL=]DIR) in the --write-clips layout."""
    from strotss.bench.clips import read_frames
    from strotss.bench.quality import split_label
    from strotss.errors import UserError

    label, where = split_label(spec)
    folder = Path(where)
    if not folder.is_dir():
        raise UserError(f"--images {folder}: not a folder")
    return Method(label or folder.name or str(folder), lambda clip: read_frames(folder, clip))


def run(args: argparse.Namespace) -> int:
    """Make the clips, stylize and score them with every method, print the tables."""
    from tqdm import tqdm

    from strotss.assets import asset_path
    from strotss.bench.clips import make_clip, write_clip
    from strotss.bench.quality import photo_paths
    from strotss.errors import UserError
    from strotss.imageio import read_rgb

    if args.size < 32 or not 2 <= args.frames <= 60:
        raise UserError("--size must be ≥ 32 and --frames from 2 to 60")
    if args.write_clips and args.write_clips.exists() and not args.write_clips.is_dir():
        raise UserError(f"--write-clips {args.write_clips}: exists and is a file; give a folder")
    photos = photo_paths(args.photos)
    style = read_rgb(args.style or asset_path("style/pnst_vg_wheat_field.jpg"))
    methods = [Method("input", lambda clip: clip.frames)]
    methods += [m for spec in args.model for m in _model_methods(spec, style, args.alpha)]
    methods += [_images_method(spec) for spec in args.images]
    jobs = [(photo, motion) for photo in photos for motion in MOTIONS]
    for photo, motion in tqdm(jobs, desc="flicker", unit="clip"):
        clip = make_clip(read_rgb(photo), photo.stem, motion, args.size, args.frames)
        if args.write_clips:
            write_clip(clip, args.write_clips, photo)
        for m in methods:
            frames = m.make(clip)
            if frames is not None:
                mae, rmse = warping_error(frames, clip.affines)
                m.scores[clip.name] = {"motion": motion, "mae": mae, "rmse": rmse}
    print(f"flicker bench: {len(photos)} photos × {len(MOTIONS)} motions, {args.frames} frames at {args.size} px; "
          f"stylized frame t warped onto t+1 with the known affine, {BORDER} px borders masked (0–255)")
    for metric in ("mae", "rmse"):
        _print_table(methods, metric)
    for m in methods:
        if not m.scores:
            print(f"{m.label}: no stylized frames found (expected <DIR>/<photo>_<motion>/frame_000.png …)",
                  file=sys.stderr)
    if args.write_clips:
        print(f"clips: {args.write_clips}/<photo>_<motion>/")
    return 0


def _print_table(methods: list[Method], metric: str) -> None:
    """One row per method: the metric's mean per motion over that method's clips, their mean, and the clip count."""
    scored = [m for m in methods if m.scores]
    width = max(12, *(len(m.label) + 2 for m in scored))
    print(f"\n{metric.upper():<{width}}" + "".join(f"{name:>9}" for name in (*MOTIONS, "mean")) + f"{'clips':>7}")
    for m in scored:
        per_motion = [[s[metric] for s in m.scores.values() if s["motion"] == motion] for motion in MOTIONS]
        means = [statistics.fmean(v) if v else None for v in per_motion]
        known = [v for v in means if v is not None]
        cells = [*means, statistics.fmean(known) if known else None]
        print(f"{m.label:<{width}}" + "".join(f"{c:>9.2f}" if c is not None else f"{'–':>9}" for c in cells)
              + f"{len(m.scores):>7}")
