"""Issue 20, hostile and careless inputs, round two: each case ends in one line and exit code 2 (or is handled),
before the long work, and leaves nothing behind."""

from __future__ import annotations

import contextlib
import io
import os
import pathlib
import socket
import subprocess
import sys

import numpy as np
import pytest

from strotss import cli
from strotss.imageio import write_image
from test_hostile_inputs import fails_in_one_line, rgb, tree  # shared CLI assertion helpers

REPO = pathlib.Path(__file__).resolve().parent.parent


def image_folder(folder: pathlib.Path, *names: str, shape: tuple[int, int] = (20, 30)) -> pathlib.Path:
    """A new folder holding a small RGB image under each of these names."""
    folder.mkdir()
    for name in names:
        write_image(folder / name, rgb(*shape))
    return folder


@pytest.fixture()
def photo(tmp_path) -> pathlib.Path:
    """A small RGB photo."""
    return write_image(tmp_path / "p.png", rgb(20, 30))


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> pathlib.Path:
    """A tiny per-style network exported to ONNX."""
    from strotss.models import create_model, save_model

    kwargs = {"channels": (8, 16, 24), "num_blocks": 1}
    folder = tmp_path_factory.mktemp("model")
    ckpt = save_model(folder / "tiny.pt", create_model("per_style", **kwargs), {"model_kwargs": kwargs})
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["export", str(ckpt), "-o", str(folder / "tiny.onnx")]) == 0
    return folder / "tiny.onnx"


# 7. ONNX files with our metadata but not our contract are refused on load.

