"""`strotss stylize`: run an exported ONNX model on images, folders, videos or a webcam (no torch)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "stylize images, folders, videos or a webcam with a bundled or exported ONNX model"
DESCRIPTION = """\
Stylize with a bundled model (`strotss models` lists them) or one made by `strotss export`, using ONNX
Runtime (TensorRT → CUDA → CPU).

  strotss stylize wheat_field photo.jpg -o out.png
  strotss stylize model.onnx photos/ clip.mp4 -o outdir/        (folders keep file names; video keeps audio)
  strotss stylize arbitrary photo.jpg --style starry.jpg -o out.png --strength 0.7
  strotss stylize arbitrary photo.jpg --style a.jpg --style b.jpg --weights 0.7 0.3 -o mix.png
  strotss stylize starry_night photo.jpg --preserve-color -o out.png   (the photo's colours, the style's strokes)
  strotss stylize model.onnx --webcam -o webcam.mp4             (Ctrl+C stops)

Unreadable images inside folders are skipped and listed at the end."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the stylize options."""
    parser.add_argument("model", help="bundled model name (see `strotss models`) or ONNX file from `strotss export`")
    parser.add_argument("inputs", nargs="*", help="images, folders of images, or video files")
    parser.add_argument("-o", "--output", required=True,
                        help="output file (single input) or folder (several inputs or a folder)")
    parser.add_argument("--style", action="append",
                        help="style image for arbitrary-style models (repeat to mix several styles)")
    parser.add_argument("--weights", type=float, nargs="+",
                        help="one weight per --style for mixing their style codes (normalized; default equal)")
    parser.add_argument("--preserve-color", action="store_true",
                        help="keep the photo's colours: transfer the stylized luminance only (YCbCr)")
    parser.add_argument("--strength", type=float, default=1.0,
                        help="blend with the input in pixel space: 0 = input, 1 = full style (default 1)")
    parser.add_argument("--size", type=int, help="resize so the long side has this many pixels first")
    parser.add_argument("--provider", help="force an execution provider: tensorrt, cuda or cpu")
    parser.add_argument("--batch", type=int, default=1, help="video frames per inference call (default 1)")
    parser.add_argument("--webcam", action="store_true", help="stylize the camera stream into --output")
    parser.add_argument("--camera", default="/dev/video0", help="V4L2 camera device for --webcam")


def _plan(inputs: list[Path], output: Path) -> list[tuple[Path, Path]]:
    """Pair every input file with its output path; folders expand to their images and videos and keep names.

    Checked before any work: no output replaces an input, no two inputs share an output, and every output
    can be written (image formats, folders; a video's output is a video).
    """
    from strotss.errors import UserError
    from strotss.export.video import is_video
    from strotss.imageio import image_format
    from strotss.outputs import check_plan

    for p in inputs:
        if not p.exists():
            raise UserError(f"{p}: not found; check the path")
    single = len(inputs) == 1 and inputs[0].is_file()
    if single and output.suffix and not output.is_dir():
        pairs = [(inputs[0], output)]
    else:
        _check_output_folder(output, single)
        pairs = [(f, output / f.name) for p in inputs for f in (_media_files(p) if p.is_dir() else [p])]
    if not pairs:
        raise UserError(f"{', '.join(map(str, inputs))}: no images or videos found")
    for src, dst in pairs:
        if is_video(src) and not is_video(dst):
            raise UserError(f"{dst}: {src.name} is a video, so its output must be a video file too; use -o "
                            f"{dst.with_suffix('.mp4')}")
        if not is_video(src):
            image_format(dst)
    check_plan(pairs)
    return pairs


def _check_output_folder(output: Path, single: bool) -> None:
    """UserError when -o, which names a folder here, exists as something else."""
    from strotss.errors import UserError

    if output.exists() and not output.is_dir():
        if single:
            raise UserError(f"{output}: has no file suffix, so it would be the output folder, but it exists and is "
                            "not a folder; give an output file such as out.png, or a folder")
        raise UserError(f"{output}: exists and is a file; give a folder for several inputs or a folder of inputs")


