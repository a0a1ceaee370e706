"""ModelCheckpoint that also saves `last.ckpt` when training stops between two scheduled saves."""

from __future__ import annotations

import lightning.pytorch as pl
from lightning.pytorch.callbacks import ModelCheckpoint


class LastCheckpoint(ModelCheckpoint):
    """Lightning's ModelCheckpoint, plus a final `last.ckpt` at the end of fit.

    Lightning writes `last.ckpt` at train end only if it never wrote one before, so a run stopped by
    trainer.max_time (or max_steps) between two `every_n_train_steps` saves would lose those steps.
    """

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Save `last.ckpt` for the final step unless it was just saved."""
        if self.save_last and self._last_global_step_saved != trainer.global_step:
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
        else:
            super().on_train_end(trainer, pl_module)
