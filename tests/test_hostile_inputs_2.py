"""Issue 20, hostile and careless inputs, round two: each case ends in one line and exit code 2 (or is handled),
writes nothing, and never replaces an input or another output."""

from __future__ import annotations

import pathlib
import shutil

import pytest
import torch
from test_hostile_inputs import CONTENT, FAST, STYLE, checkpoint, fails_in_one_line, model, rgb, tree  # noqa: F401

from strotss import cli
from strotss.imageio import read_rgb, write_image
from strotss.pretrained import resolve_model


# 1. Outputs are checked against each other, not only against the inputs.

def test_optimize_refuses_a_log_that_would_replace_the_image(tmp_path, capsys):
    out = tmp_path / "o.png"
    fails_in_one_line(capsys, ["optimize", CONTENT, STYLE, "-o", str(out), *FAST, "--log-json", str(out)],
                      "the image (-o) and the log (--log-json) would both be written to", "o.png",
                      "give --log-json a file of its own")
    fails_in_one_line(capsys, ["optimize", CONTENT, STYLE, "-o", str(out), *FAST, "--log-json",
                               str(tmp_path / "sub" / ".." / "o.png")], "would both be written to")
    assert tree(tmp_path) == []


def test_optimize_refuses_a_log_that_would_replace_an_input(tmp_path, capsys):
    write_image(tmp_path / "p.png", rgb(64, 64))
    before = (tmp_path / "p.png").read_bytes()
    fails_in_one_line(capsys, ["optimize", str(tmp_path / "p.png"), STYLE, "-o", str(tmp_path / "o.png"), *FAST,
                               "--log-json", str(tmp_path / "p.png")], "p.png: is also an input")
    assert tree(tmp_path) == ["p.png"] and (tmp_path / "p.png").read_bytes() == before


# 2. `teach` never writes over an input: the rule `stylize` follows (strotss.outputs.check_plan).

def test_teach_refuses_an_output_that_is_an_input(tmp_path, capsys):
    c, t = tmp_path / "c", tmp_path / "t"
    c.mkdir()
    t.mkdir()
    write_image(c / "p.png", rgb(64, 64, 1))
    write_image(c / "p__q.png", rgb(64, 64, 2))
    write_image(t / "q.jpg", rgb(64, 64, 3))
    before = {p.name: p.read_bytes() for p in c.iterdir()}
    fails_in_one_line(capsys, ["teach", "--content", str(c), "--style", str(t), "--out", str(c), "--size", "64",
                               "--iters", "1", "--weights", "random", "--device", "cpu", "--no-progress"],
                      f"{c / 'p__q.png'}: is also an input", "choose another output path (--out)")
    assert {p.name: p.read_bytes() for p in c.iterdir()} == before


def test_teach_refuses_two_pairs_with_one_output(tmp_path, capsys):
    c, t = tmp_path / "c", tmp_path / "t"
    for folder in (c, t):
        folder.mkdir()
    write_image(c / "p.png", rgb(64, 64, 1))
    write_image(c / "p.jpg", rgb(64, 64, 2))
    write_image(t / "q.jpg", rgb(64, 64, 3))
    fails_in_one_line(capsys, ["teach", "--content", str(c), "--style", str(t), "--out", str(tmp_path / "out"),
                               "--size", "64", "--iters", "1", "--weights", "random", "--device", "cpu"],
                      f"{c / 'p.jpg'} with {t / 'q.jpg'} and {c / 'p.png'} with {t / 'q.jpg'} would both be written to",
                      "p__q.png", "give the images distinct file names")
    assert not (tmp_path / "out").exists()


# 3. Extractor --weights fill every tapped layer, or the run stops before it starts.

