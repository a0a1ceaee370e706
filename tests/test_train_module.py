"""StrotssModule and the training CLI: overfitting, DDP equivalence, exact resume, configs, checkpoints."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
import yaml
from train_helpers import REPO, TINY_NET, make_folder

from strotss.errors import UserError
from strotss.models import create_model, save_model
from strotss.pretrained import bundled_models, resolve_model
from strotss.train.data import StyleData
from strotss.train.module import StrotssModule
from strotss.train.pairs import PairDataset, SampleSpec, collate_pairs
from strotss.train.sources import open_images


def _fixed_batch(tmp_path: Path) -> dict[str, Any]:
    """A seeded batch of two 48 px crops of random photos with one random painting."""
    torch.manual_seed(0)
    content = open_images(make_folder(tmp_path / "c", 2))
    style = open_images(make_folder(tmp_path / "s", 1, seed=5))
    ds = PairDataset(content, style, SampleSpec(crop=48, style_size=48, n_positions=256, min_size=16))
    return collate_pairs([ds[0], ds[1]])


def _descend(module: StrotssModule, batch: dict[str, Any], opt: torch.optim.Optimizer, steps: int,
             until: float = 0.0) -> list[float]:
    """Optimizer steps on one batch; the STROTSS totals, stopping early once one is ≤ `until` × the first."""
    losses: list[float] = []
    for _ in range(steps):
        total, _ = module.objective(batch, module(batch["content"], batch["style"]))
        opt.zero_grad()
        total.backward()
        opt.step()
        losses.append(float(total))
        if losses[-1] <= until * losses[0]:
            break
    return losses


@pytest.mark.slow
def test_overfitting_a_fixed_batch_halves_the_objective(tmp_path: Path) -> None:
    """200 Adam steps at most on one fixed batch bring the STROTSS total to ≤ 50 % of its start."""
    batch = _fixed_batch(tmp_path)
    module = StrotssModule(model_kwargs=TINY_NET, n_style=256)
    losses = _descend(module, batch, torch.optim.Adam(module.net.parameters(), lr=0.02), 200, until=0.5)
    assert losses[-1] <= 0.5 * losses[0], losses[::20]


def test_training_only_the_norms_lowers_the_objective_and_leaves_convolutions_alone(tmp_path: Path) -> None:
    """trainable="norms": the optimizer holds only instance-norm scales/shifts; they alone lower the objective."""
    batch = _fixed_batch(tmp_path)
    with pytest.raises(UserError, match="init_weights"):
        StrotssModule(model_kwargs=TINY_NET, trainable="norms")
    trained = create_model("per_style", **TINY_NET)
    torch.nn.init.normal_(trained.head[-1].weight, std=0.05)  # a fresh head is zero: stand in for a trained one
    save_model(tmp_path / "trained.pt", trained, {"model_kwargs": TINY_NET})
    module = StrotssModule(model_kwargs=TINY_NET, n_style=256, trainable="norms", lr=0.05,
                           init_weights=str(tmp_path / "trained.pt"))
    norms = {n for n, m in module.net.named_modules() if isinstance(m, torch.nn.InstanceNorm2d)}
    before = {n: p.detach().clone() for n, p in module.net.named_parameters()}
    opt = module.configure_optimizers()
    assert sum(p.numel() for g in opt.param_groups for p in g["params"]) == sum(
        p.numel() for n, p in module.net.named_parameters() if n.rsplit(".", 1)[0] in norms)
    losses = _descend(module, batch, opt, 30)
    assert losses[-1] < 0.9 * losses[0], losses[::5]
    for name, p in module.net.named_parameters():
        changed = not torch.equal(p, before[name])
        assert changed == (name.rsplit(".", 1)[0] in norms), name


def test_init_weights_from_an_onnx_file_or_a_bundled_name(tmp_path: Path) -> None:
    """init_weights reads a per-style ONNX export or a bundled model by name: training starts where it stood."""
    from strotss.export.onnx_export import export_onnx
    from strotss.export.runtime import StyleModel

    trained = create_model("per_style", **TINY_NET)
    torch.manual_seed(1)
    torch.nn.init.normal_(trained.head[-1].weight, std=0.05)
    save_model(tmp_path / "t.pt", trained, {"model_kwargs": TINY_NET})
    onnx_path = export_onnx(tmp_path / "t.pt", tmp_path / "t.onnx")[0]
    module = StrotssModule(model_kwargs=TINY_NET, init_weights=str(onnx_path), trainable="norms",
                           extractor_weights="random")
    x = torch.rand(1, 3, 40, 52)
    with torch.no_grad():
        assert torch.allclose(module.net.eval()(x), trained.eval()(x), atol=1e-6)
    noisy_kwargs = {**TINY_NET, "noise": 0.03}
    save_model(tmp_path / "n.pt", create_model("per_style", **noisy_kwargs), {"model_kwargs": noisy_kwargs})
    noisy = export_onnx(tmp_path / "n.pt", tmp_path / "n.onnx")[0]
    with pytest.raises(UserError, match="fixed input noise 0.03"):  # losing a model's input noise is refused
        StrotssModule(model_kwargs=TINY_NET, init_weights=str(noisy), extractor_weights="random")
    card = bundled_models()["wheat_field"].card
    bundled = StrotssModule(model_kwargs=card["model_kwargs"], init_weights="wheat_field", extractor_weights="random")
    photo = np.random.default_rng(0).random((1, 3, 48, 64), dtype=np.float32)
    with torch.no_grad():
        ours = bundled.net.eval()(torch.from_numpy(photo)).numpy()
    assert np.abs(ours - photo).max() > 0.1  # a trained network, not the identity a fresh one starts as
    assert np.abs(ours - StyleModel(resolve_model("wheat_field"))(photo)).max() < 2e-2  # its ONNX twin
    with pytest.raises(UserError, match="model_kwargs of its model card"):
        StrotssModule(model_kwargs={"preset": "base"}, init_weights="wheat_field", extractor_weights="random")
    with pytest.raises(UserError, match="only a per-style"):
        StrotssModule(model="arbitrary", init_weights="arbitrary", extractor_weights="random")
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    with pytest.raises(UserError, match="bad.onnx: not an ONNX model"):
        StrotssModule(model_kwargs=TINY_NET, init_weights=str(tmp_path / "bad.onnx"), extractor_weights="random")


def _config(tmp: Path, content: Path, style: Path) -> Path:
    """A tiny CPU training config (random extractor, 48 px) with last-checkpoints in tmp/ckpt."""
    cfg = {
        "seed_everything": 0,
        "trainer": {"accelerator": "cpu", "devices": 1, "max_epochs": 2, "limit_train_batches": 2,
                    "limit_val_batches": 0, "log_every_n_steps": 1, "enable_progress_bar": False,
                    "enable_model_summary": False, "gradient_clip_val": 1.0,
                    "callbacks": [{"class_path": "lightning.pytorch.callbacks.ModelCheckpoint",
                                   "init_args": {"dirpath": str(tmp / "ckpt"), "save_last": True}}]},
        "model": {"model": "per_style", "model_kwargs": TINY_NET, "extractor_weights": "random",
                  "n_style": 128, "lr": 0.01},
        "data": {"content": str(content), "style": str(style), "crop": 48, "style_size": 48,
                 "n_positions": 128, "min_size": 32, "batch_size": 4, "num_workers": 0, "num_val": 1},
    }
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _fit(run_dir: Path, cfg: Path, *extra: str) -> dict[int, float]:
    """Run `fit` in a fresh process and return {step: train/loss} of its newest log version."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "strotss.train.cli", "fit", "--config", str(cfg),
           "--trainer.default_root_dir", str(run_dir), *extra]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    newest = max((run_dir / "lightning_logs").iterdir(), key=lambda p: int(p.name.split("_")[1]))
    with open(newest / "metrics.csv") as fh:
        return {int(r["step"]): float(r["train/loss"]) for r in csv.DictReader(fh) if r.get("train/loss")}


