"""`strotss stylize` end to end through strotss.cli.main: folders, corrupt files, video, bad model files."""

from __future__ import annotations

import contextlib
import io
import re

import av
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from strotss import cli
from strotss.imageio import read_rgb, write_image

VERBS = ("export", "stylize", "bench")


@pytest.fixture(autouse=True)
def only_our_verbs(monkeypatch):
    """Build the CLI from the verbs under test, independent of other verbs' progress."""
    monkeypatch.setattr(cli, "VERBS", VERBS)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from strotss.models import create_model, save_model

    d = tmp_path_factory.mktemp("model")
    save_model(d / "p.pt", create_model("per_style", channels=(8, 16, 24), num_blocks=2),
               {"model_kwargs": {"channels": (8, 16, 24), "num_blocks": 2}})
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["export", str(d / "p.pt"), "-o", str(d / "p.onnx")]) == 0
    return d / "p.onnx"


def rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((h, w, 3)) * 255).astype(np.uint8)


def test_folder_with_corrupt_image(model, tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    write_image(src / "a.png", rgb(31, 45))
    write_image(src / "b.jpg", rgb(64, 48, 1))
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    assert cli.main(["stylize", str(model), str(src), "-o", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.jpg"]
    assert read_rgb(tmp_path / "out" / "a.png").shape == (31, 45, 3)
    err = capsys.readouterr().err
    assert "skipped " in err and "broken.png: image is corrupt or truncated" in err and err.count("skipped") == 1


def test_single_image_size_and_strength(model, tmp_path):
    """--size sets the network's working size; the output keeps the input's size, and strength 0 gives it back."""
    write_image(tmp_path / "a.png", rgb(40, 80))
    assert cli.main(["stylize", str(model), str(tmp_path / "a.png"), "-o", str(tmp_path / "o.png"),
                     "--size", "50", "--strength", "0"]) == 0
    assert np.array_equal(read_rgb(tmp_path / "o.png"), rgb(40, 80))


def test_video_keeps_frames_size_and_audio(model, tmp_path, capsys):
    """Frames, size and audio are kept with and without --size (the network's working size), and the run ends
    with one line of throughput."""
    src = tmp_path / "clip.mp4"
    with av.open(str(src), "w") as out:
        video = out.add_stream("mpeg4", rate=8)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = out.add_stream("aac", rate=16000)
        for i in range(8):
            out.mux(video.encode(av.VideoFrame.from_ndarray(rgb(48, 64, i), format="rgb24")))
        out.mux(video.encode(None))
        samples = np.zeros((1, 16000), np.float32)
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate = 16000
        out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    for size, side in ((None, 64), (32, 32)):
        flags = ["--size", str(size)] if size else []
        assert cli.main(["stylize", str(model), str(src), "-o", str(tmp_path / "out.mp4"), "--batch", "3", *flags]) == 0
        with av.open(str(tmp_path / "out.mp4")) as result:
            frames = [f.to_ndarray(format="rgb24") for f in result.decode(video=0)]
            assert len(result.streams.audio) == 1
        assert len(frames) == 8 and frames[0].shape == (48, 64, 3)
        err = capsys.readouterr().err
        assert re.findall(r"stylized 8 frames of clip\.mp4 in [0-9.]+ s \([0-9.]+ frames/s, model at (\d+) px\)\n",
                          err) == [str(side)], err


def _assert_clean_error(capsys, args, needle):
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and err.count("\n") == 1


def test_not_onnx_and_foreign_onnx(tmp_path, capsys):
    write_image(tmp_path / "a.png", rgb(16, 16))
    (tmp_path / "junk.onnx").write_text("this is not a model")
    node = helper.make_node("Identity", ["x"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    onnx.save_model(helper.make_model(graph), tmp_path / "foreign.onnx")
    out = str(tmp_path / "o.png")
    _assert_clean_error(capsys, ["stylize", str(tmp_path / "junk.onnx"), str(tmp_path / "a.png"), "-o", out],
                        "not a loadable ONNX model")
    _assert_clean_error(capsys, ["stylize", str(tmp_path / "foreign.onnx"), str(tmp_path / "a.png"), "-o", out],
                        "without strotss metadata")


def test_missing_camera_and_style_misuse(model, tmp_path, capsys):
    _assert_clean_error(capsys, ["stylize", str(model), "--webcam", "--camera", str(tmp_path / "video9"),
                                 "-o", str(tmp_path / "w.mp4")], "no camera found")
    write_image(tmp_path / "s.png", rgb(16, 16))
    _assert_clean_error(capsys, ["stylize", str(model), str(tmp_path / "s.png"), "--style", str(tmp_path / "s.png"),
                                 "-o", str(tmp_path / "o.png")], "per-style model")


def test_bench_onnx_table(model, capsys):
    assert cli.main(["bench", "onnx", str(model), "--sizes", "32,40x24", "--repeats", "2", "--warmup", "1",
                     "--fp16"]) == 0
    table = capsys.readouterr().out
    assert "fp16" in table and "40x24" in table and "CPU" in table


def test_bench_onnx_times_every_cell_in_rotating_rounds():
    """Each call runs warm-up + repeats times, one run per round in a rotated order, so that a slow spell of a
    shared machine lands on every model alike; the medians are each call's own."""
    from strotss.bench.timing import interleaved_medians_ms

    calls: list[int] = []
    ms = interleaved_medians_ms([lambda i=i: calls.append(i) for i in range(3)], repeats=3, warmup=1)
    assert calls == [0, 1, 2, 0, 1, 2, 1, 2, 0, 2, 0, 1]
    assert len(ms) == 3 and all(t >= 0 for t in ms)


def test_same_picture_at_any_input_size(tmp_path):
    """A 2048 px and a 512 px copy of one photo come out as the same picture at two resolutions: the network
    works at the model's trained size (512 px for starry_night). At full resolution (--size 0, the old
    behaviour) they are two different pictures."""
    from strotss.assets import asset_path
    from strotss.imageio import resize_long_side, resize_to

    photo = read_rgb(asset_path("content/kodak_kodim01.jpg"))
    for side in (2048, 512):
        write_image(tmp_path / f"p{side}.png", resize_long_side(photo, side))
    outs = {}
    for flags in ([], ["--size", "0"]):
        for side in (2048, 512):
            dst = tmp_path / f"o{side}{'_full' if flags else ''}.png"
            assert cli.main(["stylize", "starry_night", str(tmp_path / f"p{side}.png"), "-o", str(dst), *flags]) == 0
            outs[side, bool(flags)] = read_rgb(dst)
    assert outs[2048, False].shape == outs[2048, True].shape == read_rgb(tmp_path / "p2048.png").shape

    def gap(full: bool) -> float:
        small = outs[512, full]
        return float(np.abs(resize_to(outs[2048, full], small.shape[:2]).astype(int) - small).mean())

    assert gap(False) < 6 and gap(True) > 3 * gap(False)
