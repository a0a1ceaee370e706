"""Exact resume: runs stopped mid-epoch (or at an epoch's end) and resumed with ckpt_path train on the same batches."""

from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import lightning.pytorch as pl
import pytest
import torch
from train_helpers import TINY_NET, make_folder
from torch.utils.data import Dataset

from strotss.errors import UserError
from strotss.train import LastCheckpoint, StrotssModule, StyleData
from strotss.train.loader import ResumableLoader
from strotss.train.pairs import EpochSampler, StreamingPairs

STEPS = 6  # 7 training photos in batches of 2: epochs of 3 batches, validation every 2 steps across epochs


class Recorder(pl.Callback):
    """Keep each training step's content batch and the steps after which validation ran."""

    def __init__(self) -> None:
        self.batches: dict[int, torch.Tensor] = {}
        self.validated: list[int] = []

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        """Record the content crops that the coming step trains on."""
        self.batches[trainer.global_step] = batch["content"].clone()

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Record the step count at which validation runs."""
        self.validated.append(trainer.global_step)


def _train(images: Path, run: Path, max_steps: int, limit: int | float, *, ckpt_every: int = 1,
           ckpt_path: str | None = None, workers: int = 0) -> tuple[Recorder, dict[str, torch.Tensor]]:
    """Fit a tiny per-style model on CPU to max_steps (from ckpt_path if given); return its record and weights.

    Checkpoints go to run/last.ckpt every `ckpt_every` steps (on_train_batch_end, as a killed run leaves them)
    and at train end (LastCheckpoint, as a max_time or max_steps stop leaves them).
    """
    pl.seed_everything(0)
    recorder = Recorder()
    trainer = pl.Trainer(accelerator="cpu", devices=1, max_steps=max_steps, max_epochs=-1,
                         limit_train_batches=limit, val_check_interval=2, check_val_every_n_epoch=None,
                         limit_val_batches=1, num_sanity_val_steps=0, logger=False, enable_progress_bar=False,
                         enable_model_summary=False, gradient_clip_val=1.0, default_root_dir=run,
                         callbacks=[recorder, LastCheckpoint(dirpath=run, save_last=True, save_top_k=0,
                                                             every_n_train_steps=ckpt_every)])
    module = StrotssModule(model_kwargs=TINY_NET, extractor_weights="random", n_style=64, lr=0.01,
                           lr_schedule="cosine", warmup_steps=2 * STEPS)
    data = StyleData(content=str(images / "c"), style=str(images / "s" / "img00.jpg"), crop=32, style_size=32,
                     n_positions=64, min_size=16, batch_size=2, num_workers=workers, num_val=1)
    trainer.fit(module, data, ckpt_path=ckpt_path)
    return recorder, {k: v.detach().clone() for k, v in module.net.state_dict().items()}


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Any:
    """Train on one CPU thread: quicker than two on a busy 2-core machine, and the same arithmetic every run."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 content photos (7 train, 1 validates) and one style image."""
    root = tmp_path_factory.mktemp("resume")
    make_folder(root / "c", 8, size=(40, 48))
    make_folder(root / "s", 1, size=(40, 48), seed=9)
    return root