@pytest.mark.slow
def test_ddp_matches_one_process_and_resume_is_exact(tmp_path: Path) -> None:
    """2 gloo processes × batch 2 follow the 1-process batch-4 losses; a stop + resume continues them exactly,
    from an epoch's end and, under DDP, from the middle of an epoch (each rank resumes its own shard)."""
    content = make_folder(tmp_path / "c", 9)
    style = make_folder(tmp_path / "s", 1, seed=9) / "img00.jpg"
    cfg = _config(tmp_path, content, style)
    single = _fit(tmp_path / "single", cfg)
    assert sorted(single) == [0, 1, 2, 3]
    ddp_args = ("--data.batch_size", "2", "--trainer.devices", "2", "--trainer.strategy", "ddp")
    ddp = _fit(tmp_path / "ddp", _config(tmp_path / "ddp", content, style), *ddp_args)
    for step in single:
        assert ddp[step] == pytest.approx(single[step], rel=2e-3), (single, ddp)
    cfg_ddp = _config(tmp_path / "ddp_resumed", content, style)
    first = _fit(tmp_path / "ddp_resumed", cfg_ddp, *ddp_args, "--trainer.max_steps", "3")
    rest = _fit(tmp_path / "ddp_resumed", cfg_ddp, *ddp_args, "--ckpt_path", "last")
    assert sorted(first) == [0, 1, 2] and sorted(rest) == [3]
    assert rest[3] == pytest.approx(ddp[3], rel=1e-5, abs=1e-7), (ddp, rest)
    assert len({round(v, 6) for v in single.values()}) == 4
    cfg_b = _config(tmp_path / "resumed", content, style)
    first = _fit(tmp_path / "resumed", cfg_b, "--trainer.max_epochs", "1")
    assert (tmp_path / "resumed" / "ckpt" / "last.ckpt").is_file()
    rest = _fit(tmp_path / "resumed", cfg_b, "--ckpt_path", "last")
    assert sorted(first) == [0, 1] and sorted(rest) == [2, 3]
    for step in (2, 3):
        assert rest[step] == pytest.approx(single[step], rel=1e-5, abs=1e-7), (single, rest)
    ckpt = torch.load(tmp_path / "resumed" / "ckpt" / "last.ckpt", map_location="cpu", weights_only=True)
    assert ckpt["strotss"]["model_name"] == "per_style" and ckpt["strotss"]["style_name"] == "img00"
    assert ckpt["strotss"]["train_size"] == 48
    assert all(k.startswith("net.") for k in ckpt["state_dict"])


