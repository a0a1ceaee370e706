"""`strotss export`: turn a training checkpoint into ONNX graph(s) for ONNX Runtime."""

from __future__ import annotations

import argparse
import sys

HELP = "export a checkpoint to ONNX (dynamic batch/height/width, metadata, optional fp16)"
DESCRIPTION = """\
Export a strotss or Lightning checkpoint to ONNX (opset ≥ 18, dynamic batch/height/width).

  strotss export runs/mosaic.ckpt -o mosaic.onnx --fp16 --simplify
  strotss export runs/arbitrary.ckpt -o arb.onnx              (writes arb.onnx + arb.style.onnx)
  strotss export runs/arbitrary.ckpt -o starry.onnx --style starry.jpg   (one graph, style baked in)

--fp16 stores fp16 weights/arithmetic but keeps float32 inputs and outputs (Cast nodes)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the export options."""
    parser.add_argument("checkpoint", help="checkpoint written by `strotss train` (strotss or Lightning format)")
    parser.add_argument("-o", "--output", required=True, help="output .onnx file")
    parser.add_argument("--fp16", action="store_true", help="fp16 weights and arithmetic, float32 I/O")
    parser.add_argument("--simplify", action="store_true", help="simplify the graph with onnxslim")
    parser.add_argument("--style", help="arbitrary models: bake this style image into a single per-style graph")
    parser.add_argument("--opset", type=int, default=18, help="ONNX opset (≥ 18, default 18)")


def run(args: argparse.Namespace) -> int:
    """Export and print the written file names."""
    import contextlib
    import io

    from strotss.export.onnx_export import export_onnx

    with contextlib.redirect_stdout(io.StringIO()):  # the dynamo exporter prints its progress to stdout
        paths = export_onnx(args.checkpoint, args.output, fp16=args.fp16, simplify=args.simplify,
                            style_image=args.style, opset=args.opset)
    for p in paths:
        print(p)
    return 0
