"""ONNX export: ONNX Runtime agrees with PyTorch (fp32, fp16, two-graph, baked style); runtime has no torch."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys

import numpy as np
import onnx
import pytest
import torch

from strotss.errors import UserError
from strotss.export.fp16 import to_fp16
from strotss.export.onnx_export import export_onnx
from strotss.export.runtime import StyleModel, image_to_batch
from strotss.imageio import write_image
from strotss.models import create_model, save_model

SIZES = [(1, 64, 64), (1, 257, 391), (2, 48, 80)]


def perturb(model: torch.nn.Module) -> torch.nn.Module:
    """Random weights off the identity init, so agreement is tested on a non-trivial network."""
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.1)
    return model.eval()


def quiet_export(*args, **kwargs):
    """export_onnx without the dynamo exporter's progress lines."""
    with contextlib.redirect_stdout(io.StringIO()):
        return export_onnx(*args, **kwargs)


@pytest.fixture(scope="module")
def per_style(tmp_path_factory):
    d = tmp_path_factory.mktemp("per_style")
    net = perturb(create_model("per_style"))
    save_model(d / "p.pt", net, {"model_kwargs": {}, "style_name": "mosaic", "train_size": 256})
    paths = quiet_export(d / "p.pt", d / "p.onnx", simplify=True)
    fp16 = d / "p16.onnx"
    onnx.save_model(to_fp16(onnx.load(paths[0])), fp16)
    return net, paths[0], fp16


@pytest.fixture(scope="module")
def per_style_noise(tmp_path_factory):
    """A per-style net with fixed input noise, exported: the pattern must travel into the graph exactly."""
    d = tmp_path_factory.mktemp("per_style_noise")
    net = perturb(create_model("per_style", noise=0.05))
    save_model(d / "n.pt", net, {"model_kwargs": {"noise": 0.05}, "style_name": "mosaic", "train_size": 256})
    return net, quiet_export(d / "n.pt", d / "n.onnx", simplify=True)[0]


@pytest.fixture(scope="module")
def arbitrary(tmp_path_factory):
    d = tmp_path_factory.mktemp("arbitrary")
    net = perturb(create_model("arbitrary", style_encoder="random"))
    save_model(d / "a.pt", net, {"model_kwargs": {"style_encoder": "random"}})
    style = (np.random.default_rng(1).random((90, 70, 3)) * 255).astype(np.uint8)
    write_image(d / "style.png", style)
    two = quiet_export(d / "a.pt", d / "a.onnx")
    baked = quiet_export(d / "a.pt", d / "baked.onnx", style_image=d / "style.png")
    return net, two, baked[0], style


@pytest.fixture(scope="module")
def arbitrary_runtime(arbitrary):
    """The two-graph export loaded once, with the style image's code from the ONNX style encoder."""
    model = StyleModel(arbitrary[1][0])
    return model, model.encode_style(arbitrary[3])


@pytest.mark.parametrize("size", SIZES)
def test_per_style_onnx_matches_torch(per_style, size):
    net, fp32, fp16 = per_style
    x = np.random.default_rng(size[1]).random((size[0], 3, *size[1:]), dtype=np.float32)
    with torch.no_grad():
        ref = net(torch.from_numpy(x)).numpy()
    assert np.abs(StyleModel(fp32)(x) - ref).max() < 1e-3
    assert np.abs(StyleModel(fp16)(x) - ref).max() < 2e-2


@pytest.mark.parametrize("size", [(1, 64, 64), (1, 300, 530)])
def test_per_style_noise_onnx_matches_torch(per_style_noise, size):
    net, path = per_style_noise
    x = np.full((size[0], 3, *size[1:]), 0.5, dtype=np.float32)  # flat: the output is all noise-made detail
    with torch.no_grad():
        ref = net(torch.from_numpy(x)).numpy()
    assert ref.std() > 0.01
    assert np.abs(StyleModel(path)(x) - ref).max() < 1e-3


def test_metadata_and_graph(per_style):
    model = onnx.load(per_style[1])
    onnx.checker.check_model(model)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["strotss.kind"] == "per_style" and meta["strotss.style_name"] == "mosaic"
    assert meta["strotss.train_size"] == "256" and meta["strotss.stride"] == "4"
    assert {"strotss.normalization", "strotss.version", "strotss.precision"} <= meta.keys()
    assert model.opset_import[0].version >= 17
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert all(d.dim_param for d in (dims[0], dims[2], dims[3]))


@pytest.mark.parametrize("size", SIZES)
def test_arbitrary_two_graphs_match_torch(arbitrary, arbitrary_runtime, size):
    net, _, _, style = arbitrary
    model, code = arbitrary_runtime
    x = np.random.default_rng(size[2]).random((size[0], 3, *size[1:]), dtype=np.float32)
    with torch.no_grad():
        ref_code = net.encode_style(torch.from_numpy(image_to_batch(style)))
        ref = net(torch.from_numpy(x), ref_code, 0.7).numpy()
    assert np.abs(code - ref_code.numpy()).max() < 1e-3 * max(1.0, float(ref_code.abs().max()))
    assert np.abs(model(x, strength=0.7, code=ref_code.numpy()) - ref).max() < 1e-3
    assert np.abs(model(x, strength=0.7, code=code) - ref).max() < 1e-3


