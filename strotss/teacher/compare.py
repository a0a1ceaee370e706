"""Student vs teacher on the same pairs: objective of each, the gap in %, and a labelled picture."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from strotss.imageio import to_uint8
from strotss.losses import to_tensor


@dataclass
class PairScore:
    """Objective (α as trained) of the student's and the teacher's output for one content photo."""

    name: str
    student: float
    teacher: float

    @property
    def gap_pct(self) -> float:
        """How much higher the student's objective is than the teacher's, in %."""
        return 100.0 * (self.student - self.teacher) / self.teacher


def labelled_row(images: list[np.ndarray], labels: list[str], height: int = 256) -> np.ndarray:
    """Images side by side at one height, each with a caption strip underneath (for README pictures)."""
    tiles = []
    font = ImageFont.load_default(size=15)
    for img, label in zip(images, labels):
        pil = Image.fromarray(to_uint8(img))
        pil = pil.resize((max(1, round(pil.width * height / pil.height)), height), Image.Resampling.LANCZOS)
        tile = Image.new("RGB", (pil.width, height + 22), "white")
        tile.paste(pil, (0, 0))
        ImageDraw.Draw(tile).text((4, height + 3), label, fill="black", font=font)
        tiles.append(tile)
    sheet = Image.new("RGB", (sum(t.width for t in tiles) + 4 * (len(tiles) - 1), height + 22), "white")
    x = 0
    for t in tiles:
        sheet.paste(t, (x, 0))
        x += t.width + 4
    return np.asarray(sheet)


def stack_rows(rows: list[np.ndarray]) -> np.ndarray:
    """Stack labelled rows vertically, padding narrower rows with white."""
    width = max(r.shape[1] for r in rows)
    padded = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    return np.concatenate(padded, axis=0)


def student_output(model: torch.nn.Module, content: np.ndarray) -> np.ndarray:
    """Run a PyTorch stylizer on one H×W×3 uint8 image → float image in [0, 1]."""
    with torch.no_grad():
        out = model(to_tensor(content, next(model.parameters()).device))
    return out[0].clamp(0, 1).permute(1, 2, 0).cpu().numpy()