@pytest.mark.parametrize("arch", ["vgg16", "vgg19"])
def test_extractor_weights_that_fill_no_layer(tmp_path, capsys, arch):
    torch.save({"classifier.0.weight": torch.zeros(2, 2)}, tmp_path / "w.pth")
    fails_in_one_line(capsys, ["optimize", CONTENT, STYLE, "-o", str(tmp_path / "o.png"), *FAST,
                               "--extractor", arch, "--weights", str(tmp_path / "w.pth")],
                      "w.pth: fills none of the", f"{arch} layers", "missing features.0.weight, features.0.bias",
                      f"pass a torchvision {arch} state dict")
    assert tree(tmp_path) == ["w.pth"]


def test_extractor_weights_that_fill_some_layers(tmp_path, capsys):
    from strotss.losses.features import _torchvision_vgg

    state = {f"features.{k}": v for k, v in _torchvision_vgg("vgg16").state_dict().items() if int(k.split(".")[0]) < 5}
    torch.save(state, tmp_path / "w.pth")
    line = fails_in_one_line(capsys, ["optimize", CONTENT, STYLE, "-o", str(tmp_path / "o.png"), *FAST,
                                      "--extractor", "vgg16", "--weights", str(tmp_path / "w.pth")],
                             "w.pth: 22 of the 26 tensors of the vgg16 layers up to relu5_3 are missing",
                             "features.5.weight, features.5.bias")
    assert "features.2.weight" not in line and not (tmp_path / "o.png").exists()


def test_extractor_weights_that_fill_every_layer_load(tmp_path):
    from strotss.losses import build_extractor
    from strotss.losses.features import _torchvision_vgg

    state = {f"features.{k}": v + 1 for k, v in _torchvision_vgg("vgg16").state_dict().items()}
    torch.save({**state, "classifier.0.bias": torch.zeros(3)}, tmp_path / "w.pth")
    extractor = build_extractor("vgg16", str(tmp_path / "w.pth"))
    assert torch.equal(extractor.body[28].bias, state["features.28.bias"])


@pytest.mark.parametrize("content, needle", [([torch.zeros(3)], "holds a list, not a state dict"),
                                             ({"features.0.weight": "text"}, "features.0.weight is a str")])
def test_extractor_weights_that_are_no_state_dict(tmp_path, capsys, content, needle):
    torch.save(content, tmp_path / "w.pth")
    fails_in_one_line(capsys, ["optimize", CONTENT, STYLE, "-o", str(tmp_path / "o.png"), *FAST,
                               "--extractor", "vgg16", "--weights", str(tmp_path / "w.pth")], "w.pth: ", needle)
    assert tree(tmp_path) == ["w.pth"]


# 4. `bench quality` keys scores by file stem: two photos or paintings with one stem are refused.

def _quality(tmp_path: pathlib.Path, *argv: str) -> list[str]:
    """`bench quality` argv at 64 px, one draw, writing its sheet and JSON under tmp_path/out."""
    return ["bench", "quality", *argv, "--size", "64", "--repeats", "1", "--device", "cpu",
            "--sheet", str(tmp_path / "out" / "q.png"), "--json", str(tmp_path / "out" / "q.json")]


def test_bench_quality_refuses_photos_with_one_stem(tmp_path, capsys):
    for folder, suffix in (("a", "png"), ("b", "jpg")):
        (tmp_path / folder).mkdir()
        write_image(tmp_path / folder / f"x.{suffix}", rgb(64, 64, len(suffix)))
    a, b = str(tmp_path / "a" / "x.png"), str(tmp_path / "b" / "x.jpg")
    fails_in_one_line(capsys, _quality(tmp_path, "--photos", a, b),
                      f"{a} and {b}: two --photos files with the stem 'x'", "rename one")
    fails_in_one_line(capsys, _quality(tmp_path, "--photos", a, a), f"{a} and {a}: two --photos files")
    assert not (tmp_path / "out").exists()


def test_bench_quality_refuses_paintings_with_one_stem(tmp_path, capsys):
    for folder in ("s1", "s2"):
        (tmp_path / folder).mkdir()
        write_image(tmp_path / folder / "q.jpg", rgb(64, 64))
    s1, s2 = str(tmp_path / "s1" / "q.jpg"), str(tmp_path / "s2" / "q.jpg")
    fails_in_one_line(capsys, _quality(tmp_path, "--photos", CONTENT, "--style", s1, "--style", s2),
                      f"{s1} and {s2}: two --style files with the stem 'q'")
    assert not (tmp_path / "out").exists()


