"""ImageGrids: every N steps, a (content | style | output) grid to TensorBoard, or as a PNG in the log folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from lightning.pytorch.loggers import TensorBoardLogger
from torchvision.utils import make_grid

from strotss.imageio import write_image


def pair_grid(content: torch.Tensor, style: torch.Tensor, output: torch.Tensor, rows: int = 4) -> torch.Tensor:
    """3×H×W grid with one (content | style resized to content | output) row per image, first `rows` images."""
    c, o = content[:rows].float(), output[:rows].float()
    s = F.interpolate(style[:rows].float(), size=c.shape[-2:], mode="bilinear", align_corners=False)
    return make_grid(torch.stack([c, s, o], dim=1).flatten(0, 1), nrow=3, padding=2).clamp(0, 1)


class ImageGrids(pl.Callback):
    """Log training grids on global rank 0 every `every_n_steps` optimizer steps (and after the first)."""

    def __init__(self, every_n_steps: int = 500) -> None:
        self.every_n_steps = every_n_steps

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any,
                           batch: Any, batch_idx: int) -> None:
        """Write the grid of this batch when the step is due."""
        step = trainer.global_step
        if not trainer.is_global_zero or not isinstance(outputs, dict) or "output" not in outputs:
            return
        if step != 1 and step % self.every_n_steps:
            return
        grid = pair_grid(batch["content"], batch["style"], outputs["output"])
        tb = [lg for lg in trainer.loggers if isinstance(lg, TensorBoardLogger)]
        if tb:
            tb[0].experiment.add_image("train/grid", grid, step)
            return
        folder = Path(trainer.log_dir or trainer.default_root_dir) / "images"
        write_image(folder / f"step_{step:07d}.png", grid.permute(1, 2, 0).cpu().numpy())
