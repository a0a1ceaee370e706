"""StyleData: the LightningDataModule serving (content crop, style image[, teacher output]) batches."""

from __future__ import annotations

import itertools
from functools import partial
from pathlib import Path
from typing import Any, Iterator

import lightning.pytorch as pl
from lightning.pytorch.utilities import rank_zero_warn
from torch.utils.data import DataLoader

from strotss.errors import InputError, UserError
from strotss.method import N_POSITIONS
from strotss.train.loader import ResumableLoader
from strotss.train.pairs import EpochSampler, PairDataset, SampleSpec, StreamingPairs, collate_pairs
from strotss.train.sources import decode_image, image_column, image_names, open_images, resolve_source, without_names

PROBE_LIMIT = 256  # streamed samples read to find a usable one before training starts


class StyleData(pl.LightningDataModule):
    """Content and style images from folders or hub data sets, drawn independently, seeded and sharded per rank.

    Args:
        content: folder of images, one image file, or a Hugging Face hub image data set name
            ("sample:<path>" reads the bundled samples; default: the sample photos).
        style: one image file (per-style training) or a folder / hub data set (arbitrary-style training)
            (default: the bundled sample paintings).
        val_content: validation photos kept apart from `content` (e.g. COCO val2017 beside train2017); when set,
            every image of `content` with the same file name as a validation image is dropped from training,
            and num_val is not used. None: the last num_val images of `content` validate.
        val_style: paintings the validation pairs draw from (arbitrary-style training with held-out
            paintings); same-named files are dropped from `style`. None: validation draws from `style`.
        teacher: folder written by `strotss teach`; when set, its (content, style, output) rows replace
            content/style and the outputs feed the distillation term and the validation teacher gap.
        split: data set split to read.
        streaming: stream hub data sets instead of downloading them (no exact resume mid-stream).
        crop: side of the square content crops; None (with content_size) trains on whole photos.
        crop_scale: range of the image area each random resized crop covers (when content_size is None).
        content_size: None cuts random resized crops (crop_scale) and resizes them to `crop`. Set, every photo
            is first resized to this long side, the scale the stylizer is then used at, and `crop` cuts
            unscaled random squares from it, or with crop None the whole photo is the sample (batch_size 1;
            raise trainer.accumulate_grad_batches for larger optimizer batches).
        style_size: long side of a single style image (per-style training, kept whole), or the side of the
            resized, centre-cropped squares of a style folder (arbitrary-style training, batched).
        style_augment: give every training sample a new version of its painting (random part, mirror, hue,
            saturation, brightness and contrast: strotss.train.pairs.painting_augment), as squares of style_size;
            for arbitrary-style training from few paintings, so the network meets many style statistics rather
            than memorizing each painting's. Validation styles are never augmented.
        shared_style: every training batch gives all its samples one painting (its first sample's), so a step
            extracts one style and builds one sample bank instead of batch_size: the cheap way to train on many
            (augmented) paintings on a CPU. Validation pairs keep their own paintings.
        n_positions: output/content sample positions per image for the loss.
        min_size: images whose short side is below this are skipped and logged; larger ones are resized.
        batch_size: images per process and step.
        num_workers: data loader worker processes.
        num_val: content images (or teacher rows) held out for validation, taken from the end.
        seed: seed of crops, flips, style picks and shuffling.
    """

    def __init__(self, content: str = "sample:content", style: str = "sample:style",
                 val_content: str | None = None, val_style: str | None = None, teacher: str | None = None,
                 split: str = "train", streaming: bool = False, crop: int | None = 256,
                 crop_scale: tuple[float, float] = (0.25, 1.0), content_size: int | None = None, style_size: int = 256,
                 style_augment: bool = False, shared_style: bool = False, n_positions: int = N_POSITIONS,
                 min_size: int = 64, batch_size: int = 8, num_workers: int = 2,
                 num_val: int = 4, seed: int = 0) -> None:
        super().__init__()
        self.save_hyperparameters()
        _check_numbers(self.hparams)
        if crop is None and content_size is None:
            raise UserError("data.crop: null trains on whole photos, which needs data.content_size (their long side)")
        if crop is None and batch_size != 1:
            raise UserError(f"data.crop: null trains on whole photos of different shapes, which cannot be batched; "
                            f"set data.batch_size 1 (not {batch_size}) and trainer.accumulate_grad_batches instead")
        self.style_whole = Path(resolve_source(style)).is_file()
        self.spec = SampleSpec(crop, style_size, n_positions, min_size, crop_scale=tuple(crop_scale),
                               style_whole=self.style_whole, content_size=content_size, style_augment=style_augment)
        self.train_set: Any = None
        self.val_set: Any = None

    def image_sides(self) -> dict[str, int]:
        """The configured sides of the images the loss sees, by setting: content crops (or whole photos) and style."""
        hp = self.hparams
        content = ("data.crop", hp.crop) if hp.crop is not None else ("data.content_size", hp.content_size)
        return dict([content, ("data.style_size", hp.style_size)])

    def _rank(self) -> tuple[int, int]:
        """(global rank, world size) of this process."""
        trainer = self.trainer
        return (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)

    def setup(self, stage: str) -> None:
        """Open the data sets once, split off the validation pairs, and fail now if nothing is usable."""
        if self.train_set is not None:
            return
        hp = self.hparams
        val_spec = SampleSpec(hp.crop, hp.style_size, hp.n_positions, hp.min_size, train=False,
                              style_whole=self.style_whole, content_size=hp.content_size)
        if hp.teacher is not None:
            rows = open_images(hp.teacher)
            self._split(rows, lambda ds, spec: PairDataset(None, None, spec, seed=hp.seed, teacher=ds,
                                                           teacher_root=Path(hp.teacher)), val_spec)
        else:
            self._open_pairs(val_spec)
        _check_samples(self.train_set, f"data.teacher {hp.teacher}" if hp.teacher else f"data.content {hp.content}")

    def _open_pairs(self, val_spec: SampleSpec) -> None:
        """Content × style pairs; validation photos and paintings (val_content/val_style) never train."""
        hp = self.hparams
        styles = open_images(hp.style, split=hp.split, streaming=False)
        _check_styles(styles, hp.style, hp.min_size)
        val_styles = styles
        if hp.val_style is not None:
            val_styles = open_images(hp.val_style)
            styles = without_names(styles, image_names(val_styles), hp.style)
        if hp.streaming:
            self._streaming(styles, val_styles, val_spec)
        elif hp.val_content is not None:
            val = open_images(hp.val_content)
            content = without_names(open_images(hp.content, split=hp.split), image_names(val), hp.content)
            self.train_set = PairDataset(content, styles, self.spec, seed=hp.seed)
            self.val_set = PairDataset(val, val_styles, val_spec, seed=hp.seed)
        else:
            content = open_images(hp.content, split=hp.split)
            self._split(content, lambda ds, spec: PairDataset(ds, styles if spec.train else val_styles, spec,
                                                              seed=hp.seed), val_spec)

    def _split(self, rows: Any, make: Any, val_spec: SampleSpec) -> None:
        """Hold out the last num_val rows for validation, train on the rest."""
        n, k = len(rows), self.hparams.num_val
        if n - k < 1:
            raise UserError(f"{self.hparams.teacher or self.hparams.content}: {n} images, but num_val={k} are "
                            "held out for validation; add images or lower data.num_val")
        self.train_set = make(rows.select(range(n - k)), self.spec)
        self.val_set = make(rows.select(range(n - k, n)), val_spec) if k else None

    def _streaming(self, styles: Any, val_styles: Any, val_spec: SampleSpec) -> None:
        """Stream content: the first num_val items validate, the rest are shuffled and split over ranks."""
        import datasets
        from datasets.distributed import split_dataset_by_node

        hp = self.hparams
        rank, world = self._rank()
        content = open_images(hp.content, split=hp.split, streaming=True)
        val_rows = datasets.Dataset.from_list(list(content.take(hp.num_val)))
        train = split_dataset_by_node(content.skip(hp.num_val), rank=rank, world_size=world)
        train = train.shuffle(seed=hp.seed, buffer_size=1000)
        style_stream = styles.to_iterable_dataset().shuffle(seed=hp.seed + 1, buffer_size=1000)
        self.train_set = StreamingPairs(train, style_stream, self.spec, seed=hp.seed, rank=rank)
        self.val_set = PairDataset(val_rows, val_styles, val_spec, seed=hp.seed) if hp.num_val else None

    def _loader(self, dataset: Any, loader: type[DataLoader] = DataLoader, *, train: bool = False,
                **kwargs: Any) -> DataLoader:
        """A DataLoader (or subclass) with this module's batch size, workers and skip-aware collate (one shared
        style per batch when training with shared_style)."""
        workers = self.hparams.num_workers
        collate = partial(collate_pairs, shared_style=train and self.hparams.shared_style)
        return loader(dataset, batch_size=self.hparams.batch_size, num_workers=workers,
                      collate_fn=collate, persistent_workers=workers > 0, **kwargs)

    def train_dataloader(self) -> DataLoader:
        """Shuffled training batches; map-style sets use the (epoch, index) sampler and resume mid-epoch exactly."""
        if isinstance(self.train_set, StreamingPairs):
            if self.trainer is not None and self.trainer.ckpt_path is not None:
                rank_zero_warn("streaming data cannot resume exactly: the resumed run starts the streams over")
            return self._loader(self.train_set, train=True, drop_last=True)
        rank, world = self._rank()
        sampler = EpochSampler(self.train_set, num_replicas=world, rank=rank, shuffle=True,
                               seed=self.hparams.seed, drop_last=True)
        return self._loader(self.train_set, ResumableLoader, train=True, sampler=sampler, drop_last=True)

    def val_dataloader(self) -> DataLoader | list:
        """Held-out pairs in fixed order (Lightning shards them under DDP)."""
        return self._loader(self.val_set) if self.val_set is not None else []


