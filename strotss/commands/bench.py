"""`strotss bench SUB`: benchmarks, one sub-command per module that exists (others register theirs later)."""

from __future__ import annotations

import argparse
import importlib
from importlib.util import find_spec

HELP = ("benchmarks: `bench optimize` (per-image optimizer), `bench train` (training step), `bench onnx` "
        "(ONNX Runtime), `bench infer` (PyTorch inference), `bench quality` (objective on held-out photos)")
SUB_BENCHES = {"onnx": "strotss.export.bench", "optimize": "strotss.teacher.bench", "train": "strotss.train.bench",
               "infer": "strotss.bench.infer", "quality": "strotss.bench.quality"}


def _available(module: str) -> bool:
    """True when the sub-bench module is installed (its parent package may not exist yet either)."""
    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register one sub-parser per available sub-bench module (module.HELP, add_arguments, run)."""
    sub = parser.add_subparsers(dest="bench", metavar="BENCH", required=True)
    for name, module_name in SUB_BENCHES.items():
        if not _available(module_name):
            continue
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=module.HELP, description=getattr(module, "DESCRIPTION", module.HELP),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(_bench_run=module.run)


def run(args: argparse.Namespace) -> int:
    """Dispatch to the chosen sub-bench."""
    return int(args._bench_run(args) or 0)
