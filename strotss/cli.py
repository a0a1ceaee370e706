"""The `strotss` console command: one verb per job, each defined in strotss.commands.<verb>."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import Sequence

from strotss import __version__, commands
from strotss.allocator import keep_freed_memory
from strotss.errors import UserError

# Every module of strotss.commands is a verb: adding one is adding its file.
VERBS = tuple(sorted(m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")))


def build_parser() -> argparse.ArgumentParser:
    """Assemble the top-level parser from the verb modules (each imports heavy libraries lazily)."""
    parser = argparse.ArgumentParser(
        prog="strotss",
        description="STROTSS style transfer: per-image optimization, training real-time stylizers, "
        "ONNX export and inference. Run `strotss VERB --help` for each verb.",
    )
    parser.add_argument("--version", action="version", version=f"strotss {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for verb in VERBS:
        module = importlib.import_module(f"strotss.commands.{verb}")
        p = sub.add_parser(
            verb,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            add_help=getattr(module, "ADD_HELP", True),
        )
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, dispatch, and turn UserError into one line on stderr with exit code 2."""
    args = build_parser().parse_args(argv)
    keep_freed_memory()
    try:
        return int(args._run(args) or 0)
    except UserError as exc:
        print(f"strotss {args.verb}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"strotss {args.verb}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
