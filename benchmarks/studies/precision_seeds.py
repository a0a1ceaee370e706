"""Does the bf16 nearest-neighbour search change where the optimizer ends? The same pair optimized with
several seeds in each loss precision, each result scored with the same objective (issue #2).

    python benchmarks/studies/precision_seeds.py [--size 128] [--seeds 3] [--loss-precisions bf16 fp32]

Prints one row per run (seconds, loss at the last scale, objective of the result) and each loss precision's
mean and standard deviation. Seeds pair the runs: same sampling sequence, so compare row by row.
"""

from __future__ import annotations

import argparse
import statistics

from strotss.allocator import keep_freed_memory
from strotss.assets import asset_path
from strotss.imageio import read_rgb, resize_long_side
from strotss.losses import build_extractor, score_image
from strotss.teacher.config import StrotssConfig
from strotss.teacher.optimizer import optimize_image


def main() -> None:
    """Run every (loss precision, seed) pair and print the table."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--content", default=str(asset_path("content/kodak_kodim16.jpg")))
    p.add_argument("--style", default=str(asset_path("style/pnst_vg_wheat_field.jpg")))
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--loss-precisions", nargs="+", choices=("fp32", "bf16"), default=["bf16", "fp32"])
    args = p.parse_args()
    keep_freed_memory()

    extractor = build_extractor("vgg19")
    content, style = read_rgb(args.content), read_rgb(args.style)
    small_c, small_s = resize_long_side(content, args.size), resize_long_side(style, args.size)
    results: dict[str, list[float]] = {}
    print(f"{'precision':<10}{'seed':>5}{'seconds':>9}{'last-scale loss':>17}{'objective':>11}")
    for precision in args.loss_precisions:
        for seed in range(args.seeds):
            run = optimize_image(content, style, StrotssConfig(size=args.size, seed=seed, loss_precision=precision),
                                 extractor=extractor, progress=False)
            last = statistics.fmean(h["total"] for h in run.history[-10:])
            results.setdefault(precision, []).append(score_image(run.image, small_c, small_s, extractor)["total"])
            print(f"{precision:<10}{seed:>5}{run.seconds:>9.0f}{last:>17.4f}{results[precision][-1]:>11.4f}",
                  flush=True)
    for precision, values in results.items():
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"{precision}: mean objective {statistics.fmean(values):.4f}, sd {spread:.4f}")


if __name__ == "__main__":
    main()
