"""`strotss teach`: run the per-image optimizer over many (content, style) pairs and store a teacher data set."""

from __future__ import annotations

import argparse
import os
from typing import Mapping

from strotss.errors import UserError

HELP = "optimize many (content, style) pairs into a teacher data set (resumable, multi-GPU)"
DESCRIPTION = """\
Run the per-image STROTSS optimizer over (content, style) pairs and write an imagefolder data set
(one PNG per pair + metadata.jsonl) usable as `strotss train ... --data.teacher OUT`.

  strotss teach --content photos/ --style paintings/ --out teacher/ --size 512
  strotss teach --pairs pairs.csv --out teacher/                       (CSV with columns content,style)
  torchrun --nproc-per-node 8 -m strotss.cli teach --content photos/ --style paintings/ --out teacher/

Each process (RANK/WORLD_SIZE from torchrun or SLURM-style env vars) takes every WORLD_SIZE-th pair
on GPU LOCAL_RANK. Finished pairs are skipped, so rerunning the same command resumes."""


# StrotssConfig fields exposed as flags (defaults and help come from it).
SETTINGS = ("size", "iters", "alpha", "extractor", "weights", "seed", "device")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the pair sources and the optimizer settings (from StrotssConfig)."""
    from strotss.flags import add_flags
    from strotss.teacher.config import StrotssConfig

    src = parser.add_argument_group("pairs")
    src.add_argument("--content", help="content image file or folder")
    src.add_argument("--style", help="style image file or folder")
    src.add_argument("--pairing", choices=("product", "zip"), default="product",
                     help="every content with every style (product, default) or in name order (zip)")
    src.add_argument("--pairs", help="CSV file with columns content,style (paths relative to the file)")
    parser.add_argument("--out", required=True, help="output folder (an imagefolder data set)")
    add_flags(parser.add_argument_group("optimizer"), StrotssConfig, SETTINGS,
              help={"device": "torch device (default: cuda:LOCAL_RANK if available, else cpu)"})
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")


RANK_ADVICE = "torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; unset them to run one process"


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    """An integer environment variable, or default when unset; UserError naming it when it is no whole number."""
    text = env.get(name, str(default))
    try:
        return int(text)
    except ValueError:
        raise UserError(f"{name}={text!r}: not a whole number; {RANK_ADVICE}") from None


def ranks(env: Mapping[str, str]) -> tuple[int, int, int]:
    """(RANK, WORLD_SIZE, LOCAL_RANK) of this process from torchrun's environment, (0, 1, 0) without it."""
    rank, world, local = _env_int(env, "RANK", 0), _env_int(env, "WORLD_SIZE", 1), _env_int(env, "LOCAL_RANK", 0)
    if world < 1:
        raise UserError(f"WORLD_SIZE={world}: must be ≥ 1 (the number of teach processes); {RANK_ADVICE}")
    if not 0 <= rank < world:
        raise UserError(f"RANK={rank}: must be from 0 to {world - 1} (WORLD_SIZE={world}); {RANK_ADVICE}")
    if local < 0:
        raise UserError(f"LOCAL_RANK={local}: must be ≥ 0 (this process's GPU on its node); {RANK_ADVICE}")
    return rank, world, local


def run(args: argparse.Namespace) -> int:
    """Optimize this process's share of the pairs and refresh the metadata."""
    from pathlib import Path

    import torch

    from strotss.flags import from_flags
    from strotss.outputs import check_output_folder
    from strotss.teacher.config import StrotssConfig
    from strotss.train.teach import list_pairs, read_pairs, run_teacher

    check_output_folder(args.out, "--out")
    if args.pairs:
        pairs = read_pairs(args.pairs)
    elif args.content and args.style:
        pairs = list_pairs(args.content, args.style, args.pairing)
    else:
        raise UserError("no pairs given; pass --content and --style (files or folders) or --pairs FILE.csv")
    rank, world, local = ranks(os.environ)
    device = args.device or (f"cuda:{local}" if torch.cuda.is_available() else "cpu")
    config = from_flags(StrotssConfig, args, SETTINGS, device=device)
    done, skipped = run_teacher(pairs, Path(args.out), config, rank=rank, world=world, progress=args.progress)
    print(f"rank {rank}/{world}: optimized {done} pairs, skipped {skipped} finished ones -> {args.out}")
    return 0
