"""Keep Lightning's advice and known library notices out of the console of `strotss train` and `strotss demo`.

Lightning prints INFO lines (seed, accelerators, a logging-service tip, restored states, time limits) and a
few library warnings (tensorboardX, LeafSpec, log_every_n_steps, "dirpath has changed") that tell a user of
these verbs nothing. While a run lasts they are held back from the console, and afterwards written to
`console.log` in the run's log folder. Other warnings still reach the console; progress bars are untouched.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import re
from pathlib import Path
from typing import Iterator

LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric")
NOISE = re.compile("|".join((
    r"`tensorboardX` has been removed as a dependency",
    r"`isinstance\(treespec, LeafSpec\)` is deprecated",
    r"is smaller than the logging interval Trainer\(log_every_n_steps=",
    r"The dirpath has changed from",
)))


class _NotNoise(logging.Filter):
    """Passes every record but the known library notices."""

    def filter(self, record: logging.LogRecord) -> bool:
        return NOISE.search(record.getMessage()) is None


@contextlib.contextmanager
def quiet_console() -> Iterator[logging.handlers.MemoryHandler]:
    """Hold Lightning's INFO lines and the NOISE warnings back from the console; the yielded handler keeps them all."""
    held = logging.handlers.MemoryHandler(capacity=100_000, flushLevel=logging.CRITICAL + 1)
    console = logging.StreamHandler()
    console.addFilter(_NotNoise())
    lowered = []
    for name in LIGHTNING_LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(held)
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler and handler.level < logging.WARNING:
                lowered.append((handler, handler.level))
                handler.setLevel(logging.WARNING)
    warned = logging.getLogger("py.warnings")
    propagate = warned.propagate
    warned.addHandler(held)
    warned.addHandler(console)
    warned.propagate = False
    logging.captureWarnings(True)
    try:
        yield held
    finally:
        logging.captureWarnings(False)
        warned.propagate = propagate
        warned.removeHandler(console)
        warned.removeHandler(held)
        for name in LIGHTNING_LOGGERS:
            logging.getLogger(name).removeHandler(held)
        for handler, level in lowered:
            handler.setLevel(level)


def write_held(held: logging.handlers.MemoryHandler, folder: str | Path) -> Path:
    """Write what quiet_console held back to folder/console.log (appending, as a resumed run logs again)."""
    path = Path(folder) / "console.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    target = logging.FileHandler(path, encoding="utf-8")
    target.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    held.setTarget(target)
    held.flush()
    target.close()
    return path
