"""StyleData / PairDataset: bad images skipped and counted, seeded samples, DDP shards, clear errors."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from PIL import Image
from train_helpers import TINY_NET, make_folder

from strotss.errors import UserError
from strotss.train import StrotssModule, StyleData
from strotss.train.pairs import EpochSampler, PairDataset, SampleSpec, collate_pairs
from strotss.train.sources import open_images


@pytest.fixture()
def messy_folder(tmp_path: Path) -> Path:
    """3 good JPEGs, a corrupt JPEG, a grayscale PNG, an RGBA PNG and a 16×16 image."""
    folder = make_folder(tmp_path / "messy", 3)
    (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg" * 10)
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, (70, 90), dtype=np.uint8), "L").save(folder / "gray.png")
    Image.fromarray(rng.integers(0, 255, (70, 90, 4), dtype=np.uint8), "RGBA").save(folder / "rgba.png")
    Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(folder / "tiny.png")
    return folder


def test_bad_images_are_skipped_and_logged(messy_folder: Path, tmp_path: Path, caplog) -> None:
    """A corrupt file and a too-small image are skipped with a logged reason; grayscale/RGBA become RGB."""
    style = make_folder(tmp_path / "style", 1, seed=7) / "img00.jpg"
    data = StyleData(content=str(messy_folder), style=str(style), crop=48, style_size=48, n_positions=64,
                     min_size=32, batch_size=7, num_workers=0, num_val=0)
    module = StrotssModule(model_kwargs=TINY_NET, extractor_weights="random", n_style=64)
    trainer = pl.Trainer(accelerator="cpu", max_steps=1, limit_val_batches=0, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         default_root_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="strotss.train.pairs"):
        trainer.fit(module, datamodule=data)
    assert trainer.global_step == 1
    assert module.skipped == 2
    text = caplog.text
    assert "corrupt.jpg" in text and "tiny.png" in text and "min_size=32" in text
    batch = next(iter(data.train_dataloader()))
    assert batch["content"].shape == (5, 3, 48, 48) and len(batch["skipped"]) == 2


def test_samples_are_seeded_and_styles_drawn_independently(tmp_path: Path) -> None:
    """The same (epoch, index) gives the same sample; epochs differ; styles vary across contents."""
    content = open_images(make_folder(tmp_path / "c", 6))
    styles = open_images(make_folder(tmp_path / "s", 5, seed=3))
    ds = PairDataset(content, styles, SampleSpec(crop=48, style_size=40, n_positions=100, min_size=32), seed=3)
    a, b, c = ds[(0, 2)], ds[(0, 2)], ds[(1, 2)]
    assert torch.equal(a["content"], b["content"]) and torch.equal(a["positions"], b["positions"])
    assert not torch.equal(a["content"], c["content"])
    assert a["content"].shape == (3, 48, 48) and a["style"].shape == (3, 40, 40)
    assert a["positions"].shape == (100, 2) and float(a["positions"].max()) <= 47
    assert len({ds[(0, i)]["style_key"] for i in range(6)}) > 1


def test_two_ranks_split_the_single_process_batches(tmp_path: Path) -> None:
    """With the same global batch, the two DDP shards of each step hold exactly the 1-process batch."""
    ds = list(range(10))
    one = list(EpochSampler(ds, num_replicas=1, rank=0, shuffle=True, seed=5))
    r0 = list(EpochSampler(ds, num_replicas=2, rank=0, shuffle=True, seed=5))
    r1 = list(EpochSampler(ds, num_replicas=2, rank=1, shuffle=True, seed=5))
    for step in range(2):
        assert set(one[4 * step: 4 * step + 4]) == set(r0[2 * step: 2 * step + 2] + r1[2 * step: 2 * step + 2])
    assert not set(r0) & set(r1)


def test_collate_keeps_going_when_everything_is_skipped() -> None:
    """A batch of only unusable images is an empty batch with reasons, not an exception."""
    batch = collate_pairs([{"skipped": "a: bad"}, {"skipped": "b: bad"}])
    assert batch == {"skipped": ["a: bad", "b: bad"]}


def test_missing_paths_and_unreachable_hub_sets_are_user_errors(tmp_path: Path, monkeypatch) -> None:
    """Local typos and hub names without network give one-line UserErrors."""
    import datasets

    with pytest.raises(UserError, match="no such image file or folder"):
        open_images(str(tmp_path / "nope.jpg"))
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError, match="could not open the data set"):
        open_images("no-such-user/no-such-image-set")
    with pytest.raises(UserError, match="num_val"):
        StyleData(content=str(make_folder(tmp_path / "two", 2)), style=str(tmp_path / "two"), num_val=4).setup("fit")


def test_streaming_sets_yield_full_batches_and_hold_out_validation(tmp_path: Path) -> None:
    """Streaming (as for large hub sets) serves full batches and keeps num_val items for validation."""
    data = StyleData(content=str(make_folder(tmp_path / "c", 6)), style=str(make_folder(tmp_path / "s", 3, seed=2)),
                     streaming=True, crop=48, style_size=48, n_positions=32, min_size=16, batch_size=2,
                     num_workers=0, num_val=1)
    data.setup("fit")
    batches = list(data.train_dataloader())
    assert len(batches) == 2 and all(b["content"].shape == (2, 3, 48, 48) for b in batches)
    assert len(data.val_set) == 1


def test_train_verb_forwards_everything_to_lightning_cli() -> None:
    """`strotss train --help` and `strotss train fit --config X` reach LightningCLI unchanged."""
    import argparse

    from strotss.commands import train

    parser = argparse.ArgumentParser(add_help=train.ADD_HELP)
    train.add_arguments(parser)
    assert parser.parse_args(["--help"]).help
    args = parser.parse_args(["fit", "--config", "c.yaml", "--trainer.max_steps", "2"])
    assert args.cli_args == ["fit", "--config", "c.yaml", "--trainer.max_steps", "2"] and not args.help


def test_crop_scale_one_trains_on_whole_photos() -> None:
    """crop_scale (1, 1) on a square photo crops nothing: the sample is the resized photo (maybe mirrored)."""
    from torchvision.transforms import v2

    from strotss.train.pairs import SampleMaker

    photo = np.random.default_rng(0).integers(0, 256, (96, 96, 3), dtype=np.uint8)
    style = np.full((64, 64, 3), 128, np.uint8)
    whole = v2.functional.resize(torch.from_numpy(photo).permute(2, 0, 1), [48, 48], antialias=True).float() / 255
    for seed in range(4):
        c = SampleMaker(SampleSpec(crop=48, crop_scale=(1.0, 1.0)))(photo, style, "s", seed)["content"]
        assert min(float((c - whole).abs().max()), float((c - whole.flip(-1)).abs().max())) < 1e-2
    zoomed = SampleMaker(SampleSpec(crop=48, crop_scale=(0.1, 0.1)))(photo, style, "s", 0)["content"]
    assert float((zoomed - whole).abs().mean()) > 0.05


def test_content_size_trains_at_the_photos_use_scale() -> None:
    """content_size: whole photos resized to that long side as `stylize` resizes them (Lanczos, aspect kept), or
    unscaled crops of them; positions inside."""
    from strotss.imageio import resize_long_side
    from strotss.train.pairs import SampleMaker

    photo = np.random.default_rng(0).integers(0, 256, (60, 120, 3), dtype=np.uint8)
    style = np.full((64, 64, 3), 128, np.uint8)
    fitted = torch.from_numpy(resize_long_side(photo, 64)).permute(2, 0, 1).float() / 255
    for seed in range(3):
        whole = SampleMaker(SampleSpec(crop=None, content_size=64, n_positions=50))(photo, style, "s", seed)
        c = whole["content"]
        assert c.shape == (3, 32, 64)
        assert min(float((c - fitted).abs().max()), float((c - fitted.flip(-1)).abs().max())) < 1e-2
        assert int(whole["positions"][:, 0].max()) < 32 and int(whole["positions"][:, 1].max()) < 64
        crop = SampleMaker(SampleSpec(crop=24, content_size=64))(photo, style, "s", seed)["content"]
        windows = torch.cat([fitted, fitted.flip(-1)], 0).unfold(1, 24, 1).unfold(2, 24, 1)  # 6×9×41×24×24
        best = (windows.reshape(2, 3, 9, 41, 24, 24) - crop[None, :, None, None]).abs().amax(dim=(1, 4, 5)).min()
        assert float(best) < 1e-2, "a crop is a window of the resized photo, not rescaled"
    val = SampleMaker(SampleSpec(crop=None, content_size=64, train=False))(photo, style, "s", 0)["content"]
    assert float((val - fitted).abs().max()) < 1e-2


def test_a_whole_style_is_resized_as_the_objective_is_scored() -> None:
    """One painting kept whole: the same Lanczos resize as `bench quality` and `stylize` (not a blurrier one)."""
    from strotss.imageio import resize_long_side
    from strotss.train.pairs import SampleMaker

    painting = np.random.default_rng(1).integers(0, 256, (90, 150, 3), dtype=np.uint8)
    photo = np.zeros((64, 64, 3), np.uint8)
    got = SampleMaker(SampleSpec(crop=32, style_size=50, style_whole=True))(photo, painting, "s", 0)["style"]
    want = torch.from_numpy(resize_long_side(painting, 50)).permute(2, 0, 1).float() / 255
    assert got.shape == want.shape and torch.allclose(got, want, atol=1e-6)


def test_augmented_paintings_differ_per_draw_and_repeat_per_seed(tmp_path: Path) -> None:
    """style_augment: each training draw of one painting is another part, mirror and palette of it, with its own
    style-bank key; the same (seed, epoch, index) gives the same version (resume is exact); validation and
    augment off keep the painting as it is."""
    from strotss.train.pairs import SampleMaker

    yy, xx = np.mgrid[0:90, 0:150]
    painting = np.stack([xx * 255 // 150, yy * 255 // 90, (xx + yy) % 256], -1).astype(np.uint8)
    photo = np.zeros((64, 64, 3), np.uint8)
    augment = SampleMaker(SampleSpec(crop=32, style_size=40, style_augment=True))
    draws = [augment(photo, painting, "p.jpg", seed) for seed in range(4)]
    assert all(d["style"].shape == (3, 40, 40) for d in draws)
    assert len({d["style_key"] for d in draws}) == 4 and all(d["style_key"].startswith("p.jpg@") for d in draws)
    means = torch.stack([d["style"].mean(dim=(1, 2)) for d in draws])
    assert float((means - means.mean(0)).abs().max()) > 0.02  # palettes and parts differ between draws
    again = augment(photo, painting, "p.jpg", 2)
    assert torch.equal(again["style"], draws[2]["style"]) and again["style_key"] == draws[2]["style_key"]
    plain = SampleMaker(SampleSpec(crop=32, style_size=40))(photo, painting, "p.jpg", 0)
    val = SampleMaker(SampleSpec(crop=32, style_size=40, style_augment=True, train=False))(photo, painting, "p.jpg", 0)
    assert plain["style_key"] == val["style_key"] == "p.jpg" and torch.equal(plain["style"], val["style"])


def test_whole_photo_training_runs_and_records_its_size(tmp_path: Path) -> None:
    """Whole photos of different shapes, one per batch, gradients accumulated: trains, and the checkpoint's
    train_size is the photos' long side."""
    content = tmp_path / "c"
    content.mkdir()
    rng = np.random.default_rng(2)
    for i, shape in enumerate([(40, 90), (90, 60), (64, 64), (50, 100)]):
        Image.fromarray(rng.integers(0, 255, (*shape, 3), dtype=np.uint8)).save(content / f"p{i}.png")
    style = make_folder(tmp_path / "style", 1, seed=7) / "img00.jpg"
    data = StyleData(content=str(content), style=str(style), crop=None, content_size=48, style_size=48,
                     n_positions=64, min_size=32, batch_size=1, num_workers=0, num_val=1)
    module = StrotssModule(model_kwargs=TINY_NET, extractor_weights="random", n_style=64, val_repeats=1)
    trainer = pl.Trainer(accelerator="cpu", max_steps=1, accumulate_grad_batches=2, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         default_root_dir=tmp_path)
    before = [p.detach().clone() for p in module.net.parameters()]
    trainer.fit(module, datamodule=data)
    assert trainer.global_step == 1
    assert any(not torch.equal(a, b) for a, b in zip(before, module.net.parameters()))
    shapes = {tuple(data.train_set[(0, i)]["content"].shape) for i in range(3)}
    assert shapes == {(3, 21, 48), (3, 48, 32), (3, 48, 48)}
    trainer.save_checkpoint(tmp_path / "w.ckpt")
    meta = torch.load(tmp_path / "w.ckpt", map_location="cpu", weights_only=True)["strotss"]
    assert meta["train_size"] == 48


