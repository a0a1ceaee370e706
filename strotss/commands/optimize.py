"""`strotss optimize`: the per-image STROTSS optimizer (the teacher, and the tool for guided edits)."""

from __future__ import annotations

import argparse

HELP = "stylize one image by optimizing the STROTSS objective (slow, best quality, guidance)"
DESCRIPTION = """Stylize CONTENT with STYLE by optimizing the STROTSS objective directly (Kolkin et al., CVPR 2019).

The output is optimized coarse to fine (long side 64, 128, ... up to --size) as a Laplacian pyramid
with RMSprop. Guidance: --regions pairs same-coloured regions of two masks; --points pairs points.

examples:
  strotss optimize photo.jpg painting.jpg -o out.png
  strotss optimize photo.jpg painting.jpg -o out.png --size 256 --alpha 0.5
  strotss optimize photo.jpg painting.jpg -o out.png --regions photo_mask.png painting_mask.png
  strotss optimize photo.jpg painting.jpg -o out.png --init student.png --iters 100
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of the optimize verb; defaults follow the method note."""
    p.add_argument("content", help="content photo")
    p.add_argument("style", help="style image (painting)")
    p.add_argument("-o", "--output", required=True, help="output image (.png or .jpg), written atomically")
    p.add_argument("--size", type=int, default=512, help="output long side in px (default 512; ≥ 64)")
    p.add_argument("--alpha", type=float, default=1.0,
                   help="content weight α: higher keeps more content (default 1.0; ×16 at the first scale, halved per scale)")
    p.add_argument("--iters", type=int, default=200, help="iterations per scale (default 200; the authors' code used 250)")
    p.add_argument("--lr", type=float, default=2e-3, help="RMSprop learning rate (default 2e-3)")
    p.add_argument("--last-lr", type=float, default=1e-3,
                   help="learning rate at the last scale (default 1e-3), unless --init makes it a warm start's first")
    p.add_argument("--weighting", choices=("code", "paper"), default="code",
                   help="term weighting: the authors' code (default) or the paper's formula")
    p.add_argument("--extractor", default="vgg19",
                   help="feature extractor: vgg19 (embedded, default), vgg16 (torchvision), timm:<model>")
    p.add_argument("--weights", default=None,
                   help="local weights file for the extractor (offline use), or `random` (untrained; tests only)")
    p.add_argument("--positions", type=int, default=1024, help="output/content positions per step (default 1024)")
    p.add_argument("--style-samples", type=int, default=5000, help="style hypercolumns per region (default 5000)")
    p.add_argument("--regions", nargs=2, metavar=("CONTENT_MASK", "STYLE_MASK"),
                   help="two colour masks; regions with the same colour are paired")
    p.add_argument("--points", metavar="FILE", help="text file of point pairs: `content_x content_y style_x style_y` per line")
    p.add_argument("--init", metavar="IMAGE",
                   help="warm start from this image (e.g. a student's output); its first scale runs at --lr")
    p.add_argument("--init-scales", type=int, default=1, help="with --init: how many of the finest scales to run (default 1)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 … (default: cuda when present)")
    p.add_argument("--loss-precision", choices=("auto", "fp32", "bf16"), default="auto",
                   help="bf16 runs the nearest-neighbour search and gradient-only matmuls in bfloat16 (loss values "
                        "stay fp32); fp32 keeps every matmul exact; auto (default) picks bf16 where the hardware "
                        "has native bf16 (CUDA, AVX512-BF16, AMX)")
    p.add_argument("--log-json", metavar="FILE", help="write the per-iteration loss terms as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Load inputs, validate them before the long run, optimize, and write outputs atomically."""
    import json

    from strotss.imageio import atomic_output, check_image_output, check_writable, read_rgb, write_image
    from strotss.outputs import refuse_overwriting_inputs
    from strotss.teacher.guidance import load_points, load_region_masks
    from strotss.teacher.optimizer import StrotssConfig, optimize_image

    config = StrotssConfig(size=args.size, alpha=args.alpha, iters=args.iters, lr=args.lr, last_lr=args.last_lr,
                           weighting=args.weighting, extractor=args.extractor, weights=args.weights,
                           n_positions=args.positions, n_style=args.style_samples, init_scales=args.init_scales,
                           seed=args.seed, device=args.device, loss_precision=args.loss_precision)
    check_image_output(args.output)
    if args.log_json:
        check_writable(args.log_json)
    refuse_overwriting_inputs([args.output, args.log_json] if args.log_json else [args.output],
                              [args.content, args.style, args.init, args.points, *(args.regions or [])])
    content, style = read_rgb(args.content), read_rgb(args.style)
    regions = (load_region_masks(args.regions[0], args.regions[1], content.shape[:2], style.shape[:2])
               if args.regions else None)
    points = load_points(args.points) if args.points else None
    init = read_rgb(args.init) if args.init else None
    result = optimize_image(content, style, config, regions=regions, points=points, init=init,
                            progress=not args.quiet, names=(args.content, args.style))
    write_image(args.output, result.image)
    if args.log_json:
        with atomic_output(args.log_json, "w") as fh:
            json.dump({"config": result.config, "seconds": result.seconds, "history": result.history}, fh)
    h, w = result.image.shape[:2]
    print(f"wrote {args.output} ({w}×{h}) in {result.seconds:.0f} s; final objective {result.history[-1]['total']:.4f}")
    return 0
