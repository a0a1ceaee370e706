"""The real-time student used for Preview: an exported ONNX model or a training checkpoint."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from strotss.imageio import resize_long_side


class Student:
    """Load a stylizer once (ONNX via ONNX Runtime, else a .pt/.ckpt checkpoint via torch) and stylize images."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() == ".onnx":
            from strotss.export.runtime import StyleModel

            self.onnx = StyleModel(self.path)
            self.net = None
        else:
            from strotss.models import load_model

            self.onnx = None
            self.net, self.meta = load_model(self.path)

    def stylize(self, content: np.ndarray, style: np.ndarray, size: int) -> np.ndarray:
        """Stylize H×W×3 uint8 content at long side `size` (style used by arbitrary-style models) → uint8."""
        from strotss.export.metadata import STYLE_LONG_SIDE
        from strotss.export.runtime import batch_to_images, image_to_batch

        content = resize_long_side(content, size)
        style = resize_long_side(style, min(STYLE_LONG_SIDE, max(style.shape[:2])))
        if self.onnx is not None:
            code = self.onnx.encode_style(style) if self.onnx.needs_style else None
            return batch_to_images(self.onnx(image_to_batch(content), code=code))[0]
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(image_to_batch(content))
            if self.meta.get("model_name") == "arbitrary":
                out = self.net(x, self.net.encode_style(torch.from_numpy(image_to_batch(style))))
            else:
                out = self.net(x)
        return batch_to_images(out.numpy())[0]
