"""Student vs teacher on the same pairs: objective of each, the gap in %, and a labelled picture."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

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


@lru_cache(maxsize=None)
def caption_font(size: int = 15) -> tuple[ImageFont.ImageFont | ImageFont.FreeTypeFont, bool]:
    """A caption font and whether it draws Greek (α): DejaVu Sans from the system or matplotlib when present,
    else Pillow's built-in font, which does not."""
    candidates = ["DejaVuSans.ttf"]
    try:
        from matplotlib import font_manager

        candidates.append(font_manager.findfont("DejaVu Sans", fallback_to_default=False))
    except Exception:  # matplotlib is optional; without it the system's font or Pillow's own is used
        pass
    for name in candidates:
        try:
            return ImageFont.truetype(name, size), True
        except OSError:
            continue
    return ImageFont.load_default(size=size), False


def wrap_caption(label: str, width: int, draw: ImageDraw.ImageDraw, font: ImageFont.ImageFont | ImageFont.FreeTypeFont
                 ) -> list[str]:
    """The label broken at spaces into lines no wider than `width` pixels (a longer word is cut between letters)."""
    lines: list[str] = []
    for word in label.split(" "):
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
            continue
        lines.append("")
        for letter in word:
            if lines[-1] and draw.textlength(lines[-1] + letter, font=font) > width:
                lines.append("")
            lines[-1] += letter
    return lines


def labelled_row(images: list[np.ndarray], labels: list[str], height: int = 256) -> np.ndarray:
    """Images side by side at one height, each with its caption underneath, wrapped to the image's width."""
    font, greek = caption_font()
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    pictures, captions = [], []
    for img, label in zip(images, labels):
        pil = Image.fromarray(to_uint8(img))
        pictures.append(pil.resize((max(1, round(pil.width * height / pil.height)), height), Image.Resampling.LANCZOS))
        captions.append(wrap_caption(label if greek else label.replace("α", "alpha"), pictures[-1].width - 8,
                                     measure, font))
    strip = 6 + 18 * max(len(c) for c in captions)
    tiles = []
    for pil, lines in zip(pictures, captions):
        tile = Image.new("RGB", (pil.width, height + strip), "white")
        tile.paste(pil, (0, 0))
        ImageDraw.Draw(tile).multiline_text((4, height + 3), "\n".join(lines), fill="black", font=font, spacing=3)
        tiles.append(tile)
    sheet = Image.new("RGB", (sum(t.width for t in tiles) + 4 * (len(tiles) - 1), height + strip), "white")
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
