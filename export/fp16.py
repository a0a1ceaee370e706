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


def to_fp16_weights(model: onnx.ModelProto, min_elements: int = 1024) -> onnx.ModelProto:
    """fp16 storage of the large float32 weights, cast back to float32 inside the graph: half the file,
    arithmetic unchanged (for graphs whose activations need float32 range, e.g. VGG style statistics)."""
    import numpy as np
    from onnx import helper, numpy_helper

    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph, casts = model.graph, []
    for init in graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT or np.prod(init.dims) < min_elements:
            continue
        half = numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), f"{init.name}__fp16")
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=onnx.TensorProto.FLOAT))
        init.CopyFrom(half)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    return model
