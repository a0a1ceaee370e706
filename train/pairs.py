"""Training samples: a content crop, an independently drawn style image, and the loss's sample positions.

Every random choice of a sample (crop, flip, style pick, positions) is a pure function of
(seed, epoch, index), so one process and N DDP processes, or a run and its resume, see the same data.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler, IterableDataset, default_collate, get_worker_info
from torchvision.transforms import v2

from strotss.errors import InputError, UserError
from strotss.imageio import resize_long_side
from strotss.losses import grid_positions, shuffled_subset
from strotss.method import N_POSITIONS
from strotss.train.sources import decode_image

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SampleSpec:
    """How samples are cut: crop side, style side, positions per image, smallest usable image, train or eval,
    the range of image area a random crop covers, whether the style is kept whole (one fixed painting,
    long side = style_size) rather than centre-cropped to a square (many paintings batched together), and
    the long side photos are first resized to (None: random resized crops; with crop None: whole photos), and
    whether training styles are augmented (painting_augment: each draw a new part, mirror, palette and contrast
    of the painting, so that few paintings give many distinct style statistics)."""

    crop: int | None = 256
    style_size: int = 256
    n_positions: int = N_POSITIONS
    min_size: int = 64
    train: bool = True
    crop_scale: tuple[float, float] = (0.25, 1.0)
    style_whole: bool = False
    content_size: int | None = None
    style_augment: bool = False


def painting_augment(side: int) -> v2.Compose:
    """Random part (15–100 % of the area, square, `side` px), mirror, hue turn (up to ±0.3 of the circle),
    saturation, brightness and contrast of a painting: a new style per draw whose statistics stay paint-like."""
    return v2.Compose([v2.RandomResizedCrop(side, scale=(0.15, 1.0), antialias=True), v2.RandomHorizontalFlip(),
                       v2.ColorJitter(brightness=0.2, contrast=0.3, saturation=(0.6, 1.4), hue=0.3)])


def sample_seed(*keys: int) -> int:
    """A 63-bit seed derived from integer keys (seed, epoch, index, ...), stable across processes."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(2, np.uint64)[0] >> np.uint64(1))


def _image(rgb: np.ndarray) -> torch.Tensor:
    """H×W×3 uint8 array → 3×H×W uint8 tv_tensors.Image."""
    from torchvision import tv_tensors

    return tv_tensors.Image(torch.from_numpy(rgb).permute(2, 0, 1).contiguous())


class SampleMaker:
    """Turn decoded (content, style, teacher) images into float tensors and sample positions for one spec."""

    def __init__(self, spec: SampleSpec) -> None:
        self.spec = spec
        flip = [v2.RandomHorizontalFlip()] if spec.train else []
        self.content_tf = v2.Compose([*_content_crop(spec), *flip, v2.ToDtype(torch.float32, scale=True)])
        if spec.style_augment and spec.train:
            fit = [painting_augment(spec.style_size)]
        elif spec.style_whole:
            fit = []
        else:
            fit = [v2.Resize(spec.style_size, antialias=True), v2.CenterCrop(spec.style_size)]
        self.style_tf = v2.Compose([*fit, v2.ToDtype(torch.float32, scale=True)])
        self.style_varies = spec.style_augment and spec.train

    def __call__(self, content: np.ndarray, style: np.ndarray, style_key: str, seed: int,
                 teacher: np.ndarray | None = None) -> dict[str, Any]:
        """One sample dict; the teacher output, when given, gets exactly the content's crop.

        A whole style, and photos at content_size, are resized like `strotss stylize` and the objective's
        scoring resize them (Lanczos, strotss.imageio.resize_long_side): a smoother resize would train towards
        a blurrier painting's statistics than the network is scored against.
        """
        if self.spec.content_size is not None:
            content = resize_long_side(content, self.spec.content_size)
        if self.spec.style_whole:
            style = resize_long_side(style, self.spec.style_size)
        c = _image(content)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            if teacher is None:
                sample = {"content": self.content_tf(c)}
            else:
                t = _image(teacher)
                c = v2.functional.resize(c, list(t.shape[-2:]), antialias=True)
                c, t = self.content_tf(c, t)
                sample = {"content": c, "teacher": t}
            g = torch.Generator().manual_seed(seed)
            pos = grid_positions(*sample["content"].shape[-2:], generator=g)
            sample["positions"] = shuffled_subset(pos, self.spec.n_positions, generator=g)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed ^ 2)
            sample["style"] = self.style_tf(_image(style))
        sample["style_key"] = f"{style_key}@{seed}" if self.style_varies else style_key  # its own style features
        return sample


def _content_crop(spec: SampleSpec) -> list[v2.Transform]:
    """Content transforms before the flip: random resized crops, or, of a photo already resized to content_size,
    unscaled crops (or nothing)."""
    if spec.content_size is None:
        if spec.train:
            return [v2.RandomResizedCrop(spec.crop, scale=spec.crop_scale, antialias=True)]
        return [v2.Resize(spec.crop, antialias=True), v2.CenterCrop(spec.crop)]
    if spec.crop is None:
        return []
    return [v2.RandomCrop(spec.crop, pad_if_needed=True, padding_mode="reflect") if spec.train
            else v2.CenterCrop(spec.crop)]


