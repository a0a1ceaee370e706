"""Names shared by the ONNX exporter and the runtime: graph kinds, tensor names and metadata keys (no torch)."""

from __future__ import annotations

PREFIX = "strotss."
KIND_PER_STYLE = "per_style"
KIND_STYLIZER = "arbitrary_stylizer"
KIND_STYLE_ENCODER = "arbitrary_style_encoder"
KINDS = (KIND_PER_STYLE, KIND_STYLIZER, KIND_STYLE_ENCODER)

INPUT_IMAGE = "image"
INPUT_CODE = "code"
INPUT_STYLE = "style"
INPUT_ALPHA = "alpha"   # content weight α, one per image, of per-style graphs conditioned on it
OUTPUT_IMAGE = "stylized"
OUTPUT_CODE = "code_out"

NORMALIZATION = "RGB float in [0,1], NCHW"
STYLE_LONG_SIDE = 256


def style_graph_path(stylizer_path: str) -> str:
    """Companion style-encoder file of an arbitrary stylizer: model.onnx → model.style.onnx."""
    stem = stylizer_path[:-5] if stylizer_path.endswith(".onnx") else stylizer_path
    return f"{stem}.style.onnx"
