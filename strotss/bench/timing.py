"""What every benchmark shares: median timers with warm-up, peak memory, the device's name and the --sizes format.

Torch-free at import (`strotss bench onnx` must stay so); the torch helpers import it when called.
"""

from __future__ import annotations

import resource
import statistics
import time
from typing import Any, Callable, Sequence


def no_sync() -> None:
    """A synchronize that waits for nothing: work on the CPU is finished when the call returns."""


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 0,
                   sync: Callable[[], None] = no_sync) -> float:
    """Median wall time of fn in seconds over `repeats` runs after `warmup` untimed runs (sync: wait for a GPU)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def median_ms(fn: Callable[[], object], repeats: int, warmup: int = 0, sync: Callable[[], None] = no_sync) -> float:
    """median_seconds in milliseconds, the unit latency tables use."""
    return 1e3 * median_seconds(fn, repeats, warmup, sync)


def interleaved_medians_ms(fns: Sequence[Callable[[], object]], repeats: int, warmup: int = 0) -> list[float]:
    """Median wall time of each fn in milliseconds, timed in rounds (each fn once per round, the order rotated)
    so that a shared machine's slow and fast spells fall on every fn alike rather than on whichever ran then."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for r in range(repeats):
        for i in ((r + k) % len(fns) for k in range(len(fns))):
            t0 = time.perf_counter()
            fns[i]()
            times[i].append(time.perf_counter() - t0)
    return [1e3 * statistics.median(t) for t in times]


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def device_sync(device: Any) -> Callable[[], None]:
    """A function that waits for the device's queued work (a no-op on the CPU)."""
    import torch

    return torch.cuda.synchronize if device.type == "cuda" else no_sync


def device_name(device: Any) -> str:
    """The GPU's name, or `cpu`, for a benchmark's header line."""
    import torch

    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


def peak_memory_mib(device: Any) -> float:
    """Peak memory so far: the CUDA allocator's peak on a GPU, the process's peak RSS on the CPU."""
    import torch

    return torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else peak_rss_mib()


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """'256,1920x1080' → [(256, 256), (1920, 1080)] as (width, height), the format of every --sizes flag."""
    from strotss.errors import UserError

    sizes = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        w, _, h = item.lower().partition("x")
        if not (w.isdigit() and (not h or h.isdigit())):
            raise UserError(f"--sizes {text!r}: use N or WxH, comma separated")
        sizes.append((int(w), int(h or w)))
    return sizes