def _media_files(folder: Path) -> list[Path]:
    """The images and videos directly inside a folder, sorted by name."""
    from strotss.export.video import is_video
    from strotss.imageio import IMAGE_SUFFIXES

    return sorted(f for f in folder.iterdir() if f.is_file() and (f.suffix.lower() in IMAGE_SUFFIXES or is_video(f)))


def run(args: argparse.Namespace) -> int:
    """Load the model once, then stylize each input with a progress bar showing frames per second."""
    from tqdm import tqdm

    from strotss.errors import InputError, UserError
    from strotss.export.runtime import StyleModel, preserve_color
    from strotss.export.video import is_video, stylize_video, webcam_frames, write_stream
    from strotss.imageio import read_rgb, remove_stale_parts, resize_long_side, write_image
    from strotss.pretrained import resolve_model

    if not args.webcam and not args.inputs:
        raise UserError("no inputs; give images, folders or videos, or --webcam")
    if args.batch < 1 or (args.size is not None and args.size < 8):
        raise UserError("--batch must be ≥ 1 and --size ≥ 8")
    if not 0.0 <= args.strength <= 1.0:
        raise UserError(f"--strength {args.strength}: must be a number from 0 (the input) to 1 (full style)")
    if args.weights is not None and len(args.weights) != len(args.style or []):
        raise UserError(f"--weights: {len(args.weights)} weight(s) for {len(args.style or [])} --style image(s); "
                        "give one per style")
    model = StyleModel(resolve_model(args.model), provider=args.provider)
    if args.size:
        batch = f", --batch {args.batch}" if args.batch > 1 else ""
        model.check_fits(args.size, args.size, args.batch,
                         f"--size {args.size} ({args.size}×{args.size} px at most{batch})")
    if args.style:
        model.set_styles([read_rgb(s) for s in args.style], args.weights)
    elif model.needs_style:
        raise UserError(f"{args.model}: arbitrary-style model; give a style image with --style IMAGE")

    def prepare(img):
        return resize_long_side(img, args.size) if args.size else img

    def stylize(frames):
        out = list(model.stylize_images(frames, args.strength))
        return [preserve_color(f, o) for f, o in zip(frames, out)] if args.preserve_color else out

    if args.webcam:
        camera = webcam_frames(args.camera)
        with tqdm(desc="webcam", unit="frame") as bar:
            def frames():
                for img in camera:
                    out = stylize([prepare(img)])[0]
                    bar.update(1)
                    yield out
            n = write_stream(frames(), args.output)
        print(f"wrote {n} frames to {args.output}", file=sys.stderr)
        return 0

    pairs = _plan([Path(p) for p in args.inputs], Path(args.output))
    remove_stale_parts(dst for _, dst in pairs)
    skipped: list[InputError] = []
    with tqdm(total=len(pairs), unit="file", desc="stylize") as files_bar:
        for src, dst in pairs:
            try:
                if is_video(src):
                    with tqdm(desc=src.name, unit="frame", leave=False) as bar:
                        stylize_video(src, dst, stylize, batch=args.batch, progress=bar.update,
                                      resize=prepare if args.size else None)
                else:
                    write_image(dst, stylize([prepare(read_rgb(src))])[0])
            except InputError as exc:
                skipped.append(exc if str(src) in str(exc) else InputError(f"{src}: {exc}"))
            files_bar.update(1)
    _report_skipped(skipped, len(pairs))
    return 0


def _report_skipped(skipped: list[Exception], total: int) -> None:
    """Print one line per skipped input with its reason; fail when nothing could be stylized."""
    from strotss.errors import UserError

    if len(skipped) == total == 1:
        raise skipped[0]
    for exc in skipped:
        print(f"skipped {exc}", file=sys.stderr)
    if skipped and len(skipped) == total:
        raise UserError(f"none of the {total} inputs could be stylized; see the reasons above")
