"""LightningCLI entry point behind `strotss train`: YAML configs drive StrotssModule and StyleData."""

from __future__ import annotations

from typing import Sequence

from lightning.pytorch.cli import LightningCLI

from strotss.train.data import StyleData
from strotss.train.module import StrotssModule


def run_cli(args: Sequence[str]) -> None:
    """Run LightningCLI (fit/validate/...) on the given arguments; the seed defaults to 0 for reproducibility."""
    LightningCLI(StrotssModule, StyleData, args=list(args), seed_everything_default=0,
                 save_config_kwargs={"overwrite": True})


if __name__ == "__main__":
    import sys

    run_cli(sys.argv[1:])