def test_whole_photo_training_needs_a_size_and_batch_one(tmp_path: Path) -> None:
    """crop: null without content_size, or with a batch of several photos, is a clear error before training."""
    style = make_folder(tmp_path / "style", 1, seed=7) / "img00.jpg"
    with pytest.raises(UserError, match="content_size"):
        StyleData(style=str(style), crop=None)
    with pytest.raises(UserError, match="batch_size 1"):
        StyleData(style=str(style), crop=None, content_size=64, batch_size=4)


def test_cosine_schedule_warms_up_then_decays_to_zero() -> None:
    """lr_schedule cosine: linear warm-up to lr, then down to 0 at trainer.max_steps; without max_steps, an error."""
    from types import SimpleNamespace

    module = StrotssModule(model_kwargs=TINY_NET, extractor="vgg19", lr=0.01, lr_schedule="cosine", warmup_steps=4)
    module._trainer = SimpleNamespace(max_steps=20)
    conf = module.configure_optimizers()
    opt, schedule = conf["optimizer"], conf["lr_scheduler"]["scheduler"]
    lrs = []
    for _ in range(20):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        schedule.step()
    assert lrs[0] == pytest.approx(0.0025) and lrs[3] == pytest.approx(0.01)
    assert all(a >= b for a, b in zip(lrs[3:], lrs[4:])) and lrs[-1] < 1e-3
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)
    module._trainer = SimpleNamespace(max_steps=-1, callbacks=[])
    with pytest.raises(UserError, match="max_steps or at the end of trainer.max_time"):
        module.configure_optimizers()
    with pytest.raises(ValueError, match="lr_schedule='step': use one of 'constant', 'cosine'"):
        StrotssModule(model_kwargs=TINY_NET, lr_schedule="step")


