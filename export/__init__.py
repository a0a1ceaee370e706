"""ONNX export (torch side) and ONNX Runtime inference (numpy side, no torch)."""