@pytest.fixture(scope="module")
def straight(images: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[int | float, Any]:
    """Uninterrupted runs of STEPS steps, by limit_train_batches: whole epochs (1.0) and virtual epochs of 2."""
    return {limit: _train(images, tmp_path_factory.mktemp("straight"), STEPS, limit) for limit in (1.0, 2)}


@pytest.mark.parametrize(("limit", "stop", "ckpt_every", "workers"),
                         [(1.0, 4, 1, 0), (1.0, 4, 1, 1), (1.0, 4, 100, 0), (1.0, 3, 1, 0), (2, 3, 1, 0),
                          (2, 5, 100, 0), (2, 4, 100, 0)],
                         ids=["mid-epoch", "mid-epoch-1-worker", "mid-epoch-train-end-ckpt", "epoch-end",
                              "virtual-mid-epoch", "virtual-mid-epoch-train-end-ckpt",
                              "virtual-epoch-end-train-end-ckpt"])
def test_resumed_run_trains_on_the_same_batches_to_the_same_weights(images: Path, straight: dict, tmp_path: Path,
                                                                    limit: int | float, stop: int, ckpt_every: int,
                                                                    workers: int) -> None:
    """Stopped at step `stop` (max_steps) and resumed with ckpt_path="last", a run matches an uninterrupted one.

    After the stop it trains on the same content crops step by step, validates at the same steps and ends
    with the same weights. Epochs are 3 batches, or "virtual epochs" of 2 (limit_train_batches=2); the
    checkpoint is the one of the stop step's end (ckpt_every=1) or the one written at train end.
    """
    (whole, weights) = straight[limit]
    first, _ = _train(images, tmp_path, stop, limit, ckpt_every=ckpt_every, workers=workers)
    rest, resumed = _train(images, tmp_path, STEPS, limit, ckpt_every=ckpt_every, ckpt_path="last", workers=workers)
    assert sorted(first.batches) == list(range(stop)) and sorted(rest.batches) == list(range(stop, STEPS))
    for step, batch in rest.batches.items():
        assert torch.equal(batch, whole.batches[step]), f"step {step} trained on other crops than without a stop"
    assert first.validated + rest.validated == whole.validated == [2, 4, 6]
    for name, value in weights.items():
        assert torch.allclose(resumed[name], value, rtol=1e-6, atol=1e-8), name


class Keys(Dataset):
    """Returns its (epoch, index) key: what a sampler hands out, without images."""

    def __len__(self) -> int:
        return 21

    def __getitem__(self, key: tuple[int, int]) -> tuple[int, int]:
        return key


def _loaders(world: int) -> list[ResumableLoader]:
    """One loader per rank over Keys, batches of 2 per rank."""
    return [ResumableLoader(Keys(), batch_size=2, collate_fn=list, drop_last=True,
                            sampler=EpochSampler(Keys(), num_replicas=world, rank=r, seed=3, drop_last=True))
            for r in range(world)]


def _epoch(loader: ResumableLoader, epoch: int) -> list[list[tuple[int, int]]]:
    """All batches of one epoch of a loader."""
    loader.sampler.set_epoch(epoch)
    return list(loader)


@pytest.mark.parametrize("world", [1, 2])
def test_each_rank_resumes_its_shard_where_the_epoch_stopped(world: int) -> None:
    """The state of rank 0 after 2 batches makes every rank's loader continue its own shard of that epoch."""
    straight = [_epoch(loader, 1) for loader in _loaders(world)]
    first = _loaders(world)
    first[0].sampler.set_epoch(1)
    batches = iter(first[0])
    next(batches), next(batches)
    state = first[0].state_dict()
    assert state == {"epoch": 1, "consumed": 2 * 2 * world}
    for rank, loader in enumerate(_loaders(world)):
        loader.load_state_dict(state)
        assert _epoch(loader, 1) == straight[rank][2:]
        assert _epoch(loader, 2) == _epoch(_loaders(world)[rank], 2), "only the resumed epoch is shortened"


def test_a_resume_with_another_global_batch_that_cannot_split_the_position_says_so() -> None:
    """6 samples used by the epoch cannot be shared by 4 processes: a one-line UserError, not a wrong resume."""
    with pytest.raises(UserError, match="global batch"):
        _loaders(4)[0].load_state_dict({"epoch": 0, "consumed": 6})


def test_a_resume_into_a_finished_epoch_starts_the_next_one_whole() -> None:
    """A state saved at an epoch's end (all its batches consumed) leaves the next epoch untouched."""
    loader = _loaders(1)[0]
    full = _epoch(loader, 0)
    resumed = _loaders(1)[0]
    resumed.load_state_dict(loader.state_dict())
    assert loader.state_dict() == {"epoch": 0, "consumed": 2 * len(full)}
    assert _epoch(resumed, 1) == _epoch(_loaders(1)[0], 1)


def test_streaming_data_warns_once_at_resume_that_it_restarts() -> None:
    """Streaming data has no position to restore: a resumed run says so in one line instead of failing."""
    data = StyleData()
    data.train_set = StreamingPairs([], [], data.spec)
    data.trainer = SimpleNamespace(ckpt_path="last.ckpt", global_rank=0, world_size=1)
    with pytest.warns(UserWarning, match="streaming data cannot resume exactly"):
        data.train_dataloader()
    data.trainer = SimpleNamespace(ckpt_path=None, global_rank=0, world_size=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data.train_dataloader()
