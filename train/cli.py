"""LightningCLI entry point behind `strotss train`: YAML configs drive StrotssModule and StyleData."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Sequence

from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI

from strotss.models.registry import load_weights_only
from strotss.outputs import folders_removed_on_failure
from strotss.train.console import quiet_console, write_held
from strotss.train.data import StyleData
from strotss.train.module import StrotssModule

CHECKPOINT_FOLDER = "checkpoints"


class StrotssCLI(LightningCLI):
    """LightningCLI that keeps a run's checkpoints under trainer.default_root_dir and loads checkpoints as weights.

    A ModelCheckpoint without `dirpath` writes to <default_root_dir>/checkpoints, so `--trainer.default_root_dir`
    moves everything a run writes and `--ckpt_path last` finds the last checkpoint of that root.
    """

    def parse_arguments(self, parser: Any, args: Any) -> None:
        """Parse, then refuse a --ckpt_path file holding more than weights before Lightning reads its settings."""
        super().parse_arguments(parser, args)
        subcommand = self.config.get("subcommand")
        ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if ckpt_path and Path(ckpt_path).is_file():
            load_weights_only(ckpt_path, onnx_advice="--ckpt_path resumes a run from its checkpoint (e.g. `last`); "
                                                     "to fine-tune from this model, give it as --model.init_weights")

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        """The trainer, with each ModelCheckpoint lacking a dirpath pointed at <default_root_dir>/checkpoints."""
        trainer = super().instantiate_trainer(**kwargs)
        root = str(trainer.default_root_dir)
        for callback in trainer.checkpoint_callbacks:
            if isinstance(callback, ModelCheckpoint) and callback.dirpath is None and "://" not in root:
                callback.dirpath = os.path.realpath(os.path.join(root, CHECKPOINT_FOLDER))
        return trainer

    def fit(self, model: StrotssModule, **kwargs: Any) -> None:
        """Trainer.fit; a run that fails (unusable data, say) leaves none of the folders it created."""
        with folders_removed_on_failure(self.trainer.default_root_dir):
            self.trainer.fit(model, **kwargs)

    def _weights_only(self) -> None:
        """Resume and evaluate from checkpoints as weights only, unless --weights_only says otherwise."""
        config = self.config_init[self.subcommand]
        if "weights_only" in config and config["weights_only"] is None:
            config["weights_only"] = True

    before_fit = before_validate = before_test = before_predict = _weights_only


def run_cli(args: Sequence[str]) -> StrotssCLI:
    """Run LightningCLI (fit/validate/...) on the given arguments; the seed defaults to 0 for reproducibility.

    Lightning's advice and known library notices stay off the console and go to the log folder's console.log.
    """
    with warnings.catch_warnings(), quiet_console() as held:
        warnings.filterwarnings("ignore", message="LightningCLI's args parameter")  # strotss hands its argv on purpose
        cli = StrotssCLI(StrotssModule, StyleData, args=list(args), seed_everything_default=0,
                         save_config_kwargs={"overwrite": True})
    if cli.trainer.is_global_zero:  # the logger's folder, as Trainer.log_dir (a collective under DDP) would say
        write_held(held, getattr(cli.trainer.logger, "log_dir", None) or cli.trainer.default_root_dir)
    return cli


if __name__ == "__main__":
    import sys

    run_cli(sys.argv[1:])