def test_cosine_schedule_by_time_follows_the_timer() -> None:
    """With only trainer.max_time, the cosine follows the elapsed share of the time budget: lr halves at half-time."""
    from types import SimpleNamespace

    from lightning.pytorch.callbacks import Timer

    class FakeTimer(Timer):
        elapsed = 0.0

        def time_elapsed(self, stage=None) -> float:
            return self.elapsed

        def time_remaining(self, stage=None) -> float:
            return 100.0 - self.elapsed

    timer = FakeTimer(duration={"seconds": 100})
    module = StrotssModule(model_kwargs=TINY_NET, extractor="vgg19", lr=0.01, lr_schedule="cosine", warmup_steps=0)
    module._trainer = SimpleNamespace(max_steps=-1, callbacks=[timer])
    conf = module.configure_optimizers()
    opt, schedule = conf["optimizer"], conf["lr_scheduler"]["scheduler"]
    lrs = {}
    for t in (10.0, 50.0, 99.0, 120.0):
        timer.elapsed = t
        opt.step()
        schedule.step()
        lrs[t] = opt.param_groups[0]["lr"]
    assert lrs[10.0] == pytest.approx(0.01 * 0.5 * (1 + math.cos(math.pi * 0.1)))
    assert lrs[50.0] == pytest.approx(0.005)
    assert lrs[99.0] < 1e-4 and lrs[120.0] == pytest.approx(0.0, abs=1e-12)


