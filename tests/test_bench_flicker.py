"""`strotss bench flicker`: synthetic clips with exact geometry and the warping error on real photos."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from strotss import cli
from strotss.assets import asset_path
from strotss.bench.clips import MOTIONS, make_clip, render
from strotss.bench.flicker import warping_error
from strotss.imageio import read_rgb

PHOTO = asset_path("content/kodak_kodim01.jpg")


@pytest.fixture(autouse=True)
def only_bench(monkeypatch):
    """Build the CLI from the verb under test, independent of other verbs' progress."""
    monkeypatch.setattr(cli, "VERBS", ("bench",))


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return read_rgb(PHOTO)


def test_integer_translation_of_the_photo_is_exact(photo):
    """Frames that are integer shifts of the photo warp onto each other without any error."""
    n = 5
    affines = np.tile(np.eye(3), (n, 1, 1))
    affines[:, 0, 2], affines[:, 1, 2] = 20 + 3 * np.arange(n), 10 + np.arange(n)
    frames = render(photo, affines, (120, 200))
    assert np.array_equal(frames[0], photo[10:130, 20:220])
    mae, rmse = warping_error(frames, affines)
    assert mae < 0.01 and rmse < 0.01


@pytest.mark.parametrize("motion", MOTIONS)
def test_noise_flickers_and_a_colour_map_stays_at_the_floor(photo, motion):
    """Frame-independent noise scores far above the input; a fixed per-pixel colour map scores at its floor."""
    clip = make_clip(photo, "kodim01", motion, 96, 5)
    floor, _ = warping_error(clip.frames, clip.affines)
    noise = np.random.default_rng(0).integers(-20, 21, clip.frames.shape)
    noisy = np.clip(clip.frames.astype(int) + noise, 0, 255).astype(np.uint8)
    inverted = 255 - clip.frames
    gamma = (255 * (np.arange(256) / 255) ** 0.6 + 0.5).astype(np.uint8)[clip.frames]
    assert 0.3 < floor < 4
    assert warping_error(noisy, clip.affines)[0] > 3 * floor + 5
    assert warping_error(inverted, clip.affines)[0] == pytest.approx(floor, rel=1e-3)
    assert warping_error(gamma, clip.affines)[0] == pytest.approx(floor, rel=0.3)


def test_clip_frames_stay_inside_the_photo(photo):
    """Every frame of every motion is the photo resampled, with no border padding."""
    for motion in MOTIONS:
        clip = make_clip(photo, "kodim01", motion, 64, 12)
        assert clip.frames.shape == (12, 43, 64, 3)
        corners = clip.affines @ np.array([[0, 0, 1], [63, 42, 1]], dtype=float).T
        assert corners[:, 0].min() >= 0 and corners[:, 0].max() <= photo.shape[1] - 1
        assert corners[:, 1].min() >= 0 and corners[:, 1].max() <= photo.shape[0] - 1


def test_cli_writes_clips_and_reads_them_back(tmp_path: Path, capsys):
    """--write-clips writes frames and affines that reproduce them from the photo; --images reads the layout."""
    from strotss.models import create_model, save_model

    save_model(tmp_path / "tiny.pt", create_model("per_style", channels=(8, 16, 24), num_blocks=2),
               {"model_kwargs": {"channels": (8, 16, 24), "num_blocks": 2}})
    clips = tmp_path / "clips"
    args = ["bench", "flicker", "--photos", str(PHOTO), "--size", "400", "--frames", "3",
            "--write-clips", str(clips), "--model", f"tiny={tmp_path / 'tiny.pt'}"]
    assert cli.main(args) == 0
    assert sorted(p.name for p in clips.iterdir()) == [f"kodak_kodim01_{m}" for m in sorted(MOTIONS)]
    record = json.loads((clips / "kodak_kodim01_rotate" / "affines.json").read_text())
    assert [f["file"] for f in record["frames"]] == ["frame_000.png", "frame_001.png", "frame_002.png"]
    last = np.array(record["frames"][-1]["affine"])
    written = read_rgb(clips / "kodak_kodim01_rotate" / "frame_002.png")
    redone = render(read_rgb(PHOTO), last[None], written.shape[:2])[0]
    assert np.abs(redone.astype(int) - written).mean() < 4
    capsys.readouterr()
    assert cli.main(args[:8] + ["--images", f"same={clips}"]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert rows["same"] == rows["input"] and rows["same"][-1] == "3"


def test_cli_runs_a_conditioned_model_at_each_alpha(tmp_path: Path, capsys):
    """--alpha gives a model conditioned on α one row per content weight, with different frames; a weight
    outside its trained range is a one-line error."""
    from strotss.models import create_model, save_model

    kwargs = {"channels": (8, 16, 24), "num_blocks": 2, "alpha_range": (1.0, 8.0), "alpha": 4.0}
    net = create_model("per_style", **kwargs)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.3 * torch.randn_like(p))
    save_model(tmp_path / "knob.pt", net, {"model_kwargs": kwargs})
    args = ["bench", "flicker", "--photos", str(PHOTO), "--size", "96", "--frames", "3",
            "--model", f"knob={tmp_path / 'knob.pt'}"]
    assert cli.main(args + ["--alpha", "1", "8"]) == 0
    rows = {line.split("  ")[0].strip(): line for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert "knob α=1" in rows and "knob α=8" in rows and rows["knob α=1"] != rows["knob α=8"]
    assert cli.main(args + ["--alpha", "0.5"]) != 0
    assert "trained for α from 1 to 8" in capsys.readouterr().err