def test_arbitrary_fp16_and_code_mixing(arbitrary, arbitrary_runtime):
    net, (stylizer, _), _, _ = arbitrary
    fp16 = stylizer.with_name("a16.onnx")
    onnx.save_model(to_fp16(onnx.load(stylizer)), fp16)
    x = np.random.default_rng(3).random((1, 3, 57, 61), dtype=np.float32)
    codes = torch.randn(2, net.code_width)
    with torch.no_grad():
        refs = [net(torch.from_numpy(x), codes[i: i + 1]).numpy() for i in range(2)]
    m16 = StyleModel(fp16)
    assert np.abs(m16(x, code=codes[:1].numpy()) - refs[0]).max() < 2e-2
    m32 = arbitrary_runtime[0]
    for i, w in enumerate(([1.0, 0.0], [0.0, 1.0])):
        mixed = net.mix_codes(codes, w).numpy()
        assert np.abs(m32(x, code=mixed) - refs[i]).max() < 1e-3


def test_fp16_weight_storage_halves_the_file_and_keeps_fp32_arithmetic(arbitrary, tmp_path):
    """to_fp16_weights stores large weights in fp16 (Cast back in the graph): half the bytes, codes within fp16
    rounding of the weights, inputs and outputs still float32."""
    from strotss.export.fp16 import to_fp16_weights

    net, (stylizer, encoder), _, style = arbitrary
    compact = tmp_path / "e16.onnx"
    onnx.save_model(to_fp16_weights(onnx.load(encoder)), compact)
    assert compact.stat().st_size < 0.6 * encoder.stat().st_size
    graph = onnx.load(compact).graph
    assert graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    import onnxruntime as ort

    feeds = {graph.input[0].name: image_to_batch(style)}
    full = ort.InferenceSession(str(encoder)).run(None, feeds)[0]
    half = ort.InferenceSession(str(compact)).run(None, feeds)[0]
    assert half.dtype == np.float32 and 0 < np.abs(half - full).max() < 1e-2 * max(1.0, np.abs(full).max())


def test_baked_style_graph_matches_torch(arbitrary):
    net, _, baked, style = arbitrary
    model = StyleModel(baked)
    assert model.kind == "per_style" and not model.needs_style
    x = np.random.default_rng(4).random((2, 3, 45, 67), dtype=np.float32)
    with torch.no_grad():
        ref = net(torch.from_numpy(x), net.encode_style(torch.from_numpy(image_to_batch(style)))).numpy()
    assert np.abs(model(x) - ref).max() < 1e-3


def test_export_rejects_bad_requests(per_style, tmp_path):
    ckpt = per_style[1].with_name("p.pt")
    with pytest.raises(UserError, match="arbitrary"):
        export_onnx(ckpt, tmp_path / "x.onnx", style_image=tmp_path / "s.png")
    with pytest.raises(UserError, match="opset"):
        export_onnx(ckpt, tmp_path / "x.onnx", opset=13)


def test_runtime_provider_errors(per_style):
    with pytest.raises(UserError, match="not available"):
        StyleModel(per_style[1], provider="tensorrt_missing")


def test_runtime_does_not_import_torch():
    code = ("import sys, strotss.export.runtime, strotss.export.video, strotss.export.scale, strotss.bench.onnx, "
            "strotss.commands.stylize; assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_arbitrary_with_painting_statistics_exports_and_matches_torch(tmp_path):
    """adain, colour_base, normalized_code: the code carries the bottleneck statistics and the colour moments;
    ONNX Runtime's style encoder gives the same code, and its stylizer (matrix roots by Newton-Schulz) the same
    picture."""
    kwargs = {"style_encoder": "random", "code_dim": 8, "adain": True, "colour_base": True, "normalized_code": True}
    net = perturb(create_model("arbitrary", **kwargs))
    save_model(tmp_path / "s.pt", net, {"model_kwargs": kwargs})
    style = (np.random.default_rng(4).random((70, 90, 3)) * 255).astype(np.uint8)
    model = StyleModel(quiet_export(tmp_path / "s.pt", tmp_path / "s.onnx")[0])
    code = model.encode_style(style)
    x = np.random.default_rng(5).random((2, 3, 61, 75), dtype=np.float32)
    with torch.no_grad():
        ref_code = net.encode_style(torch.from_numpy(image_to_batch(style)))
        ref = net(torch.from_numpy(x), ref_code).numpy()
    assert code.shape == (1, net.code_width)
    assert np.abs(code - ref_code.numpy()).max() < 1e-3 * max(1.0, float(ref_code.abs().max()))
    assert np.abs(model(x, code=code) - ref).max() < 1e-3
    assert np.abs(ref - x).mean() > 0.05