def test_an_unusable_image_is_one_input_error_that_the_data_sets_skip():
    """decode_image raises the library's own InputError, named once, the one error the data sets catch."""
    from strotss.errors import InputError
    from strotss.train.sources import decode_image

    with pytest.raises(InputError, match=r"^x\.png: not an image Pillow can read") as exc:
        decode_image({"bytes": b"not an image", "path": "x.png"}, 1)
    assert not isinstance(exc.value, ValueError)


def test_a_bug_while_making_a_sample_is_not_counted_as_a_skipped_image(tmp_path: Path) -> None:
    """Only InputError skips an image: a ValueError raised by the sample code itself ends the run with its traceback."""
    content = open_images(str(make_folder(tmp_path / "c", 2)))
    ds = PairDataset(content, content, SampleSpec(crop=48, style_size=40, n_positions=16, min_size=32))

    def broken(*args, **kwargs):
        raise ValueError("a bug, not a bad image")

    ds.make = broken
    with pytest.raises(ValueError, match="a bug"):
        ds[0]


def test_shared_style_gives_each_training_batch_one_painting_encoded_once(tmp_path: Path) -> None:
    """shared_style: every training batch carries its first sample's (augmented) painting and key for all
    samples, the training step encodes that style once and still reads it; validation keeps its own paintings."""
    from strotss.models import create_model

    content, style = make_folder(tmp_path / "c", 8), make_folder(tmp_path / "s", 5, seed=4)
    val_style = make_folder(tmp_path / "v", 3, seed=5, prefix="held")
    kw = dict(content=str(content), style=str(style), val_style=str(val_style), crop=32, style_size=32,
              n_positions=64, min_size=32, batch_size=4, num_workers=0, num_val=4, style_augment=True)
    shared, own = StyleData(**kw, shared_style=True), StyleData(**kw)
    for data in (shared, own):
        data.setup("fit")
    batch, plain = next(iter(shared.train_dataloader())), next(iter(own.train_dataloader()))
    assert len(set(batch["style_key"])) == 1 and all(torch.equal(s, batch["style"][0]) for s in batch["style"])
    assert len(set(plain["style_key"])) == 4
    assert torch.equal(batch["content"], plain["content"])  # the photos are the same draws
    val = next(iter(shared.val_dataloader()))
    assert len(set(val["style_key"])) > 1
    module = StrotssModule(model="arbitrary", extractor_weights="random", n_style=64,
                           model_kwargs={"code_dim": 8, "preset": "tiny"})
    module.net = create_model("arbitrary", code_dim=8, preset="tiny")
    seen: list[int] = []
    encode = module.net.style_code
    module.net.style_code = lambda s: seen.append(s.shape[0]) or encode(s)
    code = module.style_code(batch)
    assert seen == [1] and code.shape[0] == 4 and torch.allclose(code, encode(batch["style"]), atol=1e-5)
    assert module.style_code(plain).shape[0] == 4 and seen == [1, 4]
