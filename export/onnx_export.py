"""Export strotss checkpoints to ONNX (torch side): dynamic batch/height/width, metadata, fp16, simplify."""

from __future__ import annotations

import contextlib
import io
import logging
import os
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import onnx
import torch
import torch.nn as nn

from strotss import __version__
from strotss.errors import UserError
from strotss.export.fp16 import to_fp16, to_fp16_weights
from strotss.imageio import atomic_output, check_writable, read_rgb, resize_long_side
from strotss.models import metadata
from strotss.models.registry import load_model

MIN_OPSET = 18  # the dynamo exporter's own opset; its converter cannot go lower (Pad)


def _dims(graph: metadata.Graph) -> tuple[dict[int, Any], ...]:
    """The dynamic axes of each input for torch.export: batch, height and width of images, batch of codes."""
    axes = {metadata.CODE: (0,), metadata.ALPHA: (0,)}
    return tuple({axis: torch.export.Dim.DYNAMIC for axis in axes.get(name, (0, 2, 3))} for name in graph.inputs)


@contextlib.contextmanager
def _quiet_version_converter() -> Iterator[None]:
    """Silence onnxscript's version converter, which logs tracebacks and falls back to another opset on failure;
    the caller checks the resulting opset instead."""
    log = logging.getLogger("onnxscript.version_converter")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


def check_opset(opset: int) -> None:
    """UserError unless the exporter can write this opset: from MIN_OPSET to the newest the installed onnx knows."""
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= newest:
        raise UserError(f"--opset {opset}: use an opset from {MIN_OPSET} to {newest} (the newest this onnx "
                        f"{onnx.__version__} knows); the default is 18")


def _to_onnx(module: nn.Module, args: tuple[torch.Tensor, ...], inputs: list[str], outputs: list[str],
             dynamic: tuple[dict[int, Any], ...], opset: int) -> onnx.ModelProto:
    """Run the dynamo exporter (torch.export + onnxscript) and return a checked in-memory ModelProto."""
    with _quiet_version_converter():
        program = torch.onnx.export(module.eval(), args, dynamo=True, opset_version=opset, input_names=inputs,
                                    output_names=outputs, dynamic_shapes=dynamic, verbose=False)
    model = program.model_proto
    got = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    if got != opset:
        raise UserError(f"--opset {opset}: the exporter could not convert this network to opset {opset} "
                        f"(it stayed at {got}); use --opset {got} or another opset")
    onnx.checker.check_model(model, full_check=True)
    return model


def _finish(model: onnx.ModelProto, path: Path, props: dict[str, str], *, fp16: bool, simplify: bool,
            fp16_weights: bool = False) -> Path:
    """Simplify, convert to fp16 (fp32 I/O kept via Cast nodes) or store only the weights in fp16,
    attach metadata (strotss.models.metadata.onnx_props and the precision), check, write atomically."""
    if simplify:
        import onnxslim

        model = onnxslim.slim(model)
    if fp16:
        model = to_fp16(model)
    elif fp16_weights:
        model = to_fp16_weights(model)
    props = {**props, metadata.PREFIX + "precision": "fp16" if fp16 else "fp16-weights" if fp16_weights else "fp32"}
    del model.metadata_props[:]
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.producer_name, model.producer_version = "strotss", __version__
    onnx.checker.check_model(model)
    buf = io.BytesIO()
    onnx.save_model(model, buf)
    with atomic_output(path) as fh:
        fh.write(buf.getvalue())
    return path


def _style_tensor(style_image: str | os.PathLike) -> torch.Tensor:
    """Read a style image, downscale its long side to the encoder's size, return 1×3×H×W in [0, 1]."""
    rgb = read_rgb(style_image)
    if max(rgb.shape[:2]) > metadata.STYLE_LONG_SIDE:
        rgb = resize_long_side(rgb, metadata.STYLE_LONG_SIDE)
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float() / 255.0


def export_onnx(checkpoint: str | os.PathLike, output: str | os.PathLike, *, fp16: bool = False,
                simplify: bool = False, style_image: str | os.PathLike | None = None,
                opset: int = 18) -> list[Path]:
    """Export a checkpoint to ONNX: the graphs of its network's `onnx_graphs`, the main one at `output` and any
    companion beside it (an arbitrary network: the stylizer and its `.style.onnx` encoder, unless a style is
    baked in).

    fp16 converts the weights and arithmetic of image graphs but keeps float32 inputs/outputs (Cast nodes),
    so callers never change; a graph that needs fp32 range (the style encoder: it runs once per style, and VGG
    statistics need range) computes in fp32 from fp16-stored weights, which halves its file.
    """
    check_opset(opset)
    out = Path(output)
    if out.suffix != ".onnx":
        raise UserError(f"{out}: output must end in .onnx")
    check_writable(out)
    net, meta = load_model(checkpoint, onnx_advice="it is already exported: run it with `strotss stylize`; to export "
                                                   "again (--fp16, --opset), pass the checkpoint it was exported from")
    if style_image is not None:
        if not net.needs_style:
            raise UserError(f"{checkpoint}: --style needs a network that takes a style image (arbitrary); this one "
                            f"is {meta['model_name']}")
        meta = {**meta, "style_name": Path(style_image).name}
    with torch.no_grad():
        graphs = net.onnx_graphs(_style_tensor(style_image) if style_image is not None else None)
        paths = [out] + [Path(g.graph.path_beside(str(out))) for g in graphs[1:]]
        links = {g.graph.link_key: p.name for g, p in zip(graphs[1:], paths[1:]) if g.graph.link_key}
        models = [_to_onnx(g.module, g.args, list(g.graph.inputs), [g.graph.output], _dims(g.graph), opset)
                  for g in graphs]
    written = []
    for i, (g, model, path) in enumerate(zip(graphs, models, paths)):
        props = metadata.onnx_props(meta, g.graph, stride=net.stride, **g.props, **(links if i == 0 else {}))
        written.append(_finish(model, path, props, fp16=fp16 and g.graph.fp16_arithmetic, simplify=simplify,
                               fp16_weights=fp16 and not g.graph.fp16_arithmetic))
    return written
