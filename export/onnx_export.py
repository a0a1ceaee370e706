"""Export strotss checkpoints to ONNX (torch side): dynamic batch/height/width, metadata, fp16, simplify."""

from __future__ import annotations

import contextlib
import io
import json
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
from strotss.export import metadata
from strotss.export.fp16 import to_fp16, to_fp16_weights
from strotss.imageio import atomic_output, check_writable, read_rgb, resize_long_side
from strotss.models import ArbitraryStyleNet
from strotss.models.registry import load_model

MIN_OPSET = 18  # the dynamo exporter's own opset; its converter cannot go lower (Pad)


class _PerStyleGraph(nn.Module):
    """Stride-aligned per-style forward: the runtime pads to the stride and crops back."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Stylize a stride-aligned batch."""
        return self.net.forward_aligned(image)


class _ConditionedGraph(nn.Module):
    """Per-style forward conditioned on the content weight α (one per image): the run-time trade-off knob."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        """Stylize a stride-aligned batch at content weights alpha (B)."""
        return self.net.forward_aligned(image, alpha)


class _StylizerGraph(nn.Module):
    """Arbitrary-style decoder path taking an explicit style code."""

    def __init__(self, net: ArbitraryStyleNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        """Stylize a stride-aligned batch with one code per image."""
        return self.net.forward_aligned(image, code)


class _StyleEncoderGraph(nn.Module):
    """Arbitrary-style style encoder: style image → code."""

    def __init__(self, net: ArbitraryStyleNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, style: torch.Tensor) -> torch.Tensor:
        """Encode a style batch of any size."""
        return self.net.encode_style(style)


class _BakedGraph(nn.Module):
    """Arbitrary network with one style code frozen in as a constant: a per-style graph."""

    def __init__(self, net: ArbitraryStyleNet, code: torch.Tensor) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("style_code", code)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Stylize a stride-aligned batch with the baked code."""
        return self.net.forward_aligned(image, self.style_code.expand(image.shape[0], -1))


def _dims(*specs: dict[int, str]) -> tuple[dict[int, Any], ...]:
    """Mark the given axes of each input as dynamic for torch.export."""
    return tuple({axis: torch.export.Dim.DYNAMIC for axis in spec} for spec in specs)


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


def _finish(model: onnx.ModelProto, path: Path, props: dict[str, Any], *, fp16: bool, simplify: bool,
            fp16_weights: bool = False) -> Path:
    """Simplify, convert to fp16 (fp32 I/O kept via Cast nodes) or store only the weights in fp16,
    attach metadata, check, write atomically."""
    if simplify:
        import onnxslim

        model = onnxslim.slim(model)
    if fp16:
        model = to_fp16(model)
    elif fp16_weights:
        model = to_fp16_weights(model)
    props = {**props, "precision": "fp16" if fp16 else "fp16-weights" if fp16_weights else "fp32"}
    del model.metadata_props[:]
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = metadata.PREFIX + key, "" if value is None else str(value)
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
    """Export a checkpoint to ONNX; arbitrary models give stylizer + `.style.onnx` unless a style is baked in.

    fp16 converts the weights and arithmetic of the image graph but keeps float32 inputs/outputs (Cast nodes),
    so callers never change; the style encoder computes in fp32 (it runs once per style and VGG statistics
    need range) from fp16-stored weights, which halves its file.
    """
    check_opset(opset)
    out = Path(output)
    if out.suffix != ".onnx":
        raise UserError(f"{out}: output must end in .onnx")
    check_writable(out)
    net, meta = load_model(checkpoint, onnx_advice="it is already exported: run it with `strotss stylize`; to export "
                                                   "again (--fp16, --opset), pass the checkpoint it was exported from")
    is_arbitrary = isinstance(net, ArbitraryStyleNet)
    if style_image is not None and not is_arbitrary:
        raise UserError(f"{checkpoint}: --style needs an arbitrary-style checkpoint; this one is per-style")
    props = {"stride": net.stride, "train_size": meta.get("train_size"), "style_name": meta.get("style_name"),
             "normalization": metadata.NORMALIZATION, "version": meta.get("version", __version__),
             "exporter_version": __version__, "model_name": meta.get("model_name"),
             "model_kwargs": json.dumps(meta.get("model_kwargs") or {}, sort_keys=True)}
    image = torch.rand(1, 3, 64, 64)
    image_axes = {0: "batch", 2: "height", 3: "width"}
    finish = {"fp16": fp16, "simplify": simplify}
    with torch.no_grad():
        if getattr(net, "conditioned", False):
            graph = _to_onnx(_ConditionedGraph(net), (image.expand(2, -1, -1, -1), torch.full((2,), net.alpha)),
                             [metadata.INPUT_IMAGE, metadata.INPUT_ALPHA], [metadata.OUTPUT_IMAGE],
                             _dims(image_axes, {0: "batch"}), opset)
            conditioned = {"kind": metadata.KIND_PER_STYLE, "alpha": net.alpha,
                           "alpha_range": json.dumps([net.film.lo, net.film.hi])}
            return [_finish(graph, out, {**props, **conditioned}, **finish)]
        if not is_arbitrary:
            graph = _to_onnx(_PerStyleGraph(net), (image,), [metadata.INPUT_IMAGE], [metadata.OUTPUT_IMAGE],
                             _dims(image_axes), opset)
            return [_finish(graph, out, {**props, "kind": metadata.KIND_PER_STYLE}, **finish)]
        if style_image is not None:
            code = net.encode_style(_style_tensor(style_image))
            graph = _to_onnx(_BakedGraph(net, code), (image,), [metadata.INPUT_IMAGE], [metadata.OUTPUT_IMAGE],
                             _dims(image_axes), opset)
            baked = {**props, "kind": metadata.KIND_PER_STYLE, "style_name": Path(style_image).name}
            return [_finish(graph, out, baked, **finish)]
        code_dim = net.to_mods.in_features
        style_out = Path(metadata.style_graph_path(str(out)))
        stylizer = _to_onnx(_StylizerGraph(net), (image.expand(2, -1, -1, -1), torch.zeros(2, code_dim)),
                            [metadata.INPUT_IMAGE, metadata.INPUT_CODE], [metadata.OUTPUT_IMAGE],
                            _dims(image_axes, {0: "batch"}), opset)
        encoder = _to_onnx(_StyleEncoderGraph(net), (torch.rand(1, 3, 64, 64),), [metadata.INPUT_STYLE],
                           [metadata.OUTPUT_CODE], _dims(image_axes), opset)
        arb = {**props, "code_dim": code_dim, "style_size": metadata.STYLE_LONG_SIDE}
        stylizer_props = {**arb, "kind": metadata.KIND_STYLIZER, "style_graph": style_out.name}
        return [_finish(stylizer, out, stylizer_props, **finish),
                _finish(encoder, style_out, {**arb, "kind": metadata.KIND_STYLE_ENCODER}, fp16=False,
                        simplify=simplify, fp16_weights=fp16)]
