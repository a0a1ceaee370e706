"""The `strotss` console command: one verb per job, each defined in strotss.commands.<verb>."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import os
import pkgutil
import signal
import sys
import threading
from types import FrameType
from typing import Any, Iterator, NoReturn, Sequence

from strotss import __version__, commands
from strotss.allocator import keep_freed_memory
from strotss.errors import Terminated, UserError

# Every module of strotss.commands is a verb: adding one is adding its file.
VERBS = tuple(sorted(m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")))


class Parser(argparse.ArgumentParser):
    """argparse whose errors say how to pass a file whose name starts with '-' (which it reads as an option)."""

    def parse_known_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:
        """Remember the arguments, for error()."""
        self._given = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        """argparse's error, plus `write ./-name` when an argument taken for an option names an existing file."""
        dashed = [a for a in getattr(self, "_given", []) if a.startswith("-") and a not in ("-", "--")
                  and os.path.exists(a)]
        if dashed:
            message += (f" ({dashed[0]} is a file here, but a name starting with '-' is read as an option: "
                        f"write ./{dashed[0]})")
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    """Assemble the top-level parser from the verb modules (each imports heavy libraries lazily)."""
    parser = Parser(
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
        p.set_defaults(_run=module.run, _own_sigterm=getattr(module, "OWN_SIGTERM", False))
    return parser


@contextlib.contextmanager
def sigterm_as_interrupt(enabled: bool = True) -> Iterator[None]:
    """While the block runs (in the main thread), SIGTERM raises Terminated, a KeyboardInterrupt, as Ctrl+C would;
    a second SIGTERM during the clean-up is ignored."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, dispatch, and turn UserError into one line on stderr with exit code 2."""
    args = build_parser().parse_args(argv)
    keep_freed_memory()
    try:
        with sigterm_as_interrupt(not args._own_sigterm):
            return int(args._run(args) or 0)
    except UserError as exc:
        print(f"strotss {args.verb}: error: {exc}", file=sys.stderr)
        return 2
    except Terminated:
        print(f"strotss {args.verb}: terminated (SIGTERM); unfinished outputs were removed", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print(f"strotss {args.verb}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