def _check_numbers(hp: Any) -> None:
    """UserError for sizes and counts that would crash the loaders or the loss (zero, negative) before any work."""
    rules = (("batch_size", hp.batch_size >= 1, "≥ 1"), ("num_workers", hp.num_workers >= 0, "≥ 0"),
             ("num_val", hp.num_val >= 0, "≥ 0"), ("n_positions", hp.n_positions >= 1, "≥ 1"),
             ("min_size", hp.min_size >= 1, "≥ 1"), ("style_size", hp.style_size >= 1, "≥ 1"),
             ("crop", hp.crop is None or hp.crop >= 1, "≥ 1 (or null)"),
             ("content_size", hp.content_size is None or hp.content_size >= 1, "≥ 1 (or null)"))
    for name, ok, rule in rules:
        if not ok:
            raise UserError(f"data.{name} {hp[name]}: must be {rule}")


def _check_styles(styles: Any, source: str, min_size: int) -> None:
    """UserError before training when not one style image decodes (a corrupt --data.style, say)."""
    reason, column = "", image_column(styles)
    for row in styles:
        try:
            decode_image(row[column], min_size)
            return
        except InputError as exc:
            reason = reason or str(exc)
    raise UserError(f"data.style {source}: no usable style image ({reason or 'empty'}); pass a readable image "
                    "or folder of images")


def _check_samples(train_set: Any, source: str) -> None:
    """UserError before training when every training sample is skipped (all images corrupt, say).

    Stops at the first usable sample; a streamed set is probed over its first PROBE_LIMIT samples only.
    """
    reasons: list[str] = []
    if isinstance(train_set, StreamingPairs):
        samples: Iterator[dict[str, Any]] = itertools.islice(iter(train_set), PROBE_LIMIT)
        what = f"none of its first {PROBE_LIMIT} training samples"
    else:
        samples = (train_set[(0, i)] for i in range(len(train_set)))
        what = f"none of its {len(train_set)} training images"
    for sample in samples:
        if "skipped" not in sample:
            return
        reasons.append(sample["skipped"])
    raise UserError(f"{source}: {what} is usable ({reasons[0] if reasons else 'no images'}); nothing to train on "
                    "— check the images, or lower data.min_size if they are small")