def _item(value: Any, root: Path | None = None) -> dict[str, Any]:
    """An undecoded image entry ({"bytes", "path"}) from a data set cell or a path relative to root."""
    if isinstance(value, dict):
        return value
    return {"bytes": None, "path": str((root / value) if root else value)}


def style_key_of(item: dict[str, Any], fallback: int) -> str:
    """Cache key of a style image: its path, else a digest of its bytes, else its index."""
    if item.get("path"):
        return str(item["path"])
    if item.get("bytes"):
        return hashlib.sha1(item["bytes"]).hexdigest()
    return str(fallback)


class PairDataset(Dataset):
    """Map-style pairs: content[i] with a style drawn at random (or a teacher row's content/style/output)."""

    def __init__(self, content: Any, styles: Any, spec: SampleSpec, *, seed: int = 0, teacher: Any = None,
                 teacher_root: Path | None = None) -> None:
        self.content, self.styles, self.teacher, self.teacher_root = content, styles, teacher, teacher_root
        self.make = SampleMaker(spec)
        self.spec = spec
        self.seed = seed

    def __len__(self) -> int:
        """Number of content images (or teacher rows)."""
        return len(self.teacher if self.teacher is not None else self.content)

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, Any]:
        """Sample for (epoch, index) or index; a {"skipped": reason} dict when an image is unusable."""
        epoch, index = key if isinstance(key, tuple) else (0, key)
        seed = sample_seed(self.seed, epoch, index)
        try:
            if self.teacher is not None:
                row = self.teacher[index]
                content = _item(row["content"], self.teacher_root)
                style = _item(row["style"], self.teacher_root)
                teacher = decode_image(row["image"], 1)
                style_key = str(row["style"])
            else:
                content = self.content[index]["image"]
                pick = int(torch.randint(len(self.styles), (1,), generator=torch.Generator().manual_seed(seed ^ 1)))
                style = self.styles[pick]["image"]
                teacher = None
                style_key = style_key_of(style, pick)
            return self.make(decode_image(content, self.spec.min_size), decode_image(style, self.spec.min_size),
                             style_key, seed, teacher)
        except InputError as exc:
            return {"skipped": str(exc)}


class EpochSampler(DistributedSampler):
    """torch's DistributedSampler (what Lightning injects under DDP) yielding (epoch, index) keys.

    Built explicitly for every run, one process included, so 1 and N processes with the same global
    batch draw the same samples; the epoch in the key reseeds crops and style picks every epoch.
    A resumed run skips what its epoch had already consumed (`resume`), so it continues the same order.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._resume: tuple[int, int] | None = None

    def resume(self, epoch: int, consumed: int) -> None:
        """Start the next pass, if it is over `epoch`, after the first `consumed` samples of all ranks together."""
        if consumed % self.num_replicas:
            raise UserError(f"the checkpoint's epoch had used {consumed} samples, which {self.num_replicas} "
                            "processes cannot share; resume with the global batch (data.batch_size × devices × "
                            "num_nodes) of the run that wrote it")
        self._resume = (epoch, consumed)

    @property
    def start(self) -> int:
        """Samples of all ranks that the next pass skips: those a resumed epoch consumed before, else 0."""
        return self._resume[1] if self._resume is not None and self._resume[0] == self.epoch else 0

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """(epoch, index) keys of this rank's shard, from the resume point in the first pass after `resume`."""
        skip = self.start // self.num_replicas
        self._resume = None
        return ((self.epoch, i) for i in itertools.islice(super().__iter__(), skip, None))


class StreamingPairs(IterableDataset):
    """Streaming pairs for data sets too large to index: content stream × a cycled, independent style stream."""

    def __init__(self, content: Any, styles: Any, spec: SampleSpec, *, seed: int = 0, rank: int = 0) -> None:
        self.content, self.styles = content, styles
        self.make = SampleMaker(spec)
        self.spec, self.seed, self.rank = spec, seed, rank

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Yield samples (or {"skipped": reason}) for this rank and data loader worker."""
        worker = get_worker_info()
        wid = worker.id if worker else 0
        styles = self._cycle(self.styles)
        for n, row in enumerate(self.content):
            seed = sample_seed(self.seed, self.rank, wid, n)
            try:
                yield self.make(decode_image(row["image"], self.spec.min_size),
                                decode_image(style := next(styles)["image"], self.spec.min_size),
                                style_key_of(style, n), seed)
            except InputError as exc:
                yield {"skipped": str(exc)}

    @staticmethod
    def _cycle(stream: Any) -> Iterator[dict[str, Any]]:
        """Iterate a stream forever, reshuffling it each round."""
        epoch = 0
        while True:
            if hasattr(stream, "set_epoch"):
                stream.set_epoch(epoch)
            yield from stream
            epoch += 1


def collate_pairs(samples: list[dict[str, Any]], shared_style: bool = False) -> dict[str, Any]:
    """Stack usable samples, keep style keys as a list, and list the reasons of skipped ones under "skipped";
    with shared_style every sample takes the first usable sample's style (one style pass per batch)."""
    skipped = [s["skipped"] for s in samples if "skipped" in s]
    for reason in skipped:
        log.warning("skipped image: %s", reason)
    good = [s for s in samples if "skipped" not in s]
    if shared_style and good:
        good = [{**s, "style": good[0]["style"], "style_key": good[0]["style_key"]} for s in good]
    batch = default_collate(good) if good else {}
    batch["skipped"] = skipped
    return batch