def test_bench_quality_outputs_replace_no_input_and_no_other_output(tmp_path, capsys):
    write_image(tmp_path / "x.png", rgb(64, 64))
    before = (tmp_path / "x.png").read_bytes()
    sheet = str(tmp_path / "q.png")
    fails_in_one_line(capsys, ["bench", "quality", "--photos", str(tmp_path / "x.png"), "--size", "64", "--sheet",
                               sheet, "--json", sheet], f"the contact sheet (--sheet) and the scores (--json) would "
                                                        f"both be written to {sheet}", "a file of its own")
    fails_in_one_line(capsys, ["bench", "quality", "--photos", str(tmp_path / "x.png"), "--size", "64", "--sheet",
                               str(tmp_path / "x.png")], "x.png: is also an input")
    assert tree(tmp_path) == ["x.png"] and (tmp_path / "x.png").read_bytes() == before


# 5. Results that are not finite are never written (they came out black): overflowing inputs are refused up
# front, and a result that is not finite stops the run before it writes.

@pytest.mark.parametrize("flags, needle", [(["--alpha", "1e39"], "--alpha 1e+39: must be a number from 0 to 1000000"),
                                           (["--lr", "1e30", "--last-lr", "1e30"], "--lr 1e+30: must be a number > 0 "
                                                                                   "and ≤ 1"),
                                           (["--last-lr", "2"], "--last-lr 2.0: must be a number > 0 and ≤ 1"),
                                           (["--alpha", "0", "--weighting", "paper"],
                                            "--alpha 0.0: must be > 0 with --weighting paper")])
def test_optimize_refuses_numbers_that_overflow(tmp_path, capsys, flags, needle):
    fails_in_one_line(capsys, ["optimize", CONTENT, STYLE, "-o", str(tmp_path / "o.png"), *FAST, *flags], needle)
    assert tree(tmp_path) == []


def test_optimize_writes_no_result_that_is_not_finite(tmp_path, capsys, monkeypatch):
    """Whatever makes the objective nan (a diverging step, a broken extractor), the run stops and writes nothing."""
    from strotss.teacher import optimizer

    loss = optimizer._LevelObjective.loss

    def diverging(self, x, alpha):
        total, logs = loss(self, x, alpha)
        return total * float("nan"), {**logs, "total": float("nan")}

    monkeypatch.setattr(optimizer._LevelObjective, "loss", diverging)
    fails_in_one_line(capsys, ["optimize", CONTENT, STYLE, "-o", str(tmp_path / "o.png"), *FAST, "--log-json",
                               str(tmp_path / "o.json")], "the objective at scale 1 (64 px), iteration 1 became nan",
                      "there is no image to write", "lower --lr")
    assert tree(tmp_path) == []


def test_stylize_weights_that_overflow_their_sum(tmp_path):
    """--weights 1e308 1e308 mix the two styles equally, as 1 1 does (their sum overflowed to inf: code 0)."""
    write_image(tmp_path / "p.png", rgb(32, 48))
    styles = ["--style", STYLE, "--style", CONTENT]
    for name, weights in (("equal.png", ["1", "1"]), ("huge.png", ["1e308", "1e308"])):
        assert cli.main(["stylize", "arbitrary", str(tmp_path / "p.png"), *styles, "--weights", *weights, "-o",
                         str(tmp_path / name)]) == 0
    huge = read_rgb(tmp_path / "huge.png")
    assert huge.max() > 0 and (huge == read_rgb(tmp_path / "equal.png")).all()


def test_stylize_weights_are_checked_before_the_model_loads(tmp_path, capsys):
    write_image(tmp_path / "p.png", rgb(32, 48))
    fails_in_one_line(capsys, ["stylize", str(tmp_path / "missing.onnx"), str(tmp_path / "p.png"), "--style", STYLE,
                               "--weights", "inf", "-o", str(tmp_path / "o.png")], "--weights [inf]",
                      "give one finite non-negative number per --style")
    assert tree(tmp_path) == ["p.png"]


