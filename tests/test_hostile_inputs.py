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
FAST = ["--size", "64", "--iters", "1", "--weights", "random", "-q", "--positions", "64", "--style-samples", "64"]


def rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A random H×W×3 uint8 image."""
    return (np.random.default_rng(seed).random((h, w, 3)) * 255).astype(np.uint8)


def fails_in_one_line(capsys, argv: list[str], *needles: str) -> str:
    """Run the CLI in-process; assert exit code 2 and one error line, the last on stderr, holding every needle.

    Progress bars (stylize draws them on stderr) may come before it; nothing else may.
    """
    code = cli.main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert "Traceback" not in err and lines[-1].startswith(f"strotss {argv[0]}: error: "), err
    assert not any(line.startswith("strotss ") for line in lines[:-1]), err
    for needle in needles:
        assert needle in lines[-1], err
    return lines[-1]


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
    from strotss.student import Student
    from strotss.errors import UserError

    with pytest.raises(UserError, match="weights only"):
        Student(evil)
    assert not marker.exists()


# 2. `stylize` never writes over an input, and never writes two inputs to one output.

def test_stylize_refuses_to_replace_its_inputs(tmp_path, capsys, model):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(2):
        write_image(photos / f"p{i}.jpg", rgb(20, 30, i))
    before = {p.name: p.read_bytes() for p in photos.iterdir()}
    fails_in_one_line(capsys, ["stylize", str(model), str(photos), "-o", str(photos)], "is also an input")
    fails_in_one_line(capsys, ["stylize", str(model), str(photos / "p0.jpg"), "-o", str(photos / "p0.jpg")],
                      "p0.jpg", "is also an input")
    fails_in_one_line(capsys, ["stylize", str(model), str(photos / "p0.jpg"), "-o", str(photos / ".." / "photos" /
                                                                                      "p0.jpg")], "is also an input")
    assert {p.name: p.read_bytes() for p in photos.iterdir()} == before


def test_stylize_refuses_two_inputs_for_one_output(tmp_path, capsys, model):
    for d in ("d1", "d2"):
        (tmp_path / d).mkdir()
        write_image(tmp_path / d / "x.jpg", rgb(20, 20, len(d)))
    fails_in_one_line(capsys, ["stylize", str(model), str(tmp_path / "d1"), str(tmp_path / "d2"), "-o",
                               str(tmp_path / "out")], "d1/x.jpg and", "d2/x.jpg", "out/x.jpg")
    assert not (tmp_path / "out").exists()


# 3. Sizes beyond what the machine can hold are refused before any work, in one line.

def test_optimize_size_beyond_memory(tmp_path, capsys):
    out = tmp_path / "o.png"
    fails_in_one_line(capsys, ["optimize", CONTENT, STYLE, "-o", str(out), *FAST, "--size", "100000"],
                      "--size 100000", "needs about", "TiB of memory", "use --size")
    assert not out.exists()


def test_optimize_memory_estimate_uses_free_memory(tmp_path, capsys, monkeypatch):
    from strotss.teacher import optimizer

    monkeypatch.setattr(optimizer, "available_bytes", lambda: 10 * 2**20)
    fails_in_one_line(capsys, ["optimize", CONTENT, STYLE, "-o", str(tmp_path / "o.png"), *FAST, "--size", "256"],
                      "--size 256 (a 256×", "10 MiB is available")


def test_stylize_size_beyond_memory_and_too_large_images_are_skipped(tmp_path, capsys, model, monkeypatch):
    write_image(tmp_path / "a.png", rgb(40, 40))
    fails_in_one_line(capsys, ["stylize", str(model), str(tmp_path / "a.png"), "-o", str(tmp_path / "o.png"),
                               "--size", "100000"], "--size 100000", "needs about", "use a smaller --size")
    assert not (tmp_path / "o.png").exists()
    from strotss.export import runtime

    folder = tmp_path / "in"
    folder.mkdir()
    write_image(folder / "big.png", rgb(200, 200))
    write_image(folder / "small.png", rgb(20, 20))
    monkeypatch.setattr(runtime, "available_bytes", lambda: 600 * 100 * 100)
    assert cli.main(["stylize", str(model), str(folder), "-o", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "skipped" in err and "big.png: a 200×200 px image needs about" in err
    assert tree(tmp_path / "out") == ["small.png"]


# 4. Output formats are checked before the work.

@pytest.mark.parametrize("suffix", [".xyz", ".xbm", ".grib"])
def test_optimize_checks_the_output_format_first(tmp_path, capsys, suffix):
    """The output is refused before the inputs are even read (a missing input would be reported otherwise)."""
    out = tmp_path / f"o{suffix}"
    fails_in_one_line(capsys, ["optimize", str(tmp_path / "missing.jpg"), STYLE, "-o", str(out), *FAST],
                      f"o{suffix}", "use .png or .jpg")
    assert tree(tmp_path) == []


# 5. and 12. are in test_train_safety.py.

# 6. Thin and tiny images.

def test_optimize_thin_image(tmp_path, capsys):
    write_image(tmp_path / "thin.png", rgb(3, 2000))
    fails_in_one_line(capsys, ["optimize", str(tmp_path / "thin.png"), STYLE, "-o", str(tmp_path / "o.png"), *FAST],
                      "thin.png: 2000×3 px is too thin", "at most 4:1")
    write_image(tmp_path / "four.png", rgb(100, 400))
    assert cli.main(["optimize", str(tmp_path / "four.png"), STYLE, "-o", str(tmp_path / "o.png"), *FAST]) == 0
    assert read_rgb(tmp_path / "o.png").shape == (16, 64, 3)


def test_gui_refine_names_a_thin_image(tmp_path):
    import threading

    from strotss.errors import UserError
    from strotss.gui.jobs import RefineJob, run_refine

    job = RefineJob(tmp_path / "edit", rgb(3, 2000), rgb(64, 64), 64, 1.0, 0, 1, weights="random")
    with pytest.raises(UserError, match="too thin"):
        list(run_refine(job, threading.Event()))


@pytest.mark.parametrize("hw", [(1, 1), (3, 2), (2, 64), (64, 2), (4, 4)])
def test_stylize_tiny_images(tmp_path, model, hw):
    write_image(tmp_path / "t.png", rgb(*hw))
    assert cli.main(["stylize", str(model), str(tmp_path / "t.png"), "-o", str(tmp_path / "o.png")]) == 0
    assert read_rgb(tmp_path / "o.png").shape == (*hw, 3)


def test_tiny_images_match_between_torch_and_onnx(checkpoint, model):
    from strotss.export.runtime import StyleModel, image_to_batch
    from strotss.models import load_model

    net, _ = load_model(checkpoint)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    runtime = StyleModel(model)
    for hw in [(1, 1), (3, 2), (2, 64), (6, 7)]:
        x = image_to_batch(rgb(*hw))
        with torch.no_grad():
            assert net(torch.from_numpy(x)).shape == (1, 3, *hw)
        assert runtime(x).shape == (1, 3, *hw)


# 7. nan and impossible settings never end in garbage with exit code 0.

def test_nan_alpha_and_strength(tmp_path, capsys, model):
    fails_in_one_line(capsys, ["optimize", CONTENT, STYLE, "-o", str(tmp_path / "o.png"), *FAST, "--alpha", "nan"],
                      "--alpha nan")
    write_image(tmp_path / "a.png", rgb(16, 16))
    for strength in ("nan", "-1", "2"):
        fails_in_one_line(capsys, ["stylize", str(model), str(tmp_path / "a.png"), "-o", str(tmp_path / "o.png"),
                                   "--strength", strength], f"--strength {float(strength)}")
    assert tree(tmp_path) == ["a.png"]


@pytest.mark.parametrize("opset", ["99", "17", "0"])
def test_export_opset_out_of_range(tmp_path, capsys, checkpoint, opset):
    fails_in_one_line(capsys, ["export", str(checkpoint), "-o", str(tmp_path / "m.onnx"), "--opset", opset],
                      f"--opset {opset}", "from 18 to")
    assert tree(tmp_path) == []


def test_export_refuses_an_opset_the_converter_did_not_reach(tmp_path, checkpoint, monkeypatch):
    """When the exporter silently keeps another opset, export fails instead of writing the wrong one."""
    import onnx

    from strotss.errors import UserError
    from strotss.export import onnx_export

    monkeypatch.setattr(onnx.defs, "onnx_opset_version", lambda: 200)
    with pytest.raises(UserError, match="could not convert this network to opset 150"):
        with contextlib.redirect_stdout(io.StringIO()):
            onnx_export.export_onnx(checkpoint, tmp_path / "m.onnx", opset=150)
    assert tree(tmp_path) == []


# 8. Numbers and devices are checked before any work.

@pytest.mark.parametrize("flag, value, needle", [("--iters", "0", "--iters 0: must be ≥ 1"),
                                                 ("--iters", "-3", "--iters -3: must be ≥ 1"),
                                                 ("--positions", "0", "--positions 0: must be ≥ 1"),
                                                 ("--style-samples", "0", "--style-samples 0"),
                                                 ("--init-scales", "0", "--init-scales 0: must be ≥ 1"),
                                                 ("--lr", "-1", "--lr -1.0"),
                                                 ("--device", "bogus", "--device bogus: unknown device")])
def test_optimize_numbers(tmp_path, capsys, flag, value, needle):
    fails_in_one_line(capsys, ["optimize", CONTENT, STYLE, "-o", str(tmp_path / "o.png"), *FAST, flag, value], needle)
    assert tree(tmp_path) == []


def test_teach_and_demo_numbers(tmp_path, capsys):
    fails_in_one_line(capsys, ["teach", "--content", CONTENT, "--style", STYLE, "--out", str(tmp_path / "t"),
                               "--iters", "0"], "--iters 0: must be ≥ 1")
    fails_in_one_line(capsys, ["demo", "-o", str(tmp_path / "d"), "--train-minutes", "-1"], "--train-minutes -1")
    fails_in_one_line(capsys, ["demo", "-o", str(tmp_path / "d"), "--size", "10"], "--size 10: must be ≥ 64")
    assert tree(tmp_path) == []


# 9. Text inputs that are not UTF-8.

def test_points_file_not_utf8(tmp_path, capsys):
    latin = tmp_path / "latin.txt"
    latin.write_bytes("# café\n10 20 30 40\n".encode("latin-1"))
    binary = tmp_path / "binary.txt"
    binary.write_bytes(bytes(range(256)))
    argv = ["optimize", CONTENT, STYLE, "-o", str(tmp_path / "o.png"), *FAST, "--points"]
    fails_in_one_line(capsys, [*argv, str(latin)], "latin.txt:1: not UTF-8 text (byte 0xe9)")
    fails_in_one_line(capsys, [*argv, str(binary)], "binary.txt: is a binary file")


def test_pairs_csv_not_utf8(tmp_path, capsys):
    from strotss.errors import UserError
    from strotss.train.teach import read_pairs

    binary = tmp_path / "pairs.csv"
    binary.write_bytes(b"content,style\n\x00\xff\xfe" * 10)
    fails_in_one_line(capsys, ["teach", "--pairs", str(binary), "--out", str(tmp_path / "t")], "is a binary file")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("content,style\ncafé.jpg,s.jpg\n".encode("latin-1"))
    with pytest.raises(UserError, match="latin.csv:2: not UTF-8"):
        read_pairs(str(latin))
    bom = tmp_path / "bom.csv"
    bom.write_bytes("content,style\na.jpg,b.jpg\n".encode("utf-8-sig"))
    assert read_pairs(str(bom)) == [(tmp_path / "a.jpg", tmp_path / "b.jpg")]
    assert not (tmp_path / "t").exists()


# 10. A video corrupt mid-stream is skipped like a bad image, with the reason.

def _video(path: pathlib.Path, frames: int = 30) -> pathlib.Path:
    """A small MPEG-4 video of random frames."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=8)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(rgb(48, 64, i), format="rgb24")))
        out.mux(stream.encode(None))
    return path


