"""Read the user's small text inputs (point pairs, pair lists) as UTF-8, with one-line errors for anything else."""

from __future__ import annotations

import os
from pathlib import Path

from strotss.errors import UserError


def read_text(path: str | os.PathLike, what: str) -> str:
    """The text of a UTF-8 file (a byte-order mark is dropped); UserError for a missing, binary or non-UTF-8 file."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise UserError(f"{p}: cannot read the {what} ({exc.strerror}); check the path") from None
    if b"\0" in data:
        raise UserError(f"{p}: is a binary file, not the {what}; pass a plain text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise UserError(f"{p}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save the {what} as UTF-8 "
                        "(or plain ASCII) text") from None
