"""`strotss bench SUB`: the benchmarks of strotss.bench, one sub-command each."""

from __future__ import annotations

import argparse

from strotss.bench import flicker, infer, onnx, optimize, quality, train

HELP = ("benchmarks: `bench optimize` (per-image optimizer), `bench train` (training step), `bench onnx` "
        "(ONNX Runtime), `bench infer` (PyTorch inference), `bench quality` (objective on held-out photos), "
        "`bench flicker` (temporal stability under known camera motion)")
SUB_BENCHES = {"onnx": onnx, "optimize": optimize, "train": train, "infer": infer, "quality": quality,
                "flicker": flicker}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register one sub-parser per benchmark module (its HELP, DESCRIPTION, add_arguments and run)."""
    sub = parser.add_subparsers(dest="bench", metavar="BENCH", required=True)
    for name, module in SUB_BENCHES.items():
        p = sub.add_parser(name, help=module.HELP, description=getattr(module, "DESCRIPTION", module.HELP),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(_bench_run=module.run)


def run(args: argparse.Namespace) -> int:
    """Dispatch to the chosen benchmark."""
    return int(args._bench_run(args) or 0)
