"""`strotss demo` end to end at toy settings: every stage writes its output, and a rerun resumes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from strotss.assets import asset_path
from strotss.cli import main


@pytest.mark.slow
def test_demo_runs_end_to_end_and_resumes(tmp_path, capsys):
    out = tmp_path / "demo"
    args = ["demo", "-o", str(out), "--size", "64", "--iters", "3", "--train-minutes", "0.15"]
    assert main(args) == 0
    stylized = [f"stylized/kodak_kodim16_{m}.png" for m in ("short_run", "wheat_field", "arbitrary_starry_night")]
    for name in ("teacher.png", "wheat_field.onnx", "comparison.png", *stylized):
        assert (out / name).is_file(), name
    photo = np.asarray(Image.open(asset_path("content/kodak_kodim16.jpg")))
    outputs = [np.asarray(Image.open(out / name), dtype=float) for name in stylized]
    assert all(o.shape == photo.shape for o in outputs)
    assert np.abs(outputs[1] - photo).mean() > 10  # the bundled model really stylizes
    assert list(out.glob("train/**/checkpoints/last.ckpt"))
    assert "objective (α = 1, lower is better): short run" in capsys.readouterr().out

    teacher_written = (out / "teacher.png").stat().st_mtime_ns
    assert main(args) == 0
    assert (out / "teacher.png").stat().st_mtime_ns == teacher_written