def test_stylize_writes_no_image_from_a_model_whose_output_is_nan(tmp_path, capsys, model):
    import numpy as np
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(model))
    head = next(i for i in graph.graph.initializer if i.name.endswith("head.1.weight"))
    head.CopyFrom(numpy_helper.from_array(np.full(tuple(head.dims), np.nan, np.float32), head.name))
    onnx.save(graph, str(tmp_path / "nan.onnx"))
    write_image(tmp_path / "p.png", rgb(32, 48))
    fails_in_one_line(capsys, ["stylize", str(tmp_path / "nan.onnx"), str(tmp_path / "p.png"), "-o",
                               str(tmp_path / "o.png")], "nan.onnx: its output for a 48×32 px image is not finite",
                      "export it again")
    assert tree(tmp_path) == ["nan.onnx", "p.png"]


# 10. teach's environment (RANK, WORLD_SIZE, LOCAL_RANK) and a pairs file with a line of one field.

@pytest.mark.parametrize("env, needle", [({"WORLD_SIZE": "0"}, "WORLD_SIZE=0: must be ≥ 1"),
                                         ({"RANK": "abc"}, "RANK='abc': not a whole number"),
                                         ({"RANK": "2", "WORLD_SIZE": "2"}, "RANK=2: must be from 0 to 1 "
                                                                            "(WORLD_SIZE=2)"),
                                         ({"LOCAL_RANK": "-1"}, "LOCAL_RANK=-1: must be ≥ 0")])
def test_teach_rank_environment(tmp_path, capsys, monkeypatch, env, needle):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    fails_in_one_line(capsys, ["teach", "--content", CONTENT, "--style", STYLE, "--out", str(tmp_path / "t"),
                               "--size", "64", "--iters", "1", "--weights", "random"],
                      needle, "torchrun sets RANK, WORLD_SIZE and LOCAL_RANK")
    assert tree(tmp_path) == []


@pytest.mark.parametrize("line", ["a.jpg", "a.jpg,", ",b.jpg", "a.jpg,b.jpg,c.jpg"])
def test_pairs_file_line_without_two_fields(tmp_path, capsys, line):
    (tmp_path / "pairs.csv").write_text(f"content,style\nx.jpg,y.jpg\n{line}\n")
    fails_in_one_line(capsys, ["teach", "--pairs", str(tmp_path / "pairs.csv"), "--out", str(tmp_path / "t")],
                      "pairs.csv:3: expected a content and a style path", "content,style")
    assert tree(tmp_path) == ["pairs.csv"]


# 13. An ONNX model given where a PyTorch checkpoint belongs is named as such, with what to do instead.

BUNDLED = resolve_model("wheat_field")


@pytest.mark.parametrize("name", ["m.onnx", "m.ckpt"])
def test_export_of_an_onnx_model(tmp_path, capsys, name):
    shutil.copy(BUNDLED, tmp_path / name)
    fails_in_one_line(capsys, ["export", str(tmp_path / name), "-o", str(tmp_path / "out.onnx")],
                      f"{name}: is an ONNX model (an exported network), not a PyTorch checkpoint",
                      "it is already exported: run it with `strotss stylize`")
    assert tree(tmp_path) == [name]


def test_resume_from_an_onnx_model(tmp_path, capsys):
    from test_train_safety import _config

    config = _config(tmp_path, tmp_path / "content", tmp_path / "style.jpg")
    shutil.copy(BUNDLED, tmp_path / "m.onnx")
    fails_in_one_line(capsys, ["train", "fit", "--config", str(config), "--trainer.default_root_dir",
                               str(tmp_path / "root"), "--ckpt_path", str(tmp_path / "m.onnx")],
                      "m.onnx: is an ONNX model", "give it as --model.init_weights")
    assert tree(tmp_path) == ["cfg.yaml", "m.onnx"]
