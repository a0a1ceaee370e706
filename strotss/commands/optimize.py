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


# StrotssConfig fields exposed as flags, in --help order (the guidance flags go between the two groups).
SETTINGS = ("size", "alpha", "iters", "lr", "last_lr", "weighting", "extractor", "weights", "n_positions", "n_style")
LATE_SETTINGS = ("init_scales", "seed", "device", "loss_precision")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of the optimize verb; the optimizer's come with their defaults and help from StrotssConfig."""
    from strotss.flags import add_flags
    from strotss.teacher.config import StrotssConfig

    p.add_argument("content", help="content photo")
    p.add_argument("style", help="style image (painting)")
    p.add_argument("-o", "--output", required=True, help="output image (.png or .jpg), written atomically")
    add_flags(p, StrotssConfig, SETTINGS)
    p.add_argument("--regions", nargs=2, metavar=("CONTENT_MASK", "STYLE_MASK"),
                   help="two colour masks; regions with the same colour are paired")
    p.add_argument("--points", metavar="FILE", help="text file of point pairs: `content_x content_y style_x style_y` per line")
    p.add_argument("--init", metavar="IMAGE",
                   help="warm start from this image (e.g. a student's output); its first scale runs at --lr")
    add_flags(p, StrotssConfig, LATE_SETTINGS)
    p.add_argument("--log-json", metavar="FILE", help="write the per-iteration loss terms as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Load inputs, validate them before the long run, optimize, and write outputs atomically."""
    import json
    from pathlib import Path

    from strotss.flags import from_flags
    from strotss.imageio import (atomic_output, check_image_output, check_same_aspect, check_writable, read_rgb,
                                 write_image)
    from strotss.outputs import refuse_overwriting_inputs, refuse_shared_outputs
    from strotss.teacher.config import StrotssConfig
    from strotss.teacher.guidance import check_points, load_points, load_region_masks
    from strotss.teacher.optimizer import optimize_image

    config = from_flags(StrotssConfig, args, SETTINGS + LATE_SETTINGS)
    check_image_output(args.output)
    if args.log_json:
        check_writable(args.log_json)
        refuse_shared_outputs([("the image (-o)", args.output), ("the log (--log-json)", args.log_json)],
                              f"give --log-json a file of its own, such as {Path(args.output).with_suffix('.json')}")
    refuse_overwriting_inputs([args.output, args.log_json] if args.log_json else [args.output],
                              [args.content, args.style, args.init, args.points, *(args.regions or [])])
    content, style = read_rgb(args.content), read_rgb(args.style)
    regions = (load_region_masks(args.regions[0], args.regions[1], content.shape[:2], style.shape[:2])
               if args.regions else None)
    points = load_points(args.points) if args.points else None
    if points is not None:
        check_points(points, content.shape[:2], style.shape[:2], args.points)
    init = read_rgb(args.init) if args.init else None
    if init is not None:
        check_same_aspect(init.shape[:2], content.shape[:2], args.init, f"the content image {args.content}",
                          "a warm start must be the content at any scale (a student's output of it, say)")
    result = optimize_image(content, style, config, regions=regions, points=points, init=init,
                            progress=not args.quiet, names=(args.content, args.style))
    write_image(args.output, result.image)
    if args.log_json:
        with atomic_output(args.log_json, "w") as fh:
            json.dump({"config": result.config, "seconds": result.seconds, "history": result.history}, fh)
    h, w = result.image.shape[:2]
    print(f"wrote {args.output} ({w}×{h}) in {result.seconds:.0f} s; final objective {result.history[-1]['total']:.4f}")
    return 0