@pytest.mark.parametrize("configs", [["per_style.yaml"], ["arbitrary.yaml"], ["arbitrary.yaml", "ddp.yaml"],
                                     ["cpu_smoke.yaml"], ["per_style_cpu.yaml"], ["per_style_cpu_finetune.yaml"],
                                     ["per_style_cpu_whole_photos.yaml"], ["per_style_cpu_noise.yaml"]])
def test_configs_parse(configs: list[str], capsys) -> None:
    """Every shipped config is valid for LightningCLI (--print_config resolves all classes and fields)."""
    from strotss.train.cli import run_cli

    args = ["fit"] + [a for c in configs for a in ("--config", str(REPO / "configs" / c))] + ["--print_config"]
    with pytest.raises(SystemExit) as exc:
        run_cli(args)
    assert exc.value.code in (0, None)
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["model"]["model"] in ("per_style", "arbitrary")
    assert printed["trainer"]["gradient_clip_val"] == 1.0


def test_metrics_reach_the_log_folder_while_the_run_goes(tmp_path: Path) -> None:
    """With a shipped config, default_root_dir/lightning_logs/version_0/metrics.csv has each logged step while
    training still runs (Lightning 2.6 saves its loggers at every log call, whatever flush_logs_every_n_steps)."""
    from lightning.pytorch.cli import LightningCLI

    rows: dict[int, int] = {}

    class Probe(pl.Callback):
        def on_train_batch_start(self, trainer: pl.Trainer, *args: Any) -> None:
            path = Path(trainer.log_dir) / "metrics.csv"
            rows[trainer.global_step] = len(path.read_text().splitlines()) if path.exists() else 0

    cfg = yaml.safe_load((REPO / "configs" / "cpu_smoke.yaml").read_text())
    cfg["trainer"]["callbacks"] = []
    cfg["data"].update(crop=32, style_size=32, n_positions=64, min_size=16)
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    cli = LightningCLI(StrotssModule, StyleData, run=False, args=[
        "--config", str(tmp_path / "cfg.yaml"), "--trainer.default_root_dir", str(tmp_path / "run"),
        "--trainer.max_steps", "3", "--trainer.log_every_n_steps", "1",
        "--trainer.limit_val_batches", "0", "--trainer.enable_checkpointing", "false",
        "--trainer.enable_progress_bar", "false", "--model.extractor_weights", "random",
        "--model.model_kwargs", json.dumps(TINY_NET)])
    cli.trainer.callbacks.append(Probe())
    cli.trainer.fit(cli.model, cli.datamodule)
    assert Path(cli.trainer.log_dir) == tmp_path / "run" / "lightning_logs" / "version_0"
    assert rows[0] == 0 and rows[1] == 2 and rows[2] == 3, rows


