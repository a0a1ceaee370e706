"""Checkpoints that resume where the run stopped: `last.ckpt` at any stop, and stops mid-epoch kept mid-epoch."""

from __future__ import annotations

from typing import Any

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


def as_saved_at_last_batch(checkpoint: dict[str, Any]) -> None:
    """Give a checkpoint written after a stop ended the epoch loop the loop state of one written at its last batch.

    When max_steps, max_time or should_stop end training, Lightning runs its epoch-end bookkeeping first, so a
    checkpoint written then (LastCheckpoint at train end, or ModelCheckpoint at that epoch's end) says the epoch
    is over: resumed from it, Lightning skips the rest of a stopped epoch, or a whole epoch when the stop fell on
    an epoch's last batch. Weights, optimizer and schedulers are the same as at the last `on_train_batch_end`,
    whose state (what every_n_train_steps writes) Lightning resumes exactly, so the loop counters are set to it.
    A regular epoch end (the epoch's last batch, saved at `on_train_epoch_end`) is left as it is.
    """
    fit = checkpoint.get("loops", {}).get("fit_loop")
    if fit is None:
        return
    epochs, batches = fit["epoch_progress"], fit["epoch_loop.batch_progress"]
    loop_ended = epochs["total"]["processed"] == epochs["total"]["started"]
    regular_epoch_end = batches["is_last_batch"] and epochs["total"]["completed"] < epochs["total"]["processed"]
    if not loop_ended or regular_epoch_end or batches["current"]["completed"] == 0:
        return
    for counts in (epochs["total"], epochs["current"]):
        counts["processed"] = counts["completed"] = counts["started"] - 1
    for counts in (batches["total"], batches["current"]):
        counts["completed"] = counts["processed"] - 1
    fit["epoch_loop.state_dict"]["_batches_that_stepped"] -= 1
    checkpoint["epoch"] = epochs["current"]["completed"]