def test_corrupt_video_is_skipped_with_its_reason(tmp_path, capsys, model):
    good = _video(tmp_path / "good.mp4")
    data = bytearray(good.read_bytes())
    data[len(data) // 2: len(data) // 2 + 2000] = b"\xff" * 2000
    (tmp_path / "bad.mp4").write_bytes(bytes(data))
    write_image(tmp_path / "a.png", rgb(20, 20))
    out = tmp_path / "out"
    assert cli.main(["stylize", str(model), str(tmp_path / "bad.mp4"), str(good), str(tmp_path / "a.png"),
                     "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "skipped" in err and "bad.mp4: corrupt video data after frame" in err and "Traceback" not in err
    assert tree(out) == ["a.png", "good.mp4"]
    fails_in_one_line(capsys, ["stylize", str(model), str(tmp_path / "bad.mp4"), "-o", str(tmp_path / "v.mp4")],
                      "bad.mp4: corrupt video data")
    assert not (tmp_path / "v.mp4").exists()


# 11. Paths: folders named like files, files in the middle of paths, folders left by failed runs, taken ports.

def test_output_names_an_existing_folder(tmp_path, capsys, model, checkpoint):
    (tmp_path / "d.png").mkdir()
    (tmp_path / "d.onnx").mkdir()
    write_image(tmp_path / "a.png", rgb(20, 20))
    assert cli.main(["stylize", str(model), str(tmp_path / "a.png"), "-o", str(tmp_path / "d.png")]) == 0
    assert tree(tmp_path / "d.png") == ["a.png"]
    fails_in_one_line(capsys, ["optimize", CONTENT, STYLE, "-o", str(tmp_path / "d.png"), *FAST], "is a folder")
    fails_in_one_line(capsys, ["export", str(checkpoint), "-o", str(tmp_path / "d.onnx")], "d.onnx: is a folder")


def test_output_below_a_file(tmp_path, capsys, model, checkpoint):
    write_image(tmp_path / "c.jpg", rgb(20, 20))
    needle = "c.jpg is a file, not a folder"
    fails_in_one_line(capsys, ["optimize", CONTENT, STYLE, "-o", str(tmp_path / "c.jpg" / "o.png"), *FAST], needle)
    fails_in_one_line(capsys, ["stylize", str(model), str(tmp_path / "c.jpg"), "-o",
                               str(tmp_path / "c.jpg" / "o.png")], needle)
    fails_in_one_line(capsys, ["export", str(checkpoint), "-o", str(tmp_path / "c.jpg" / "m.onnx")], needle)


def test_failed_runs_leave_no_folders(tmp_path, capsys, model):
    from strotss.imageio import atomic_output

    fails_in_one_line(capsys, ["optimize", str(tmp_path / "missing.jpg"), STYLE, "-o",
                               str(tmp_path / "new" / "sub" / "o.png"), *FAST], "missing.jpg")
    (tmp_path / "broken.png").write_bytes(b"not an image")
    fails_in_one_line(capsys, ["stylize", str(model), str(tmp_path / "broken.png"), "-o",
                               str(tmp_path / "new" / "o.png")], "broken.png")
    with pytest.raises(RuntimeError):
        with atomic_output(tmp_path / "new" / "sub" / "o.bin") as fh:
            fh.write(b"partial")
            raise RuntimeError("the writer failed half way")
    assert tree(tmp_path) == ["broken.png"]


def test_gui_port_taken(capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        fails_in_one_line(capsys, ["gui", "--port", str(port)], f"--port {port}: already in use")
    fails_in_one_line(capsys, ["gui", "--port", "70000"], "--port 70000: must be from 1 to 65535")


# 13. GUI upload messages.

def test_gui_huge_upload_names_the_pixel_limit(tmp_path):
    """A PNG header claiming 30000×30000 px: refused for its size, not called 'not an image'."""
    import struct
    import zlib

    from strotss.errors import UserError
    from strotss.gui.inputs import load_upload

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    (tmp_path / "huge.png").write_bytes(png + b"\x00\x00\x00\x00IEND\xaeB`\x82")
    with pytest.raises(UserError, match=r"huge.png\): over Pillow's safety limit of \d+ MP and this page's "
                                        r"limit of 16.8 MP") as exc:
        load_upload(tmp_path / "huge.png", 4096 * 4096, "content image")
    assert "not an image" not in str(exc.value)


def test_gui_truncated_upload_hides_the_server_path(tmp_path):
    from strotss.errors import UserError
    from strotss.gui.inputs import load_upload

    upload = tmp_path / "gradio" / "0123abcd"
    upload.mkdir(parents=True)
    buf = io.BytesIO()
    Image.fromarray(rgb(64, 64)).save(buf, format="PNG")
    (upload / "photo.png").write_bytes(buf.getvalue()[:400])
    with pytest.raises(UserError) as exc:
        load_upload(upload / "photo.png", 4096 * 4096, "content image")
    message = str(exc.value)
    assert message.startswith("content image (photo.png): image is corrupt or truncated")
    assert str(tmp_path) not in message and "0123abcd" not in message


def test_runtime_stays_free_of_torch():
    """The new output and memory checks keep `strotss stylize` importable without torch."""
    code = ("import sys, strotss.outputs, strotss.memory, strotss.textfiles, strotss.commands.stylize, "
            "strotss.export.runtime; assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
