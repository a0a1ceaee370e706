"""Point pairs clicked on the page: content click, then style click; listed, cleared and saved as a text file."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from strotss.imageio import atomic_output


def add_click(pairs: list[list[float]], pending: list[float] | None, side: str,
              xy: tuple[float, float]) -> tuple[list[list[float]], list[float] | None, str]:
    """Record one click; returns the new pairs, the pending content point and a note for the page."""
    if side == "content":
        return pairs, [float(xy[0]), float(xy[1])], f"content point ({xy[0]:g}, {xy[1]:g}) — now click its partner on the style"
    if pending is None:
        return pairs, None, "click on the content image first, then on the style image"
    return [*pairs, [*pending, float(xy[0]), float(xy[1])]], None, f"pair {len(pairs) + 1} added"


def format_pairs(pairs: list[list[float]]) -> str:
    """The pairs as Markdown lines `n. (cx, cy) → (sx, sy)`, or a hint when there are none."""
    if not pairs:
        return "No point pairs. Click a point on the content, then its partner on the style."
    return "\n".join(f"{i}. ({cx:g}, {cy:g}) → ({sx:g}, {sy:g})" for i, (cx, cy, sx, sy) in enumerate(pairs, start=1))


def save_pairs(path: str | os.PathLike, pairs: list[list[float]]) -> Path:
    """Write pairs in the `strotss optimize --points` format: `content_x content_y style_x style_y` per line."""
    with atomic_output(path, "w") as fh:
        fh.write("# content_x content_y style_x style_y (pixels of the original images)\n")
        fh.writelines(f"{cx:g} {cy:g} {sx:g} {sy:g}\n" for cx, cy, sx, sy in pairs)
    return Path(path)


def as_array(pairs: list[list[float]]) -> np.ndarray | None:
    """P×4 float32 array for optimize_image, or None without pairs."""
    return np.array(pairs, dtype=np.float32) if pairs else None
