"""Issue 10, training: unusable data stops a run before it writes anything (item 5), everything a run writes stays
under --trainer.default_root_dir and `--ckpt_path last` resumes from there (item 12), checkpoints load as weights."""

from __future__ import annotations

import csv
import os
import pathlib
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from train_helpers import REPO, TINY_NET, make_folder

CHECKPOINT = {"class_path": "lightning.pytorch.callbacks.ModelCheckpoint", "init_args": {"save_last": True}}


def _config(tmp: Path, content: Path, style: Path) -> Path:
    """A tiny CPU config (random extractor, 48 px) whose ModelCheckpoint pins no folder, as the shipped ones."""
    cfg = {
        "trainer": {"accelerator": "cpu", "devices": 1, "max_epochs": 1, "limit_train_batches": 1,
                    "limit_val_batches": 0, "log_every_n_steps": 1, "enable_progress_bar": False,
                    "enable_model_summary": False, "callbacks": [CHECKPOINT]},
        "model": {"model": "per_style", "model_kwargs": TINY_NET, "extractor_weights": "random", "n_style": 64},
        "data": {"content": str(content), "style": str(style), "crop": 48, "style_size": 48, "n_positions": 64,
                 "min_size": 32, "batch_size": 2, "num_workers": 0, "num_val": 1},
    }
    path = tmp / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture()
def data(tmp_path: Path) -> tuple[Path, Path]:
    """Three small content photos and one style image."""
    return make_folder(tmp_path / "content", 3), make_folder(tmp_path / "style", 1, seed=4) / "img00.jpg"


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch) -> Path:
    """An empty current folder for the runs, to show that nothing is written outside the run's root."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    return cwd


def _train(cwd: Path, *args: str) -> tuple[int, str]:
    """`strotss train fit ...` in a fresh process run in cwd; returns the exit code and the last stderr line."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run([sys.executable, "-m", "strotss.cli", "train", "fit", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]  # a quiet successful run prints none
    return proc.returncode, lines[-1] if lines else ""


def _steps(version: Path) -> list[int]:
    """The steps that one run (one lightning_logs/version_N folder) logged a training loss for."""
    with open(version / "metrics.csv") as fh:
        return [int(r["step"]) for r in csv.DictReader(fh) if r.get("train/loss")]


# 5. Unusable data: one line, non-zero, no checkpoint, nothing left behind.

def test_only_corrupt_content_images(tmp_path, data, workdir):
    bad = tmp_path / "bad"
    bad.mkdir()
    for i in range(3):
        (bad / f"b{i}.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg" * 20)
    root = tmp_path / "root"
    code, line = _train(workdir, "--config", str(_config(tmp_path, bad, data[1])), "--trainer.default_root_dir",
                        str(root), "--trainer.max_steps", "1")
    assert code == 2 and line.startswith("strotss train: error: data.content")
    assert "none of its 2 training images is usable" in line and "b0.jpg" in line
    assert not root.exists() and list(workdir.iterdir()) == []


def test_corrupt_style_image(tmp_path, data, workdir):
    style = tmp_path / "style.jpg"
    style.write_bytes(b"GIF89a truncated")
    root = tmp_path / "root"
    code, line = _train(workdir, "--config", str(_config(tmp_path, data[0], style)), "--trainer.default_root_dir",
                        str(root), "--trainer.max_steps", "1")
    assert code == 2 and "data.style" in line and "style.jpg" in line and "no usable style image" in line
    assert not root.exists() and list(workdir.iterdir()) == []


# 12. The root dir holds everything; `last` resumes from it; checkpoints load as weights only.

def test_root_dir_holds_everything_and_last_resumes(tmp_path, data, workdir):
    from strotss.models import load_model

    cfg = str(_config(tmp_path, *data))
    root = tmp_path / "elsewhere"
    assert _train(workdir, "--config", cfg, "--trainer.default_root_dir", str(root))[0] == 0
    assert (root / "checkpoints" / "last.ckpt").is_file() and list(workdir.iterdir()) == []
    assert _train(workdir, "--config", cfg, "--trainer.default_root_dir", str(root), "--ckpt_path", "last",
                  "--trainer.max_epochs", "2")[0] == 0
    assert _steps(root / "lightning_logs" / "version_0") == [0]
    assert _steps(root / "lightning_logs" / "version_1") == [1]
    assert list(workdir.iterdir()) == []
    ckpt = torch.load(root / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 2 and ckpt["strotss"]["model_name"] == "per_style"
    net, meta = load_model(root / "checkpoints" / "last.ckpt")
    assert meta["train_size"] == 48 and sum(p.numel() for p in net.parameters()) > 0


def test_lightning_advice_leaves_the_console_for_the_log_folder(tmp_path, data, workdir):
    """`strotss train` prints no Lightning tips or known notices; the run's console.log keeps them."""
    root = tmp_path / "root"
    proc = subprocess.run([sys.executable, "-m", "strotss.cli", "train", "fit", "--config", str(_config(tmp_path, *data)),
                           "--trainer.default_root_dir", str(root)], cwd=workdir, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    for noise in ("Seed set", "GPU available", "Tip:", "tensorboardX", "LeafSpec", "log_every_n_steps"):
        assert noise not in proc.stdout + proc.stderr, noise
    assert "GPU available" in (root / "lightning_logs" / "version_0" / "console.log").read_text()


def test_resume_refuses_a_crafted_checkpoint(tmp_path, data, workdir):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return pathlib.Path.touch, (marker,)

    torch.save({"state_dict": {}, "hyper_parameters": Payload()}, tmp_path / "evil.ckpt")
    code, line = _train(workdir, "--config", str(_config(tmp_path, *data)), "--trainer.default_root_dir",
                        str(tmp_path / "root"), "--ckpt_path", str(tmp_path / "evil.ckpt"))
    assert code == 2 and "evil.ckpt: refused" in line and "weights only" in line
    assert not marker.exists() and not (tmp_path / "root").exists()


@pytest.mark.filterwarnings("ignore:LightningCLI's args parameter")
@pytest.mark.parametrize("config", sorted(p.name for p in (REPO / "configs").glob("*.yaml") if p.name != "ddp.yaml"))
def test_shipped_configs_keep_checkpoints_under_the_root(config, tmp_path, workdir):
    """Every shipped config writes its checkpoints to <default_root_dir>/checkpoints, wherever the root is
    (built with a fresh tiny network, so trainable=norms, which needs trained weights, is set back to all)."""
    from lightning.pytorch.callbacks import ModelCheckpoint

    from strotss.train.cli import StrotssCLI
    from strotss.train.data import StyleData
    from strotss.train.module import StrotssModule

    root = tmp_path / "root"
    built = StrotssCLI(StrotssModule, StyleData, run=False, args=[
        "--config", str(REPO / "configs" / config), "--trainer.default_root_dir", str(root),
        "--trainer.accelerator", "cpu", "--model.extractor_weights", "random", "--model.trainable", "all",
        "--model.model_kwargs", yaml.safe_dump({**TINY_NET, "style_encoder": "random"}
                                               if "arbitrary" in config else TINY_NET)])
    folders = [c.dirpath for c in built.trainer.checkpoint_callbacks if isinstance(c, ModelCheckpoint)]
    assert folders and all(f == os.path.realpath(root / "checkpoints") for f in folders), folders
    assert list(workdir.iterdir()) == []
