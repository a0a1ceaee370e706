"""Student vs teacher: the objective of a trained per-style network's output on held-out photos next to
the per-image optimizer's (issue #3), plus the picture content | style | student | teacher.

    python benchmarks/studies/student_vs_teacher.py runs/per_style_cpu/checkpoints/last.ckpt \
        [--photos kodak_kodim15.jpg kodak_kodim16.jpg] [--size 256] [--out docs/student_vs_teacher.png]

Both outputs are scored with the same objective (α = 1, the training α; 4 seeded sample draws); the
terms of student, teacher and the unchanged photo show where the gap lies.
"""

from __future__ import annotations

import argparse
import time

from strotss.allocator import keep_freed_memory
from strotss.assets import asset_path
from strotss.imageio import read_rgb, resize_long_side, write_image
from strotss.losses import build_extractor, score_image
from strotss.models import load_model
from strotss.teacher.compare import PairScore, labelled_row, stack_rows, student_output
from strotss.teacher.config import StrotssConfig
from strotss.teacher.optimizer import optimize_image


def main() -> None:
    """Score student and teacher on each photo, print a table, write the picture."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("--style", default=str(asset_path("style/pnst_vg_wheat_field.jpg")))
    p.add_argument("--photos", nargs="+", default=["kodak_kodim15.jpg", "kodak_kodim19.jpg"],
                   help="bundled content photos (held out by the CPU recipe: the last four)")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--iters", type=int, default=200, help="teacher iterations per scale")
    p.add_argument("--out", default="docs/student_vs_teacher.png")
    args = p.parse_args()
    keep_freed_memory()

    model, meta = load_model(args.checkpoint)
    extractor = build_extractor("vgg19")
    style = read_rgb(args.style)
    style_small = resize_long_side(style, args.size)
    rows, scores = [], []
    for name in args.photos:
        content = resize_long_side(read_rgb(asset_path(f"content/{name}")), args.size)
        t = time.perf_counter()
        student = student_output(model, content)
        t_student = time.perf_counter() - t
        teacher = optimize_image(content, style, StrotssConfig(size=args.size, iters=args.iters), extractor=extractor)
        terms = {who: score_image(img, content, style_small, extractor)
                 for who, img in (("student", student), ("content", content), ("teacher", teacher.image))}
        s = PairScore(name, terms["student"]["total"], terms["teacher"]["total"])
        scores.append(s)
        for who, t in terms.items():
            print(f"  {who:<8}" + "".join(f" {k} {v:.3f}" for k, v in t.items()), flush=True)
        print(f"{name}: student {s.student:.4f} ({t_student * 1000:.0f} ms), teacher {s.teacher:.4f} "
              f"({teacher.seconds:.0f} s), gap {s.gap_pct:+.1f} %", flush=True)
        rows.append(labelled_row([content, style_small, student, teacher.image],
                                 ["content", "style", f"student  {s.student:.3f}", f"teacher  {s.teacher:.3f}"]))
    write_image(args.out, stack_rows(rows))
    mean_gap = sum(s.gap_pct for s in scores) / len(scores)
    print(f"{'photo':<22}{'student':>9}{'teacher':>9}{'gap %':>8}")
    for s in scores:
        print(f"{s.name:<22}{s.student:>9.4f}{s.teacher:>9.4f}{s.gap_pct:>8.1f}")
    print(f"mean gap {mean_gap:+.1f} % over {len(scores)} held-out photos; picture: {args.out}")


if __name__ == "__main__":
    main()
