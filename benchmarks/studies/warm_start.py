"""Warm start vs from scratch: time for a refine started from a student's output to reach the from-scratch
run's final objective (issue #5), at the same size, α and sampling.

    python benchmarks/studies/warm_start.py --model student.onnx [--size 256] [--content C --style S]

Both runs report the loss at the last scale (same content weight there), averaged over 10 iterations to
smooth the sampling noise. Prints a table; writes nothing but the optional --out images.
"""

from __future__ import annotations

import argparse
import statistics

from strotss.assets import asset_path
from strotss.choices import LossPrecision, choices
from strotss.export.runtime import StyleModel
from strotss.imageio import read_rgb, resize_long_side, write_image
from strotss.losses import build_extractor
from strotss.teacher.config import StrotssConfig
from strotss.teacher.optimizer import optimize_image


def smoothed(history: list[dict], size: int, window: int = 10) -> list[tuple[float, float]]:
    """(time, running mean of the total over `window` iterations) at the given scale."""
    rows = [h for h in history if h["size"] == size]
    return [(rows[i]["time"], statistics.fmean(r["total"] for r in rows[max(0, i - window + 1): i + 1]))
            for i in range(len(rows))]


def main() -> None:
    """Run from scratch, then warm-started from the student's output, and compare times to equal objective."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="student ONNX model made by `strotss export`")
    p.add_argument("--content", default=str(asset_path("content/kodak_kodim16.jpg")))
    p.add_argument("--style", default=str(asset_path("style/pnst_vg_wheat_field.jpg")))
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--iters", type=int, default=200, help="iterations per scale of the from-scratch run")
    p.add_argument("--warm-iters", type=int, default=200, help="iterations of each warm-started run (one scale)")
    p.add_argument("--warm-lr", type=float, nargs="+", default=[2e-3],
                   help="learning rate(s) of the warm-started runs (default 2e-3, what --init uses); one run each")
    p.add_argument("--loss-precision", choices=choices(LossPrecision), default="auto", help="of both runs")
    p.add_argument("--out", help="folder for the result images")
    args = p.parse_args()

    content, style = read_rgb(args.content), read_rgb(args.style)
    extractor = build_extractor("vgg19")
    scratch = optimize_image(content, style, StrotssConfig(size=args.size, iters=args.iters,
                                                           loss_precision=args.loss_precision), extractor=extractor)
    target = smoothed(scratch.history, args.size)[-1][1]

    student = StyleModel(args.model)
    preview = student.stylize_images([resize_long_side(content, args.size)])[0]
    print(f"{'run':<44} {'seconds':>8} {'final loss (last scale)':>24}")
    print(f"{'from scratch (all scales)':<44} {scratch.seconds:>8.1f} {target:>24.4f}", flush=True)
    if args.out:
        write_image(f"{args.out}/scratch.png", scratch.image)
        write_image(f"{args.out}/preview.png", preview)
    for lr in args.warm_lr:
        config = StrotssConfig(size=args.size, iters=args.warm_iters, lr=lr, loss_precision=args.loss_precision)
        warm = optimize_image(content, style, config, init=preview, extractor=extractor)
        curve = smoothed(warm.history, args.size)
        reached = next((t for t, v in curve if v <= target), None)
        label = f"warm start from student (1 scale, lr {lr:g})"
        print(f"{label:<44} {warm.seconds:>8.1f} {curve[-1][1]:>24.4f}")
        if reached is None:
            print("  never reached the from-scratch final objective")
        else:
            print(f"  reached it after {reached:.1f} s = {reached / scratch.seconds:.0%} of the from-scratch time")
        if args.out:
            write_image(f"{args.out}/warm_lr{lr:g}.png", warm.image)


if __name__ == "__main__":
    main()
