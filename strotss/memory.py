"""How much memory this process can still take, so that sizes are refused before the work rather than by the OOM."""

from __future__ import annotations

import os
from pathlib import Path

from strotss.errors import UserError

CGROUP = Path("/sys/fs/cgroup")


def _meminfo_available() -> int | None:
    """MemAvailable of /proc/meminfo in bytes (Linux), else physical memory from sysconf, else None."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_headroom() -> int | None:
    """Bytes left under this container's cgroup v2 memory limit, or None without a limit."""
    try:
        limit = (CGROUP / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return int(limit) - int((CGROUP / "memory.current").read_text())
    except (OSError, ValueError):
        return None


def available_bytes() -> int | None:
    """Memory the host (and its container limit) can still give this process; None when unknown."""
    known = [n for n in (_meminfo_available(), _cgroup_headroom()) if n is not None]
    return min(known) if known else None


def format_bytes(n: float) -> str:
    """A byte count as MiB, GiB or TiB with one decimal."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n / 2**20:.0f} MiB"


def check_fits(need: float, available: int | None, what: str, advice: str,
               error: type[UserError] = UserError) -> None:
    """Raise `error` ("what needs about X of memory, but Y is available; advice") when need exceeds what is known."""
    if available is not None and need > available:
        raise error(f"{what} needs about {format_bytes(need)} of memory, but {format_bytes(available)} is "
                        f"available; {advice}")
