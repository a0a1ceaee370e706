"""Issue 10, hostile and careless inputs: each case ends in one line and exit code 2 (or is handled), loses no
data, runs no code from files, and leaves no file or folder behind."""

from __future__ import annotations

import contextlib
import io
import os
import pathlib
import subprocess
import sys

import av
import numpy as np
import pytest
import torch
from PIL import Image

from strotss import cli
from strotss.assets import asset_path
from strotss.imageio import read_rgb, write_image

CONTENT = str(asset_path("content/kodak_kodim16.jpg"))
STYLE = str(asset_path("style/pnst_vg_wheat_field.jpg"))
FAST = ["--size", "64", "--iters", "1", "--weights", "random", "-q", "--samples", "64", "--style-samples", "64"]


def rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A random H×W×3 uint8 image."""
    return (np.random.default_rng(seed).random((h, w, 3)) * 255).astype(np.uint8)


def fails_in_one_line(capsys, argv: list[str], *needles: str) -> str:
    """Run the CLI in-process; assert exit code 2 and a single stderr line holding every needle; return it."""
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err
    return err


def tree(folder: pathlib.Path) -> list[str]:
    """Every path under folder, relative and sorted, to show that a failed run changed nothing."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> pathlib.Path:
    """A tiny per-style strotss checkpoint."""
    from strotss.models import create_model, save_model

    kwargs = {"channels": (8, 16, 24), "num_blocks": 1}
    return save_model(tmp_path_factory.mktemp("ckpt") / "p.pt", create_model("per_style", **kwargs),
                      {"model_kwargs": kwargs})


@pytest.fixture(scope="module")
def model(checkpoint) -> pathlib.Path:
    """The tiny checkpoint exported to ONNX."""
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["export", str(checkpoint), "-o", str(checkpoint.with_suffix(".onnx"))]) == 0
    return checkpoint.with_suffix(".onnx")


# 1. A crafted checkpoint must not run code.

class _Payload:
    """Unpickling this calls `action(marker)`: what a hostile checkpoint would do."""

    def __init__(self, action, marker: pathlib.Path) -> None:
        self.action, self.marker = action, marker

    def __reduce__(self):
        if self.action == "system":
            return os.system, (f"touch {self.marker}",)
        return pathlib.Path.touch, (self.marker,)


@pytest.mark.parametrize("action", ["system", "touch"])
def test_crafted_checkpoint_runs_no_code(tmp_path, capsys, checkpoint, action):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.ckpt"
    good = torch.load(checkpoint, weights_only=True)
    torch.save({"strotss": _Payload(action, marker), "state_dict": good["state_dict"]}, evil)
    fails_in_one_line(capsys, ["export", str(evil), "-o", str(tmp_path / "e.onnx")], "evil.ckpt", "weights only")
    assert not marker.exists() and not (tmp_path / "e.onnx").exists()
    from strotss.gui.student import Student
    from strotss.errors import UserError

    with pytest.raises(UserError, match="weights only"):
        Student(evil)
    assert not marker.exists()
