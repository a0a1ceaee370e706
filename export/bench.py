"""Moved to strotss.bench.onnx; kept for benchmarks/size_table.py until it imports from there."""

from strotss.bench.onnx import _stl_rows
from strotss.bench.timing import median_ms as time_call

__all__ = ["_stl_rows", "time_call"]
