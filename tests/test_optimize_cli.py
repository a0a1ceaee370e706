"""`strotss optimize` on bad input: one clear line, exit code 2, never a traceback; odd modes are converted."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from strotss.assets import asset_path
from strotss.cli import main

CONTENT = str(asset_path("content/kodak_kodim16.jpg"))
STYLE = str(asset_path("style/pnst_vg_wheat_field.jpg"))
FAST = ["--size", "64", "--iters", "1", "--weights", "random", "-q", "--positions", "256", "--style-samples", "256"]


def run_cli(capsys, *argv):
    """Run the CLI in-process; return exit code and stderr."""
    code = main(list(argv))
    return code, capsys.readouterr().err


def assert_one_line_error(code, err, *needles):
    assert code == 2
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for n in needles:
        assert n in err


def test_missing_image(capsys, tmp_path):
    code, err = run_cli(capsys, "optimize", str(tmp_path / "nope.jpg"), STYLE, "-o", str(tmp_path / "o.png"), *FAST)
    assert_one_line_error(code, err, "nope.jpg", "not found")


def test_corrupt_image(capsys, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(Image.open(CONTENT).tobytes()[:500])
    code, err = run_cli(capsys, "optimize", str(bad), STYLE, "-o", str(tmp_path / "o.png"), *FAST)
    assert_one_line_error(code, err, "bad.jpg")
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(open(CONTENT, "rb").read()[:3000])
    code, err = run_cli(capsys, "optimize", str(truncated), STYLE, "-o", str(tmp_path / "o.png"), *FAST)
    assert_one_line_error(code, err, "truncated.jpg", "corrupt")


@pytest.mark.parametrize("mode", ["L", "RGBA", "I;16", "CMYK", "P"])
def test_other_modes_are_converted(capsys, tmp_path, mode):
    src = Image.open(CONTENT).convert("RGB")
    if mode == "I;16":
        img = Image.fromarray((np.asarray(src.convert("L"), dtype=np.uint16) * 257))
        path = tmp_path / "sixteen.png"
    else:
        img = src.convert(mode)
        path = tmp_path / f"img_{mode}.{'jpg' if mode == 'CMYK' else 'png'}"
    img.save(path)
    out = tmp_path / "o.png"
    code, err = run_cli(capsys, "optimize", str(path), STYLE, "-o", str(out), *FAST)
    assert code == 0, err
    assert Image.open(out).mode == "RGB"


def test_masks_of_another_size_are_resized(capsys, tmp_path):
    """A mask drawn at another scale of its image's shape is resized to it."""
    cm = tmp_path / "cm.png"
    mask = Image.open(asset_path("guidance/content_mask.png"))
    mask.resize((mask.width // 2, mask.height // 2), Image.NEAREST).save(cm)
    out = tmp_path / "o.png"
    code, err = run_cli(capsys, "optimize", CONTENT, STYLE, "-o", str(out), *FAST,
                        "--regions", str(cm), str(asset_path("guidance/style_mask.png")))
    assert code == 0, err
    assert out.exists()


def test_masks_of_another_shape_are_refused(capsys, tmp_path):
    """A mask whose aspect differs from its image's was drawn for another picture: one line, no output."""
    cm = tmp_path / "cm.png"
    Image.open(asset_path("guidance/content_mask.png")).resize((100, 37), Image.NEAREST).save(cm)
    out = tmp_path / "o.png"
    code, err = run_cli(capsys, "optimize", CONTENT, STYLE, "-o", str(out), *FAST,
                        "--regions", str(cm), str(asset_path("guidance/style_mask.png")))
    assert_one_line_error(code, err, "cm.png", "100×37 px", "another picture")
    assert not out.exists()


def test_mask_colour_without_partner(capsys, tmp_path):
    cm = np.array(Image.open(asset_path("guidance/content_mask.png")).convert("RGB"))
    cm[:20, :60] = (255, 0, 0)
    path = tmp_path / "cm_red.png"
    Image.fromarray(cm).save(path)
    code, err = run_cli(capsys, "optimize", CONTENT, STYLE, "-o", str(tmp_path / "o.png"), *FAST,
                        "--regions", str(path), str(asset_path("guidance/style_mask.png")))
    assert_one_line_error(code, err, "cm_red.png", "(255, 0, 0)", "no partner")


def test_image_smaller_than_coarsest_scale(capsys, tmp_path):
    tiny = tmp_path / "tiny.png"
    Image.open(CONTENT).resize((40, 27)).save(tiny)
    code, err = run_cli(capsys, "optimize", str(tiny), STYLE, "-o", str(tmp_path / "o.png"), *FAST)
    assert_one_line_error(code, err, "tiny.png", "coarsest scale")


def test_unwritable_output(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, err = run_cli(capsys, "optimize", CONTENT, STYLE, "-o", str(blocker / "o.png"), *FAST)
    assert_one_line_error(code, err, "o.png", "cannot write")


def test_bad_points_file(capsys, tmp_path):
    pts = tmp_path / "pts.txt"
    pts.write_text("10 20 30\n")
    code, err = run_cli(capsys, "optimize", CONTENT, STYLE, "-o", str(tmp_path / "o.png"), *FAST, "--points", str(pts))
    assert_one_line_error(code, err, "pts.txt:1", "four numbers")


def test_points_and_log_json(capsys, tmp_path):
    pts = tmp_path / "pts.txt"
    pts.write_text("# content_x content_y style_x style_y\n100 200 150 300\n400, 50, 300, 40\n")
    log = tmp_path / "log.json"
    code, err = run_cli(capsys, "optimize", CONTENT, STYLE, "-o", str(tmp_path / "o.png"), *FAST,
                        "--points", str(pts), "--log-json", str(log))
    assert code == 0, err
    history = json.loads(log.read_text())["history"]
    assert len(history) == 1 and {"total", "content", "remd", "moment", "palette"} <= set(history[0])


def test_failed_run_keeps_the_previous_output(capsys, tmp_path):
    """Checking the output path early must not touch an existing result when the run then fails."""
    out = tmp_path / "o.png"
    out.write_bytes(b"previous result")
    code, err = run_cli(capsys, "optimize", str(tmp_path / "missing.jpg"), STYLE, "-o", str(out), *FAST)
    assert code == 2
    assert out.read_bytes() == b"previous result"


def test_optimizer_flags_default_to_the_settings_dataclass():
    """`optimize` and `teach` take every optimizer default from StrotssConfig, declared once."""
    from strotss.cli import build_parser
    from strotss.commands import optimize, teach
    from strotss.flags import from_flags
    from strotss.teacher.config import StrotssConfig

    args = build_parser().parse_args(["optimize", CONTENT, STYLE, "-o", "out.png"])
    assert from_flags(StrotssConfig, args, optimize.SETTINGS + optimize.LATE_SETTINGS) == StrotssConfig()
    args = build_parser().parse_args(["teach", "--out", "teacher"])
    assert from_flags(StrotssConfig, args, teach.SETTINGS) == StrotssConfig()
