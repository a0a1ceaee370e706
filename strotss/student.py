"""A real-time stylizer from any source: a bundled model name, an exported ONNX file or a training checkpoint.

Used by the GUI's Preview and by `strotss bench quality`; ONNX goes through ONNX Runtime (no torch),
checkpoints through torch.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import numpy as np

from strotss.imageio import resize_long_side
from strotss.pretrained import resolve_model


class Student:
    """Load a stylizer once (ONNX via ONNX Runtime, else a .pt/.ckpt checkpoint via torch) and stylize images."""

    def __init__(self, spec: str | os.PathLike) -> None:
        self.path = resolve_model(spec)
        if self.path.suffix.lower() == ".onnx":
            from strotss.export.runtime import StyleModel

            self.onnx = StyleModel(self.path)
            self.net = None
            self.meta = dict(self.onnx.meta)
            self.needs_style = self.onnx.needs_style
        else:
            from strotss.models import load_model

            self.onnx = None
            self.net, self.meta = load_model(self.path)
            self.needs_style = self.net.needs_style
        self._code_for: tuple[bytes, Any] | None = None

    @property
    def style_name(self) -> str | None:
        """File stem of the painting a per-style model was trained on (None for models that take a style)."""
        return None if self.needs_style else (self.meta.get("style_name") or None)

    @property
    def alpha_range(self) -> tuple[float, float] | None:
        """(low, high) content weights of a model conditioned on α, else None."""
        if self.onnx is not None:
            return self.onnx.alpha_range
        film = getattr(self.net, "film", None)
        return (film.lo, film.hi) if film is not None else None

    def stylize(self, content: np.ndarray, style: np.ndarray, size: int, alpha: float | None = None) -> np.ndarray:
        """Stylize H×W×3 uint8 content at long side `size` (style used by arbitrary-style models; α by models
        conditioned on it, default their own) → uint8."""
        from strotss.export.runtime import batch_to_images, image_to_batch
        from strotss.models.metadata import STYLE_LONG_SIDE

        content = resize_long_side(content, size)
        style = resize_long_side(style, min(STYLE_LONG_SIDE, max(style.shape[:2])))
        if self.onnx is not None:
            code = self._code(style) if self.needs_style else None
            return batch_to_images(self.onnx(image_to_batch(content), code=code, alpha=alpha))[0]
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(image_to_batch(content))
            code = self._code(style) if self.needs_style else None
            out = self.net.stylize(x, code) if alpha is None else self.net.stylize(x, code, alpha=alpha)
        return batch_to_images(out.numpy())[0]

    def _code(self, style: np.ndarray) -> Any:
        """The style code of an arbitrary-style model for this (resized) style image, kept for the next call."""
        key = hashlib.sha1(style.tobytes() + repr(style.shape).encode()).digest()
        if self._code_for is None or self._code_for[0] != key:
            if self.onnx is not None:
                code = self.onnx.encode_style(style)
            else:
                import torch

                from strotss.export.runtime import image_to_batch

                with torch.inference_mode():
                    code = self.net.style_code(torch.from_numpy(image_to_batch(style)))
            self._code_for = (key, code)
        return self._code_for[1]
