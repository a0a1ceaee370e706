"""Run the per-image optimizer as a generator of progress updates, with cancellation and the equivalent CLI command."""

from __future__ import annotations

import functools
import json
import queue
import shlex
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from strotss.imageio import atomic_output, to_uint8, write_image
from strotss.teacher.guidance import RegionMasks


class JobCancelled(Exception):
    """Raised inside the optimizer's callback when the user pressed Cancel."""


@dataclass
class RefineJob:
    """Everything one Refine run needs; the arrays are what the saved files contain, regions their pairs."""

    folder: Path
    content: np.ndarray
    style: np.ndarray
    size: int
    alpha: float
    seed: int
    iters: int
    masks: tuple[np.ndarray, np.ndarray] | None = None
    points: np.ndarray | None = None
    init: np.ndarray | None = None
    weights: str | None = None
    regions: RegionMasks | None = field(init=False, default=None)

    @property
    def settings(self) -> dict:
        """The optimizer settings (strotss.teacher.config.StrotssConfig fields) this job sets."""
        return {"size": self.size, "alpha": self.alpha, "seed": self.seed, "iters": self.iters,
                "init_scales": 1, **({"weights": self.weights} if self.weights is not None else {})}

    def __post_init__(self) -> None:
        """Pair the painted masks once, here (UserError for a region without partner); unpainted masks are none."""
        from strotss.gui.masks import pair_masks

        self.regions = pair_masks(*self.masks) if self.masks is not None else None
        if self.regions is None:
            self.masks = None


@dataclass
class Progress:
    """One update for the page: the current image, the loss so far, and at the end the files and command."""

    image: np.ndarray
    step: int
    total: int
    losses: list[float] = field(default_factory=list)
    done: bool = False
    files: list[Path] = field(default_factory=list)
    command: str = ""


def save_inputs(job: RefineJob) -> dict[str, Path]:
    """Write the job's inputs as plain files in its folder; returns them by role."""
    from strotss.gui.masks import save_masks
    from strotss.gui.points import save_pairs

    job.folder.mkdir(parents=True, exist_ok=True)
    paths = {"content": write_image(job.folder / "content.png", job.content),
             "style": write_image(job.folder / "style.png", job.style)}
    if job.masks is not None:
        paths["content_mask"], paths["style_mask"] = save_masks(job.folder, *job.masks)
    if job.points is not None:
        paths["points"] = save_pairs(job.folder / "points.txt", job.points.tolist())
    if job.init is not None:
        paths["init"] = write_image(job.folder / "preview.png", job.init)
    return paths


def command_line(job: RefineJob, paths: dict[str, Path], output: Path) -> str:
    """The `strotss optimize` command that reruns this edit from the saved files."""
    from strotss.flags import flag_of
    from strotss.teacher.config import StrotssConfig

    args = ["strotss", "optimize", str(paths["content"]), str(paths["style"]), "-o", str(output)]
    if "content_mask" in paths:
        args += ["--regions", str(paths["content_mask"]), str(paths["style_mask"])]
    if "points" in paths:
        args += ["--points", str(paths["points"])]
    if "init" in paths:
        args += ["--init", str(paths["init"])]
    for name, value in job.settings.items():
        if name != "init_scales" or "init" in paths:
            args += [flag_of(StrotssConfig, name), f"{value:g}" if isinstance(value, float) else str(value)]
    return shlex.join(args)


@functools.lru_cache(maxsize=2)
def _extractor(weights: str | None):
    """The VGG19 feature extractor, built once per process (Refine runs one at a time)."""
    from strotss.losses import build_extractor

    return build_extractor(weights=weights)


def run_refine(job: RefineJob, stop: threading.Event, every: int = 5) -> Iterator[Progress]:
    """Optimize in a worker thread, yielding a Progress every `every` iterations and once at the end.

    Setting `stop` (Cancel) or closing the generator makes the optimizer's callback raise JobCancelled.
    """
    from strotss.teacher.config import StrotssConfig
    from strotss.teacher.optimizer import optimize_image

    paths = save_inputs(job)
    output = job.folder / "result.png"
    config = StrotssConfig(**job.settings)
    total = config.total_iters(warm_start=job.init is not None)
    updates: queue.Queue = queue.Queue()
    losses: list[float] = []

    def callback(record: dict, current) -> None:
        if stop.is_set():
            raise JobCancelled
        losses.append(record["total"])
        if len(losses) % every == 0:
            updates.put(("step", current.clamp(0, 1)[0].permute(1, 2, 0).cpu().numpy()))

    def work() -> None:
        try:
            result = optimize_image(job.content, job.style, config, regions=job.regions, points=job.points,
                                    init=job.init, extractor=_extractor(job.weights), progress=False,
                                    callback=callback)
            updates.put(("done", result))
        except BaseException as exc:  # handed to the generator, which re-raises it on the request's thread
            updates.put(("error", exc))

    worker = threading.Thread(target=work, name="strotss-refine", daemon=True)
    worker.start()
    try:
        while True:
            kind, payload = updates.get()
            if kind == "error":
                raise payload
            if kind == "step":
                yield Progress(to_uint8(payload), len(losses), total, list(losses))
                continue
            write_image(output, payload.image)
            with atomic_output(job.folder / "log.json", "w") as fh:
                json.dump({"config": payload.config, "seconds": payload.seconds, "history": payload.history}, fh)
            files = [output, *(p for k, p in paths.items() if k in ("content_mask", "style_mask", "points"))]
            yield Progress(to_uint8(payload.image), len(losses), total, list(losses), True, files,
                           command_line(job, paths, output))
            return
    finally:
        stop.set()
        worker.join()
