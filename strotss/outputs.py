"""Output-path safety checked before any work: never write over an input, never write two results to one file."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from strotss.errors import UserError


def _file_id(path: Path) -> tuple[int, int] | None:
    """(device, inode) of an existing file, so that links and `..` spellings of one file compare equal; else None."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def refuse_overwriting_inputs(outputs: Iterable[str | os.PathLike], inputs: Iterable[str | os.PathLike | None],
                              flag: str = "-o") -> None:
    """UserError when an output path names one of the input files, which the run would replace; `flag` sets it."""
    sources = {fid: Path(i) for i in inputs if i is not None and (fid := _file_id(Path(i))) is not None}
    for out in map(Path, outputs):
        src = sources.get(_file_id(out))
        if src is not None:
            spelled = "" if src == out else f" ({src})"
            raise UserError(f"{out}: is also an input{spelled}; writing it would replace the original; "
                            f"choose another output path ({flag})")


def refuse_shared_outputs(writers: Iterable[tuple[str, str | os.PathLike]], advice: str) -> None:
    """UserError when two writers, each named by what it writes, would write one file; `advice` says what to do."""
    seen: dict[object, str] = {}
    for name, out in writers:
        key = _file_id(Path(out)) or Path(out).resolve()
        if key in seen:
            raise UserError(f"{seen[key]} and {name} would both be written to {out}; {advice}")
        seen[key] = name


def check_plan(plan: Sequence[tuple[Sequence[Path], Path]], advice: str, flag: str = "-o") -> None:
    """Refuse an (inputs, output) plan where an output replaces any input or two entries share one output;
    `flag` sets the outputs, `advice` says what to do about a shared one."""
    refuse_overwriting_inputs([dst for _, dst in plan], [src for sources, _ in plan for src in sources], flag)
    refuse_shared_outputs([(" with ".join(map(str, sources)), dst) for sources, dst in plan], advice)


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
