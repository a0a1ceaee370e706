"""fp16 conversion of an ONNX graph with float32 inputs/outputs kept (onnx + onnxconverter-common, no torch)."""

from __future__ import annotations

import warnings

import onnx


def to_fp16(model: onnx.ModelProto) -> onnx.ModelProto:
    """fp16 weights and arithmetic; Cast nodes keep the float32 I/O so callers never change."""
    from onnxconverter_common import float16

    model = onnx.ModelProto.FromString(model.SerializeToString())
    del model.graph.value_info[:]  # stale fp32 shape annotations would contradict the inserted Casts
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "number truncated to 1e-07" for tiny weights
        return float16.convert_float_to_float16(model, keep_io_types=True)
