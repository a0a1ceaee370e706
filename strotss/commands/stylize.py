"""`strotss stylize`: run an exported ONNX model on images, folders, videos or a webcam (no torch)."""

from __future__ import annotations

import argparse
import sys
import time
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
  strotss stylize wheat_field photo.jpg --size 0 -o out.png     (network at the photo's full resolution)

Outputs have the input's size. The network runs at the model's working size: the long side it was trained
at (256 px for the bundled models; 1024 px for exports that do not record it), or the input's own when that
is smaller, so a 12 MP photo and its 512 px copy give the same picture at two resolutions. The result is
enlarged with the photo's fine detail added back where the stylization follows the photo. --size N sets
the working size instead (images, video frames and the webcam alike; larger: finer strokes, more of the
photo kept); --size 0 runs at full resolution, where strokes keep their width in pixels and so look finer
the larger the input.
Videos and the webcam show frames per second while running and end with one line of throughput.

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
    parser.add_argument("--alpha", type=float,
                        help="content weight α of a model trained across a range of α (its card gives the range "
                             "and default): higher keeps more of the photo, lower paints more; a real trade-off, "
                             "not a blend with the photo as --strength is")
    parser.add_argument("--size", type=int,
                        help="long side the network works at, for images and video frames; the result is resized "
                             "back to the input's size (default: the model's trained size or the input's, the "
                             "smaller; 0: the input's full resolution)")
    parser.add_argument("--provider", help="force an execution provider: tensorrt, cuda or cpu")
    parser.add_argument("--batch", type=int, default=1, help="video frames per inference call (default 1)")
    parser.add_argument("--webcam", action="store_true", help="stylize the camera stream into --output")
    parser.add_argument("--camera", default="/dev/video0", help="V4L2 camera device for --webcam")


def run(args: argparse.Namespace) -> int:
    """Load the model once, then stylize each input; videos and the webcam report frames per second."""
    from strotss.errors import UserError
    from strotss.export.runtime import StyleModel, preserve_color, style_weights
    from strotss.export.scale import model_work_side, stylize_at, work_side
    from strotss.export.video import webcam_frames, write_stream
    from strotss.imageio import read_rgb, remove_stale_parts
    from strotss.outputs import frames_bar, plan_outputs, write_outputs
    from strotss.pretrained import resolve_model

    if not args.webcam and not args.inputs:
        raise UserError("no inputs; give images, folders or videos, or --webcam")
    if args.batch < 1 or (args.size is not None and (args.size < 0 or 0 < args.size < 8)):
        raise UserError("--batch must be ≥ 1 and --size ≥ 8 (or 0: full resolution)")
    if not 0.0 <= args.strength <= 1.0:
        raise UserError(f"--strength {args.strength}: must be a number from 0 (the input) to 1 (full style)")
    if args.weights is not None:
        if len(args.weights) != len(args.style or []):
            raise UserError(f"--weights: {len(args.weights)} weight(s) for {len(args.style or [])} --style image(s); "
                            "give one per style")
        style_weights(args.weights, len(args.style))
    model = StyleModel(resolve_model(args.model), provider=args.provider)
    model.check_alpha(args.alpha)
    model_side = model_work_side(model.meta)
    if args.size:
        batch = f", --batch {args.batch}" if args.batch > 1 else ""
        model.check_fits(args.size, args.size, args.batch,
                         f"--size {args.size} ({args.size}×{args.size} px at most{batch})")
    if args.style:
        model.set_styles([read_rgb(s) for s in args.style], args.weights)
    elif model.needs_style:
        raise UserError(f"{args.model}: arbitrary-style model; give a style image with --style IMAGE")
    used = {"side": 0}

    def stylize(frames):
        used["side"] = work_side(max(frames[0].shape[:2]), args.size, model_side)
        out = stylize_at(model, frames, used["side"], args.strength, alpha=args.alpha)
        return [preserve_color(f, o) for f, o in zip(frames, out)] if args.preserve_color else out

    if args.webcam:
        camera = webcam_frames(args.camera)
        start = time.perf_counter()
        with frames_bar("webcam") as bar:
            def frames():
                for img in camera:
                    out = stylize([img])[0]
                    bar.update(1)
                    yield out
            n = write_stream(frames(), args.output)
        _report_throughput(n, f"from {args.camera} into {args.output}", time.perf_counter() - start, used["side"])
        return 0

    pairs = plan_outputs([Path(p) for p in args.inputs], Path(args.output))
    remove_stale_parts(dst for _, dst in pairs)
    write_outputs(pairs, stylize, batch=args.batch,
                  video_done=lambda n, name, seconds: _report_throughput(n, f"of {name}", seconds, used["side"]))
    return 0


def _report_throughput(frames: int, what: str, seconds: float, side: int) -> None:
    """One line above any progress bars: frames stylized, wall time, frames per second, the network's working size."""
    from tqdm import tqdm

    tqdm.write(f"stylized {frames} frames {what} in {seconds:.1f} s ({frames / max(seconds, 1e-9):.1f} frames/s, "
               f"model at {side} px)", file=sys.stderr)
