"""Output-path safety checked before any work: never write over an input, never write two results to one file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from strotss.errors import UserError


def _file_id(path: Path) -> tuple[int, int] | None:
    """(device, inode) of an existing file, so that links and `..` spellings of one file compare equal; else None."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def refuse_overwriting_inputs(outputs: Iterable[str | os.PathLike],
                              inputs: Iterable[str | os.PathLike | None]) -> None:
    """UserError when an output path names one of the input files, which the run would replace."""
    sources = {fid: Path(i) for i in inputs if i is not None and (fid := _file_id(Path(i))) is not None}
    for out in map(Path, outputs):
        src = sources.get(_file_id(out))
        if src is not None:
            raise UserError(f"{out}: is also an input ({src}); writing it would replace the original; "
                            "choose another output path (-o)")


def check_plan(pairs: list[tuple[Path, Path]]) -> None:
    """Refuse a (input, output) plan where an output replaces any input or two inputs share one output."""
    refuse_overwriting_inputs([dst for _, dst in pairs], [src for src, _ in pairs])
    seen: dict[Path, Path] = {}
    for src, dst in pairs:
        key = dst.resolve()
        if key in seen:
            raise UserError(f"{seen[key]} and {src} would both be written to {dst}; stylize them into different "
                            "output folders (-o), or rename one")
        seen[key] = src


@contextlib.contextmanager
def folders_removed_on_failure(root: str | os.PathLike) -> Iterator[None]:
    """When the block fails, remove the folders it created under root (root and its parents included) if empty."""
    root = Path(root)
    existed = {p for p in root.rglob("*") if p.is_dir()} if root.is_dir() else set()
    outer = [q for q in (root, *root.parents) if not q.exists()]
    try:
        yield
    except BaseException:
        created = [p for p in root.rglob("*") if p.is_dir() and p not in existed] if root.is_dir() else []
        for folder in sorted(created, key=lambda p: len(p.parts), reverse=True) + outer:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def check_output_folder(path: str | os.PathLike, flag: str) -> Path:
    """UserError before any work when `flag path` cannot be a folder to write in: it, or a path above it, is a file,
    or it cannot be written; creates nothing."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UserError(f"{flag} {p}: is a file, not a folder; give a folder (it is created if missing)")
    base = next(q for q in (p, *p.parents) if q.exists())
    if not base.is_dir():
        raise UserError(f"{flag} {p}: cannot be a folder: {base} is a file; choose another path")
    try:
        with tempfile.TemporaryFile(dir=base):
            pass
    except OSError as exc:
        raise UserError(f"{flag} {p}: cannot write there ({exc.strerror} in {base}); choose another folder") from None
    return p
