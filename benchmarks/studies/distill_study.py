"""Does distillation from teacher outputs help the student at equal training time? (issue 9, item 7)

    python benchmarks/studies/distill_study.py --photos ../shared/data/content --n 8 --size 128 --steps 600

1. `strotss teach`: the per-image optimizer on N training photos (never the bundled, held-out ones) × the
   painting, at --size; its seconds per pair are reported (a one-time cost a recipe would pay). Finished
   pairs in --work are kept, so an interrupted study resumes.
2. Two per-style runs of the same network on the same N photos for the same --steps (cosine schedule over
   them): the STROTSS objective alone, and the objective + distill_weight × L1 to the teacher's outputs
   (`--data.teacher`, `--model.distill_weight`). The L1 term costs next to nothing, so equal steps are equal
   training time; both wall times are printed to show it (a step count, unlike a time limit, stays fair when
   something else shares the machine).
3. `strotss bench quality` scores both on the bundled photos (held out) at --size.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def strotss(*args: str, cwd: Path) -> None:
    """Run a strotss verb in this interpreter's environment, output to the console; exit on failure."""
    if subprocess.run([sys.executable, "-m", "strotss.cli", *args], cwd=cwd).returncode:
        sys.exit(f"strotss {' '.join(args[:2])} failed")


def main() -> None:
    """Teach, train both ways, score, print the table."""
    from strotss.assets import asset_path
    from strotss.imageio import list_images

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--photos", type=Path, required=True, help="training photos (bundled names are left out)")
    p.add_argument("--style", type=Path, default=asset_path("style/pnst_vg_wheat_field.jpg"))
    p.add_argument("--n", type=int, default=8, help="photos the teacher stylizes and both runs train on")
    p.add_argument("--size", type=int, default=128, help="teacher size, training crop and scoring size")
    p.add_argument("--steps", type=int, default=600, help="training steps (batches of 4) of each run")
    p.add_argument("--preset", default="tiny", choices=("tiny", "small", "base"), help="network preset")
    p.add_argument("--distill-weight", type=float, default=1.0)
    p.add_argument("--work", type=Path, default=Path("runs/distill_study"))
    args = p.parse_args()

    held_out = {q.name for q in list_images(asset_path("content"))}
    chosen = [q for q in list_images(args.photos) if q.name not in held_out][: args.n]
    work = args.work.resolve()
    photos = work / "photos"
    shutil.rmtree(photos, ignore_errors=True)
    photos.mkdir(parents=True)
    for q in chosen:
        shutil.copy(q, photos / q.name)

    teacher = work / "teacher"
    before = len(list(teacher.glob("*.png"))) if teacher.is_dir() else 0
    t = time.monotonic()
    strotss("teach", "--content", str(photos), "--style", str(args.style.resolve()), "--out", str(teacher),
            "--size", str(args.size), cwd=work)
    made = len(list(teacher.glob("*.png"))) - before
    teach_note = f"{(time.monotonic() - t) / made:.0f} s per pair" if made else "all pairs from an earlier run"

    common = ["train", "fit", "--config", str(REPO / "configs" / "per_style.yaml"),
              "--trainer.accelerator", "cpu", "--trainer.precision", "32-true",
              "--trainer.max_steps", str(args.steps),
              "--trainer.limit_val_batches", "0", "--trainer.enable_progress_bar", "false",
              "--model.model_kwargs", json.dumps({"preset": args.preset}), "--model.warmup_steps", "20",
              "--data.style", str(args.style.resolve()), "--data.crop", str(args.size),
              "--data.style_size", str(args.size), "--data.batch_size", "4", "--data.num_workers", "1"]
    runs = {"plain": ["--data.content", str(photos), "--data.val_content", "null", "--data.num_val", "0"],
            "distill": [
                "--data.teacher", str(work / "teacher"), "--data.num_val", "0",
                "--model.distill_weight", str(args.distill_weight)]}
    checkpoints, minutes = {}, {}
    for i, (label, extra) in enumerate(runs.items()):
        root = work / f"run{i}"
        shutil.rmtree(root, ignore_errors=True)
        t = time.monotonic()
        strotss(*common, "--trainer.default_root_dir", str(root), *extra, cwd=work)
        minutes[label] = (time.monotonic() - t) / 60
        checkpoints[label] = root / "checkpoints" / "last.ckpt"

    quality = ["bench", "quality", "--style", str(args.style.resolve()), "--size", str(args.size),
               "--sheet", str(work / "quality.png"), "--json", str(work / "quality.json")]
    for label, ckpt in checkpoints.items():
        quality += ["--model", f"{label}={ckpt}"]
    strotss(*quality, cwd=work)
    scores = json.loads((work / "quality.json").read_text())
    print(f"\nteacher: {len(chosen)} photos at {args.size} px ({teach_note})")
    what = {"plain": "objective only", "distill": f"objective + {args.distill_weight:g} × L1 to the teacher"}
    for label in checkpoints:
        values = [v["total"] for v in scores[label].values()]
        print(f"{what[label]:<40} {args.steps} steps, {minutes[label]:.1f} min: "
              f"held-out objective {sum(values) / len(values):.4f}")


if __name__ == "__main__":
    main()