@pytest.mark.slow
def test_cpu_smoke_config_trains_two_steps(tmp_path: Path) -> None:
    """The shipped CPU smoke config runs on the bundled samples (2 steps): a grid, and last.ckpt under its root."""
    losses = _fit(tmp_path, REPO / "configs" / "cpu_smoke.yaml", "--trainer.max_steps", "2",
                  "--trainer.limit_train_batches", "2", "--trainer.max_epochs", "1", "--trainer.log_every_n_steps", "1")
    assert sorted(losses) == [0, 1]
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()
    assert list(tmp_path.glob("lightning_logs/version_0/images/step_*.png"))


@pytest.mark.parametrize("argument, value", [("model", "per-style"), ("weighting", "papers"),
                                             ("loss_precision", "fp16"), ("lr_schedule", "cosin")])
def test_named_choices_are_checked_from_python_and_by_the_cli(argument, value, capsys) -> None:
    """A Literal-typed argument outside its choices fails at once: from Python naming them, in the CLI while parsing."""
    from strotss.train.cli import run_cli

    with pytest.raises(ValueError, match=rf"{argument}='{value}': use one of '"):
        StrotssModule(**{argument: value})
    with pytest.raises(SystemExit):
        run_cli(["fit", f"--model.{argument}", value])
    err = capsys.readouterr().err
    assert f"model.{argument}" in err and value in err


def test_a_fresh_arbitrary_network_trains_its_style_path_from_the_first_step() -> None:
    """A fresh network already depends on the painting, and the objective's gradient at initialization reaches the
    style code's MLP, its modulations and the body, not only the output head: with a zero head and zero
    modulations, as per-style networks start, it would be exactly zero there, and training on a new painting every
    batch stalled at the identity."""
    from strotss.losses import grid_positions

    module = StrotssModule(model="arbitrary", extractor_weights="random", n_style=64,
                           model_kwargs={"style_encoder": "random", "code_dim": 8, "preset": "tiny"})
    torch.manual_seed(0)
    content, style = torch.rand(2, 3, 48, 48), torch.rand(2, 3, 48, 48)
    positions = grid_positions(48, 48, generator=torch.Generator().manual_seed(0))[:64]
    batch = {"content": content, "style": style, "style_key": ["a", "b"], "positions": positions.expand(2, -1, -1)}
    output = module(content, style)
    assert 0 < (output - content).abs().mean() < 0.05  # starts near the photo
    with torch.no_grad():
        assert (module(content, 0.2 * style) - output).abs().mean() > 1e-5  # and depends on the painting (0 if not)
    total, _ = module.objective(batch, output)
    total.backward()
    for part in (module.net.style_mlp, module.net.to_mods, module.net.blocks, module.net.ups):
        grads = [p.grad for p in part.parameters() if p.grad is not None]
        assert grads and sum(float(g.norm()) for g in grads) > 0
