"""`strotss demo`: the whole pipeline on bundled samples and embedded weights — teacher, training,
ONNX export, real-time stylization and a comparison picture."""

from __future__ import annotations

import argparse

HELP = "run everything end to end on the bundled samples (teacher → train → export → stylize)"
DESCRIPTION = """Run the main job end to end on the bundled sample images with the embedded VGG19:

  1. teacher: the per-image STROTSS optimizer on a bundled photo and painting (--size px)
  2. train:   a short per-style run on the bundled photos for --train-minutes (checks that training works)
  3. export:  that checkpoint to ONNX
  4. stylize: held-out photos in real time with ONNX Runtime (no torch): the bundled `wheat_field` and
              `arbitrary` (with The Starry Night) models, and the short run's network
  5. report:  OUT/comparison.png (content | style | short run | bundled wheat_field | teacher, with objectives)

About 10 minutes on a 2-core CPU with the defaults; rerunning resumes and skips finished steps.
"""
CONTENT = "content/kodak_kodim16.jpg"
STYLE = "style/pnst_vg_wheat_field.jpg"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of the demo."""
    from strotss.teacher.config import StrotssConfig

    p.add_argument("-o", "--out", default="outputs/demo", help="output folder (default outputs/demo)")
    p.add_argument("--size", type=int, default=256, help="teacher and comparison long side (default 256)")
    p.add_argument("--train-minutes", type=float, default=5.0, help="training time budget (default 5)")
    p.add_argument("--iters", type=int, default=StrotssConfig.iters,
                   help="teacher iterations per scale (default %(default)s)")


def _step(n: int, text: str) -> None:
    """Announce a demo step."""
    print(f"\n[{n}/5] {text}", flush=True)


def run(args: argparse.Namespace) -> int:
    """Run the five steps, skipping those whose outputs already exist."""
    from importlib.resources import files
    from pathlib import Path

    from strotss.assets import asset_path
    from strotss.errors import UserError
    from strotss.export.onnx_export import export_onnx
    from strotss.export.runtime import StyleModel
    from strotss.imageio import check_writable, read_rgb, resize_long_side, write_image
    from strotss.losses import build_extractor, score_image
    from strotss.pretrained import resolve_model
    from strotss.teacher.compare import labelled_row
    from strotss.teacher.config import StrotssConfig
    from strotss.teacher.optimizer import optimize_image
    from strotss.train.cli import run_cli

    if not args.train_minutes > 0:
        raise UserError(f"--train-minutes {args.train_minutes}: must be a number > 0")
    teacher_config = StrotssConfig(size=args.size, iters=args.iters)
    out = Path(args.out)
    check_writable(out / "teacher.png")
    content, style = read_rgb(asset_path(CONTENT)), read_rgb(asset_path(STYLE))
    extractor = build_extractor()

    teacher_path = out / "teacher.png"
    _step(1, f"teacher: STROTSS optimizer, {Path(CONTENT).name} × {Path(STYLE).name} at {args.size} px")
    if teacher_path.exists():
        print(f"  {teacher_path} exists; skipped")
    else:
        result = optimize_image(content, style, teacher_config, extractor=extractor)
        write_image(teacher_path, result.image)
        print(f"  wrote {teacher_path} in {result.seconds:.0f} s")

    _step(2, f"train: per-style network on the bundled photos for {args.train_minutes:g} min")
    root = out / "train"
    minutes = int(args.train_minutes)
    seconds = round((args.train_minutes - minutes) * 60)
    cli_args = ["fit", "--config", str(files("strotss.configs") / "demo.yaml"),
                "--trainer.default_root_dir", str(root), "--trainer.max_time", f"00:00:{minutes:02d}:{seconds:02d}"]
    previous = sorted(root.glob("**/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime)
    if previous:
        cli_args += ["--ckpt_path", str(previous[-1])]
    trainer = run_cli(cli_args).trainer
    checkpoint = sorted(root.glob("**/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime)[-1]
    print(f"  trained to step {trainer.global_step}; checkpoint {checkpoint}")
    print(f"  metrics, image grids and Lightning's own messages (console.log) in {trainer.log_dir}")

    _step(3, "export: ONNX")
    onnx_path = export_onnx(checkpoint, out / "wheat_field.onnx")[0]
    print(f"  wrote {onnx_path}")

    _step(4, "stylize: held-out photos in real time (ONNX Runtime): bundled models and the short run")
    model = StyleModel(onnx_path)
    bundled = StyleModel(resolve_model("wheat_field"))
    arbitrary = StyleModel(resolve_model("arbitrary"))
    arbitrary.set_style(read_rgb(asset_path("style/pnst_vg_starry_night.jpg")))
    for name in ("kodak_kodim15.jpg", "kodak_kodim16.jpg", "kodak_kodim19.jpg", "kodak_kodim20.jpg"):
        photo = read_rgb(asset_path(f"content/{name}"))
        stem = name.replace(".jpg", "")
        for label, m in (("short_run", model), ("wheat_field", bundled), ("arbitrary_starry_night", arbitrary)):
            write_image(out / "stylized" / f"{stem}_{label}.png", m.stylize_images([photo])[0])
    print(f"  wrote {out / 'stylized'}/ (short run, bundled wheat_field, bundled arbitrary × The Starry Night)")

    _step(5, "report: content | style | short run | bundled wheat_field | teacher")
    small = resize_long_side(content, args.size)
    style_small = resize_long_side(style, args.size)
    images = {"short run": model.stylize_images([small])[0], "wheat_field": bundled.stylize_images([small])[0],
              "teacher": read_rgb(teacher_path)}
    scores = {k: score_image(v, small, style_small, extractor)["total"] for k, v in images.items()}
    write_image(out / "comparison.png", labelled_row([small, style_small, *images.values()],
                                                     ["content", "style", *(f"{k} {v:.3f}" for k, v in scores.items())]))
    print("  objective (α = 1, lower is better): " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items())
          + f"; picture {out / 'comparison.png'}")
    return 0