def onnx_file(path: pathlib.Path, kind: str = "per_style", input_name: str = "image", rank: int = 4,
              out_channels: int = 3, **meta: str) -> pathlib.Path:
    """A small ONNX graph (identity, or a channel mean for a 1-channel output) carrying strotss metadata."""
    import onnx
    from onnx import TensorProto, helper

    dims = ["N", 3, "H", "W"][:rank]
    inputs = [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, dims)]
    if kind == "arbitrary_stylizer":
        inputs.append(helper.make_tensor_value_info("code", TensorProto.FLOAT, ["N", 8]))
    node = (helper.make_node("ReduceMean", [input_name], ["stylized"], keepdims=1, axes=[1]) if out_channels == 1
            else helper.make_node("Identity", [input_name], ["stylized"]))
    output = helper.make_tensor_value_info("stylized", TensorProto.FLOAT, ["N", out_channels, "H", "W"][:rank])
    graph = onnx.helper.make_model(helper.make_graph([node], "g", inputs, [output]),
                                   opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    for key, value in {"kind": kind, "stride": "4", **meta}.items():
        entry = graph.metadata_props.add()
        entry.key, entry.value = f"strotss.{key}", value
    onnx.checker.check_model(graph)
    onnx.save(graph, path)
    return path


BROKEN_CONTRACTS = [
    ({"input_name": "x"}, "its inputs are ['x'], where a per_style graph takes ['image']"),
    ({"rank": 2}, "input 'image' is a rank-2 tensor(float), not a rank-4 float tensor"),
    ({"out_channels": 1}, "its output has 1 channel(s), not 3 (RGB)"),
    ({"stride": "abc"}, "strotss.stride is 'abc', not a whole number from 1 to 64"),
    ({"stride": "0"}, "strotss.stride is '0'"),
    ({"stride": "100000"}, "strotss.stride is '100000'"),
    ({"kind": "arbitrary_stylizer", "style_graph": "../../etc/passwd"},
     "strotss.style_graph is '../../etc/passwd', not a plain file name beside the model"),
    ({"kind": "arbitrary_stylizer", "style_graph": "/etc/passwd"}, "strotss.style_graph is '/etc/passwd'"),
    ({"kind": "arbitrary_stylizer", "style_size": "abc"}, "strotss.style_size is 'abc'"),
]


@pytest.mark.parametrize("spec, needle", BROKEN_CONTRACTS, ids=[n.split(" is ")[0] for _, n in BROKEN_CONTRACTS])
def test_stylize_refuses_onnx_files_that_break_the_contract(tmp_path, capsys, photo, spec, needle):
    bad = onnx_file(tmp_path / "bad.onnx", **spec)
    fails_in_one_line(capsys, ["stylize", str(bad), str(photo), "-o", str(tmp_path / "o.png"), "--style", str(photo)],
                      "bad.onnx: carries strotss metadata but", needle, "pass a file made by `strotss export`")
    assert not (tmp_path / "o.png").exists()


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gui_refuses_an_onnx_file_that_breaks_the_contract(tmp_path):
    """The page is never served: the student is checked when it loads (a subprocess, so a served page times out)."""
    bad = onnx_file(tmp_path / "bad.onnx", kind="arbitrary_stylizer", style_graph="../../etc/passwd")
    proc = subprocess.run([sys.executable, "-m", "strotss.cli", "gui", "--model", str(bad), "--port", str(free_port()),
                           "--workdir", str(tmp_path / "edits")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("strotss gui: error: "), proc.stderr
    assert "bad.onnx: carries strotss metadata but its strotss.style_graph is '../../etc/passwd'" in proc.stderr


def test_companion_must_be_a_style_encoder(tmp_path, capsys, photo):
    """A style_graph naming a plain file beside the model that is not a style encoder is refused when it loads."""
    onnx_file(tmp_path / "other.onnx")
    bad = onnx_file(tmp_path / "bad.onnx", kind="arbitrary_stylizer", style_graph="other.onnx")
    fails_in_one_line(capsys, ["stylize", str(bad), str(photo), "-o", str(tmp_path / "o.png"), "--style", str(photo)],
                      "other.onnx: not a style-encoder graph (kind per_style)")


def test_exported_and_bundled_models_keep_working(tmp_path, photo, model):
    for spec, extra in ((str(model), []), ("arbitrary", ["--style", str(photo)])):
        assert cli.main(["stylize", spec, str(photo), "-o", str(tmp_path / "o.png"), *extra]) == 0


# 6. and 16. Training settings and checkpoints that cannot work: one line before Lightning starts, nothing written.

SMOKE = str(REPO / "configs" / "cpu_smoke.yaml")


@pytest.fixture()
def cwd(tmp_path) -> pathlib.Path:
    """An empty current folder, to show that a refused run writes nothing there (no lightning_logs/)."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    return folder


def refused_in_one_line(cwd: pathlib.Path, argv: list[str], timeout: float = 300) -> str:
    """Run `strotss ARGV` in a fresh process in cwd; assert exit code 2 and one error line, the last on stderr.

    Training runs in its own process: Lightning's loggers keep the stderr of the first in-process run.
    """
    proc = subprocess.run([sys.executable, "-m", "strotss.cli", *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)})
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert lines[-1].startswith(f"strotss {argv[0]}: error: "), proc.stderr[-3000:]
    return lines[-1]


def refused_training(cwd: pathlib.Path, root: pathlib.Path, *args: str) -> str:
    """`strotss train fit --config cpu_smoke.yaml --trainer.default_root_dir ROOT ARGS` fails in one line."""
    return refused_in_one_line(cwd, ["train", "fit", "--config", SMOKE, "--trainer.default_root_dir", str(root),
                                     "--model.extractor_weights", "random", *args])


@pytest.mark.parametrize("args, needles", [
    (["--trainer.max_steps", "-5"], ["trainer: `max_steps` must be a non-negative integer or -1", "You passed in -5"]),
    (["--data.batch_size", "0"], ["data.batch_size 0: must be ≥ 1"]),
    (["--data.num_workers", "-1"], ["data.num_workers -1: must be ≥ 0"]),
    (["--data.crop", "4"], ["data.crop 4: images of 4 px are smaller than the 16 px", "use data.crop 16 or more"]),
    (["--ckpt_path", "/nope.ckpt"], ["/nope.ckpt: checkpoint not found"]),
], ids=["max_steps", "batch_size", "num_workers", "crop", "missing_ckpt"])
def test_train_refuses_bad_settings_before_lightning_starts(tmp_path, cwd, args, needles):
    line = refused_training(cwd, tmp_path / "root", *args)
    assert all(n in line for n in needles), line
    assert not (tmp_path / "root").exists() and tree(cwd) == []


def test_train_refuses_a_folder_as_checkpoint(tmp_path, cwd):
    folder = tmp_path / "ckpts"
    folder.mkdir()
    line = refused_training(cwd, tmp_path / "root", "--ckpt_path", str(folder))
    assert f"{folder}: is a folder, not a checkpoint" in line
    assert not (tmp_path / "root").exists() and tree(cwd) == []


def test_train_resume_from_a_truncated_last_checkpoint(tmp_path, cwd):
    import torch

    root = tmp_path / "root"
    (root / "checkpoints").mkdir(parents=True)
    whole = io.BytesIO()
    torch.save({"state_dict": {"w": torch.zeros(1000)}}, whole)
    (root / "checkpoints" / "last.ckpt").write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    line = refused_training(cwd, root, "--ckpt_path", "last")
    assert "checkpoints/last.ckpt: not a PyTorch checkpoint, or a truncated or corrupt one" in line
    assert tree(root) == ["checkpoints", "checkpoints/last.ckpt"] and tree(cwd) == []


def test_train_resume_with_nothing_to_resume(tmp_path, cwd):
    """`--ckpt_path last` under a mistyped (empty) root is refused instead of training from scratch."""
    root = tmp_path / "mistyped"
    line = refused_training(cwd, root, "--ckpt_path", "last")
    assert f"--ckpt_path last: no last checkpoint in {root}/checkpoints; nothing to resume" in line
    assert not root.exists() and tree(cwd) == []


# 12. A folder or a non-model file named like a bundled model does not hide it; a real model file of that name wins.

def test_bundled_name_is_not_hidden_by_an_output_folder(tmp_path, capsys, monkeypatch, model):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "photos").mkdir()
    write_image(tmp_path / "photos" / "a.png", rgb(20, 30))
    argv = ["stylize", "wheat_field", "photos", "-o", "wheat_field"]
    assert cli.main(argv) == 0
    first = (tmp_path / "wheat_field" / "a.png").read_bytes()
    capsys.readouterr()
    assert cli.main(argv) == 0
    warning = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    bundled = REPO / "strotss" / "pretrained" / "wheat_field.onnx"
    assert warning == [f"strotss: warning: {tmp_path / 'wheat_field'} is a folder; using the bundled model "
                       f"wheat_field ({bundled})"]
    assert (tmp_path / "wheat_field" / "a.png").read_bytes() == first
    (tmp_path / "starry_night").write_text("notes about the painting\n")
    assert cli.main(["stylize", "starry_night", "photos/a.png", "-o", "s.png"]) == 0
    assert "starry_night is a file but not a model; using the bundled model starry_night" in capsys.readouterr().err


def test_a_model_file_named_like_a_bundled_model_wins(tmp_path, capsys, monkeypatch, model):
    monkeypatch.chdir(tmp_path)
    write_image(tmp_path / "a.png", rgb(20, 30))
    (tmp_path / "wheat_field").write_bytes(model.read_bytes())
    assert cli.main(["stylize", "wheat_field", "a.png", "-o", "local.png"]) == 0
    assert cli.main(["stylize", str(model), "a.png", "-o", "tiny.png"]) == 0
    assert cli.main(["stylize", str(REPO / "strotss" / "pretrained" / "wheat_field.onnx"), "a.png", "-o",
                     "bundled.png"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert (tmp_path / "local.png").read_bytes() == (tmp_path / "tiny.png").read_bytes()
    assert (tmp_path / "local.png").read_bytes() != (tmp_path / "bundled.png").read_bytes()


# 16. Warm starts and masks of another shape are refused by one rule shared with the page; point files are named.

CONTENT = str(REPO / "strotss" / "assets" / "content" / "kodak_kodim16.jpg")  # 512×341
STYLE = str(REPO / "strotss" / "assets" / "style" / "pnst_vg_wheat_field.jpg")  # 512×405
FAST = ["--size", "64", "--iters", "1", "--weights", "random", "-q", "--positions", "64", "--style-samples", "64"]


def test_optimize_refuses_a_warm_start_of_another_shape(tmp_path, capsys):
    write_image(tmp_path / "square.png", rgb(100, 100))
    fails_in_one_line(capsys, ["optimize", CONTENT, STYLE, "-o", str(tmp_path / "o.png"), *FAST, "--init",
                               str(tmp_path / "square.png")],
                      "square.png: 100×100 px, but the content image", "kodim16.jpg is 512×341 px",
                      "a warm start must be the content at any scale")
    write_image(tmp_path / "half.png", rgb(171, 256))
    assert cli.main(["optimize", CONTENT, STYLE, "-o", str(tmp_path / "o.png"), *FAST, "--init",
                     str(tmp_path / "half.png")]) == 0


def test_optimize_refuses_masks_of_another_shape_like_the_page(tmp_path, capsys):
    from strotss.errors import UserError
    from strotss.imageio import check_mask_fits

    write_image(tmp_path / "square.png", np.zeros((100, 100, 3), np.uint8))
    write_image(tmp_path / "style_mask.png", np.zeros((81, 102, 3), np.uint8))
    message = fails_in_one_line(capsys, ["optimize", CONTENT, STYLE, "-o", str(tmp_path / "o.png"), *FAST,
                                         "--regions", str(tmp_path / "square.png"), str(tmp_path / "style_mask.png")],
                                "square.png: 100×100 px, but the content image is 512×341 px")
    with pytest.raises(UserError) as page:
        check_mask_fits((100, 100), (341, 512), "content mask")
    assert message.split("; ", 1)[1] == str(page.value).split("; ", 1)[1]
    assert not (tmp_path / "o.png").exists()


def test_points_outside_the_images_name_the_file(tmp_path, capsys):
    points = tmp_path / "pairs.txt"
    points.write_text("10 10 10 10\n600 10 5 5\n")
    fails_in_one_line(capsys, ["optimize", CONTENT, STYLE, "-o", str(tmp_path / "o.png"), *FAST, "--points",
                               str(points)], "pairs.txt: pair 2 (600, 10) → (5, 5) lies outside the images")


# 9. Frames too small to encode, bench quality's device and size, seeds beyond 64 bits.

def video(path: pathlib.Path, frames: int, width: int, height: int, codec: str = "mpeg4",
          pix_fmt: str = "yuv420p") -> pathlib.Path:
    """A small video of random frames."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        for i in range(frames):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(rgb(height, width, i % 7), format="rgb24")))
        out.mux(stream.encode(None))
    return path


def test_stylize_video_too_small_to_encode(tmp_path, capsys, model):
    thin = video(tmp_path / "thin.mkv", 3, 40, 1, codec="ffv1", pix_fmt="bgr0")
    fails_in_one_line(capsys, ["stylize", str(model), str(thin), "-o", str(tmp_path / "o.mkv")],
                      "thin.mkv: 40×1 px frames are too small for a video encoder (at least 2×2 px)")
    photo = write_image(tmp_path / "a.png", rgb(20, 30))
    assert cli.main(["stylize", str(model), str(thin), str(photo), "-o", str(tmp_path / "out")]) == 0
    assert f"skipped {thin}: 40×1 px frames are too small" in capsys.readouterr().err
    assert tree(tmp_path / "out") == ["a.png"]


@pytest.mark.parametrize("device, needle", [("bogus", "--device bogus: unknown device; use cpu, cuda or cuda:N"),
                                            ("cuda", "--device cuda: no CUDA GPU is visible; use --device cpu")])
def test_bench_quality_device(tmp_path, capsys, device, needle):
    import torch

    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    fails_in_one_line(capsys, ["bench", "quality", "--device", device, "--sheet", str(tmp_path / "q.png")], needle)
    assert tree(tmp_path) == []


def test_bench_quality_size_beyond_memory(tmp_path, capsys):
    fails_in_one_line(capsys, ["bench", "quality", "--size", "100000", "--device", "cpu", "--sheet",
                               str(tmp_path / "q.png")],
                      "--size 100000 (photos and paintings up to 100000×100000 px) needs about", "TiB of memory",
                      "use --size")
    assert tree(tmp_path) == []


@pytest.mark.parametrize("verb", ["optimize", "teach"])
def test_seed_beyond_64_bits(tmp_path, capsys, verb):
    seed = str(2**64)
    argv = (["optimize", CONTENT, STYLE, "-o", str(tmp_path / "o.png"), *FAST] if verb == "optimize" else
            ["teach", "--content", CONTENT, "--style", STYLE, "--out", str(tmp_path / "t")])
    fails_in_one_line(capsys, [*argv, "--seed", seed], f"--seed {seed}: must be from -2**63 to 2**64 - 1")
    assert tree(tmp_path) == []


# 14. Outputs checked up front, folders that match nothing, videos in folders, messages that say what is wrong.

def test_gui_workdir_that_is_a_file(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("x")
    fails_in_one_line(capsys, ["gui", "--workdir", str(tmp_path / "notes.txt"), "--port", str(free_port())],
                      f"--workdir {tmp_path / 'notes.txt'}: is a file, not a folder; give a folder")


def test_teach_out_that_is_a_file(tmp_path, capsys):
    (tmp_path / "t").write_text("x")
    fails_in_one_line(capsys, ["teach", "--content", CONTENT, "--style", STYLE, "--out", str(tmp_path / "t")],
                      f"--out {tmp_path / 't'}: is a file, not a folder")
    assert tree(tmp_path) == ["t"]


def test_bench_quality_sheet_format_checked_first(tmp_path, capsys):
    fails_in_one_line(capsys, ["bench", "quality", "--sheet", str(tmp_path / "o.txt"), "--teacher"],
                      "o.txt: unknown image suffix '.txt'; use .png or .jpg")
    assert tree(tmp_path) == []


def test_bench_quality_images_folder_matching_no_photo(tmp_path, capsys):
    photos = image_folder(tmp_path / "photos", "beach.png", shape=(48, 64))
    others = image_folder(tmp_path / "magenta", "stylized_0001.png", shape=(48, 64))
    argv = ["bench", "quality", "--photos", str(photos), "--images", str(others), "--size", "64", "--repeats", "1",
            "--device", "cpu", "--sheet", str(tmp_path / "q.png")]
    fails_in_one_line(capsys, argv, f"--images {others}: no image named like one of the 1 photos (beach); name each "
                                    "output <photo stem>.png")
    assert not (tmp_path / "q.png").exists()
    write_image(others / "beach.png", rgb(48, 64))
    with contextlib.redirect_stdout(io.StringIO()) as table:
        assert cli.main([*argv, "--teacher", "--teacher-iters", "1", "--cache", str(tmp_path / "cache")]) == 0
    assert "magenta" in table.getvalue() and "teacher" in table.getvalue() and (tmp_path / "q.png").is_file()


def test_stylize_processes_videos_inside_folders(tmp_path, capsys, model):
    folder = tmp_path / "in"
    folder.mkdir()
    write_image(folder / "a.png", rgb(20, 30))
    video(folder / "clip.mp4", 5, 64, 48)
    assert cli.main(["stylize", str(model), str(folder), "-o", str(tmp_path / "out")]) == 0
    assert tree(tmp_path / "out") == ["a.png", "clip.mp4"] and "skipped" not in capsys.readouterr().err


def test_stylize_refuses_an_image_name_for_a_video(tmp_path, capsys, model):
    clip = video(tmp_path / "clip.mp4", 3, 64, 48)
    fails_in_one_line(capsys, ["stylize", str(model), str(clip), "-o", str(tmp_path / "o.png")],
                      "o.png: clip.mp4 is a video, so its output must be a video file too; use -o",
                      str(tmp_path / "o.mp4"))
    assert tree(tmp_path) == ["clip.mp4"]


def test_stylize_batch_beyond_memory_names_the_batch(tmp_path, capsys, model, monkeypatch, photo):
    from strotss.export import runtime

    fails_in_one_line(capsys, ["stylize", str(model), str(photo), "-o", str(tmp_path / "o.png"), "--size", "64",
                               "--batch", "100000000"],
                      "--size 64 (64×64 px at most, --batch 100000000) needs about", "use a smaller --batch")
    clip = video(tmp_path / "clip.mp4", 8, 64, 48)
    monkeypatch.setattr(runtime, "available_bytes", lambda: runtime.BYTES_PER_PIXEL * 64 * 48 * 2)
    fails_in_one_line(capsys, ["stylize", str(model), str(clip), "-o", str(tmp_path / "v.mp4"), "--batch", "8"],
                      "clip.mp4: 8 frames of 64×48 px at once needs about", "use a smaller --batch")
    assert not (tmp_path / "o.png").exists() and not (tmp_path / "v.mp4").exists()


def test_stylize_output_that_is_no_folder_and_has_no_suffix(tmp_path, capsys, model, photo):
    fails_in_one_line(capsys, ["stylize", str(model), str(photo), "-o", "/dev/null"],
                      "/dev/null: has no file suffix, so it would be the output folder, but it exists and is not a "
                      "folder; give an output file such as out.png, or a folder")


# 15. SIGTERM is handled like Ctrl+C; the temporary files of a killed run are removed by the next.

def test_sigterm_removes_unfinished_outputs(tmp_path, model):
    import signal
    import time

    folder = tmp_path / "in"
    folder.mkdir()
    write_image(folder / "a.png", rgb(20, 30))
    video(folder / "clip.mp4", 1500, 128, 96)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "strotss.cli", "stylize", str(model), str(folder), "-o", str(out)],
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 240
    while not list(out.glob(".clip.mp4.*.part")):
        assert proc.poll() is None and time.monotonic() < deadline, "the video was never started"
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1] == "strotss stylize: terminated (SIGTERM); unfinished outputs were removed"
    assert "Traceback" not in err and tree(out) == ["a.png"]


def test_stale_part_files_of_our_outputs_are_removed(tmp_path, model):
    folder = image_folder(tmp_path / "in", "a.png")
    out = image_folder(tmp_path / "out")
    for name in (".a.png.k3j_9xq2.part", ".a.png.keep", "x.part", ".b.png.abcd1234.part", ".a.png.short.part"):
        (out / name).write_bytes(b"")
    assert cli.main(["stylize", str(model), str(folder), "-o", str(out)]) == 0
    assert tree(out) == [".a.png.keep", ".a.png.short.part", ".b.png.abcd1234.part", "a.png", "x.part"]


# 16. (rest) Huge images, a style that is not an image, a file named like an option.

def test_huge_image_gets_one_clear_warning(tmp_path, capsys, monkeypatch, recwarn, model):
    """Over Pillow's bomb-warning limit (lowered here; 89 MP by default) and under its error limit: one line."""
    from PIL import Image

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    write_image(tmp_path / "big.png", rgb(40, 45))
    assert cli.main(["stylize", str(model), str(tmp_path / "big.png"), "-o", str(tmp_path / "o.png")]) == 0
    err = capsys.readouterr().err
    assert f"strotss: warning: {tmp_path / 'big.png'}: 45×40 px (0.0018 MP) is over Pillow's decompression-bomb " \
           "warning limit of 0.001 MP; reading it anyway" in err, err
    assert "DecompressionBombWarning" not in err
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


def test_train_style_that_is_not_an_image(tmp_path, cwd):
    line = refused_training(cwd, tmp_path / "root", "--data.style", "/etc/passwd")
    assert "/etc/passwd: not an image Pillow can read" in line, line
    assert not (tmp_path / "root").exists() and tree(cwd) == []


def test_a_file_named_like_an_option_is_explained(tmp_path, capsys, monkeypatch, model):
    monkeypatch.chdir(tmp_path)
    write_image(tmp_path / "-dash.png", rgb(20, 30))
    with pytest.raises(SystemExit) as exit_:
        cli.main(["stylize", str(model), "-dash.png", "-o", "o.png"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and err[-1].endswith("(-dash.png is a file here, but a name starting with '-' is "
                                                      "read as an option: write ./-dash.png)"), err
    assert cli.main(["stylize", str(model), "./-dash.png", "-o", "o.png"]) == 0
