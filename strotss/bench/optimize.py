"""`strotss bench optimize`: seconds per optimizer iteration per scale against the extractor's own floor."""

from __future__ import annotations

import argparse
import statistics

from strotss.bench.timing import device_sync, median_seconds, peak_memory_mib
from strotss.flags import add_flags
from strotss.teacher.config import StrotssConfig

HELP = "time the per-image optimizer per scale against the extractor's forward+backward floor"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of `strotss bench optimize`."""
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512], help="output long sides (default 256 512)")
    p.add_argument("--iters", type=int, default=8,
                   help="iterations per scale, the first one untimed (default 8, at least 3)")
    p.add_argument("--full", action="store_true",
                   help="also run the whole default schedule (200 iterations per scale) and report its wall time "
                        "and the objective of its result (compare --loss-precision fp32 and bf16 with it)")
    add_flags(p, StrotssConfig, ("extractor", "device", "loss_precision"))


def extractor_floor(extractor, hw: tuple[int, int], device, repeats: int = 3) -> float:
    """Median seconds of one forward+backward of the extractor alone on an image of size hw."""
    import torch

    x = torch.rand(1, 3, *hw, device=device, requires_grad=True)
    return median_seconds(lambda: sum(f.mean() for f in extractor(x)).backward(), repeats, warmup=1,
                          sync=device_sync(device))


def run(args: argparse.Namespace) -> int:
    """Print one row per (size, scale): s/iteration, floor, ratio, projected and measured totals."""
    import torch

    from strotss.assets import asset_path
    from strotss.errors import UserError
    from strotss.imageio import read_rgb, resize_long_side
    from strotss.losses import build_extractor, score_image
    from strotss.losses.precision import loss_matmul_dtype
    from strotss.teacher.optimizer import optimize_image, resolve_device

    if args.iters < 3:
        raise UserError(f"--iters {args.iters}: at least 3 (the first iteration warms up, the rest are timed)")
    device = resolve_device(args.device)
    extractor = build_extractor(args.extractor).to(device)
    content = read_rgb(asset_path("content/kodak_kodim16.jpg"))
    style = read_rgb(asset_path("style/pnst_vg_wheat_field.jpg"))
    low = loss_matmul_dtype(args.loss_precision, device)
    print(f"device: {device} ({torch.get_num_threads()} threads); extractor {extractor.name}; "
          f"loss search/gradient matmuls {low or torch.float32}; "
          f"pair kodim16 / wheat field; {args.iters} timed iterations per scale")
    print(f"{'size':>5} {'scale':>6} {'s/iter':>8} {'floor s':>8} {'ratio':>6} {'peak MiB':>9}")
    for size in args.sizes:
        result = optimize_image(content, style, StrotssConfig(size=size, iters=args.iters, device=str(device),
                                                                loss_precision=args.loss_precision),
                                extractor=extractor, progress=False)
        projected = 0.0
        for side in sorted({h["size"] for h in result.history}):
            t = [h["time"] for h in result.history if h["size"] == side]
            per_iter = statistics.median(b - a for a, b in zip(t[1:], t[2:]))
            projected += per_iter * StrotssConfig.iters
            floor = extractor_floor(extractor, resize_long_side(content, side).shape[:2], device)
            print(f"{size:>5} {side:>6} {per_iter:>8.3f} {floor:>8.3f} {per_iter / floor:>6.2f} "
                  f"{peak_memory_mib(device):>9.0f}")
        print(f"{size:>5} projected total for {StrotssConfig.iters} iterations per scale: {projected / 60:.1f} min")
        if args.full:
            config = StrotssConfig(size=size, device=str(device), loss_precision=args.loss_precision)
            full = optimize_image(content, style, config, extractor=extractor, progress=True)
            objective = score_image(full.image, resize_long_side(content, size), resize_long_side(style, size),
                                    extractor)["total"]
            print(f"{size:>5} measured total ({config.iters} iterations per scale): {full.seconds / 60:.1f} min; "
                  f"objective of the result (α = 1, 4 draws): {objective:.4f}")
    return 0
