"""`strotss train`: LightningCLI over the training module and data module (`strotss train fit --config X.yaml`)."""

from __future__ import annotations

import argparse

HELP = "train a real-time stylizer on the STROTSS objective (LightningCLI: fit, validate, ...)"
DESCRIPTION = """Train a feed-forward stylizer with Lightning. All arguments go to LightningCLI, e.g.

  strotss train fit --config configs/cpu_smoke.yaml
  strotss train fit --config configs/per_style.yaml --data.style my_painting.jpg
  strotss train fit --config configs/per_style.yaml --ckpt_path last      # resume
  strotss train fit --help                                                # every option

Configs: configs/{per_style,arbitrary,ddp,cpu_smoke}.yaml."""
ADD_HELP = False
OWN_SIGTERM = True  # Lightning handles SIGTERM itself: it stops its DDP processes and ends the fit at a batch boundary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Collect everything after the verb for LightningCLI; -h/--help shows LightningCLI's help."""
    parser.add_argument("-h", "--help", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("cli_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    """Hand the arguments to LightningCLI (which exits on --help or --print_config)."""
    from strotss.train.cli import run_cli

    run_cli((["--help"] if args.help else []) + list(args.cli_args))
    return 0
