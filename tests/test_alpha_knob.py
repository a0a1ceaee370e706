"""A per-style network conditioned on the content weight α: the knob moves the output, survives ONNX export,
and training draws α across the network's range."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
import torch

from strotss.errors import UserError
from strotss.export.onnx_export import export_onnx
from strotss.export.runtime import StyleModel
from strotss.losses import combine_terms
from strotss.models import create_model, save_model

KWARGS = {"channels": [8, 16, 24], "num_blocks": 1, "alpha_range": [1.0, 8.0], "alpha": 2.0}


def trained_like(net: torch.nn.Module) -> torch.nn.Module:
    """Random weights in every trainable layer (the FiLM heads start at zero, i.e. ignoring α, until trained)."""
    torch.manual_seed(0)
    with torch.no_grad():
        for p in net.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.1)
    return net.eval()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A perturbed conditioned network and its ONNX export."""
    d = tmp_path_factory.mktemp("knob")
    net = trained_like(create_model("per_style", **KWARGS))
    save_model(d / "k.pt", net, {"model_kwargs": KWARGS, "style_name": "wheat", "train_size": 256})
    with contextlib.redirect_stdout(io.StringIO()):
        path = export_onnx(d / "k.pt", d / "k.onnx")[0]
    return net, path


def test_fresh_conditioned_network_ignores_alpha_and_starts_as_the_photo() -> None:
    """Zero FiLM heads and the zero output layer: every α gives the input back, like the unconditioned network."""
    net = create_model("per_style", **KWARGS).eval()
    x = torch.rand(2, 3, 40, 52)
    with torch.no_grad():
        assert torch.allclose(net(x, 1.0), net(x, 8.0))
        assert (net(x) - x).abs().max() < 2e-3


def test_alpha_moves_the_output_and_is_clamped_to_the_range(exported) -> None:
    """Different α, different pictures; α beyond the range acts as its end."""
    net, _ = exported
    x = torch.rand(1, 3, 48, 48)
    with torch.no_grad():
        assert (net(x, 1.0) - net(x, 8.0)).abs().mean() > 1e-3
        assert torch.allclose(net(x, 8.0), net(x, 50.0))
        assert torch.allclose(net(x), net(x, 2.0))


@pytest.mark.parametrize("alpha", [1.0, 3.5, 8.0])
def test_onnx_export_takes_alpha_and_matches_torch(exported, alpha: float) -> None:
    """ONNX Runtime agrees with PyTorch at each α, including a batch of two and the default."""
    net, path = exported
    model = StyleModel(path)
    assert model.alpha_range == (1.0, 8.0) and model.alpha == 2.0
    x = np.random.default_rng(0).random((2, 3, 45, 61), dtype=np.float32)
    with torch.no_grad():
        ref = net(torch.from_numpy(x), alpha).numpy()
        default = net(torch.from_numpy(x)).numpy()
    assert np.abs(model(x, alpha=alpha) - ref).max() < 1e-3
    assert np.abs(model(x) - default).max() < 1e-3


def test_runtime_refuses_alpha_outside_the_range_or_for_a_fixed_model(exported, tmp_path) -> None:
    """--alpha beyond what the model learned, or on a model with one fixed trade-off, is one clear error."""
    _, path = exported
    x = np.zeros((1, 3, 16, 16), np.float32)
    with pytest.raises(UserError, match="from 1 to 8"):
        StyleModel(path)(x, alpha=20.0)
    with pytest.raises(UserError, match="from 1 to 8"):
        StyleModel(path)(x, alpha=float("nan"))
    fixed = create_model("per_style", channels=[8, 16, 24], num_blocks=1)
    save_model(tmp_path / "f.pt", fixed, {"model_kwargs": {"channels": [8, 16, 24], "num_blocks": 1}})
    with contextlib.redirect_stdout(io.StringIO()):
        fixed_path = export_onnx(tmp_path / "f.pt", tmp_path / "f.onnx")[0]
    with pytest.raises(UserError, match="fixed trade-off"):
        StyleModel(fixed_path)(x, alpha=2.0)


def test_per_image_alpha_weights_the_terms_image_by_image() -> None:
    """combine_terms with one α per image equals the scalar form image by image."""
    terms = {k: torch.tensor([0.3, 0.5]) for k in ("content", "remd", "moment", "palette")}
    both = combine_terms(terms, torch.tensor([0.5, 6.0]))
    for i, a in enumerate((0.5, 6.0)):
        single = combine_terms({k: v[i:i + 1] for k, v in terms.items()}, a)
        assert torch.allclose(both[i:i + 1], single)


def test_training_draws_alpha_log_uniformly_in_range_and_reproducibly() -> None:
    """draw_alpha covers the range on a log scale, stays inside it, and repeats for the same step (resume)."""
    from strotss.train.module import StrotssModule

    module = StrotssModule(model_kwargs=KWARGS, extractor_weights="random", alpha=2.0)
    draws = module.draw_alpha(4000)
    assert draws.min() >= 1.0 and draws.max() <= 8.0
    assert abs(float(torch.log(draws).mean()) - np.log(8.0) / 2) < 0.05
    assert torch.equal(draws, module.draw_alpha(4000))


ARB_KWARGS = {"style_encoder": "random", "preset": "tiny", "alpha_range": [1.0, 8.0], "alpha": 4.0}


@pytest.fixture(scope="module")
def arbitrary_exported(tmp_path_factory):
    """A perturbed arbitrary-style network conditioned on α, its two-graph export and a style-baked export."""
    from strotss.export.runtime import image_to_batch
    from strotss.imageio import write_image

    d = tmp_path_factory.mktemp("knob_arbitrary")
    net = trained_like(create_model("arbitrary", **ARB_KWARGS))
    save_model(d / "a.pt", net, {"model_kwargs": ARB_KWARGS})
    style = (np.random.default_rng(1).random((60, 80, 3)) * 255).astype(np.uint8)
    write_image(d / "style.png", style)
    with contextlib.redirect_stdout(io.StringIO()):
        two = export_onnx(d / "a.pt", d / "a.onnx")[0]
        baked = export_onnx(d / "a.pt", d / "baked.onnx", style_image=d / "style.png")[0]
    with torch.no_grad():
        code = net.encode_style(torch.from_numpy(image_to_batch(style)))
    return net, two, baked, code


def test_fresh_alpha_heads_leave_a_trained_arbitrary_network_as_it_was() -> None:
    """FiLM heads start at zero: grafted onto trained weights, the α input changes nothing until trained; the same
    network with trained heads does move with α."""
    net = trained_like(create_model("arbitrary", **ARB_KWARGS))
    x, code = torch.rand(2, 3, 40, 52), torch.randn(1, net.code_width)
    with torch.no_grad():
        assert (net(x, code, alpha=1.0) - net(x, code, alpha=8.0)).abs().mean() > 1e-3
        fresh = create_model("arbitrary", **ARB_KWARGS).film.heads
        for head, zero in zip(net.film.heads, fresh):
            head.load_state_dict(zero.state_dict())
        assert torch.allclose(net(x, code, alpha=1.0), net(x, code, alpha=8.0))


@pytest.mark.parametrize("alpha", [1.0, 8.0])
def test_arbitrary_onnx_takes_a_code_and_alpha_and_matches_torch(arbitrary_exported, alpha: float) -> None:
    """The two-graph export of a conditioned arbitrary network: α moves the picture, ORT agrees with torch at each α
    and at the default; a style-baked export keeps the α input."""
    net, two, baked, code = arbitrary_exported
    x = np.random.default_rng(0).random((2, 3, 45, 61), dtype=np.float32)
    with torch.no_grad():
        ref = net(torch.from_numpy(x), code, alpha=alpha).numpy()
        default = net(torch.from_numpy(x), code).numpy()
        other = net(torch.from_numpy(x), code, alpha=9.0 - alpha).numpy()
    assert np.abs(ref - other).mean() > 1e-3
    model = StyleModel(two)
    assert model.needs_style and model.alpha_range == (1.0, 8.0) and model.alpha == 4.0
    assert np.abs(model(x, code=code.numpy(), alpha=alpha) - ref).max() < 1e-3
    assert np.abs(model(x, code=code.numpy()) - default).max() < 1e-3
    one = StyleModel(baked)
    assert not one.needs_style and one.alpha_range == (1.0, 8.0)
    assert np.abs(one(x, alpha=alpha) - ref).max() < 1e-3


def test_training_an_arbitrary_network_draws_alpha_and_reads_the_style() -> None:
    """The training module stylizes a conditioned arbitrary network with the batch's style code and a drawn α."""
    from strotss.train.module import StrotssModule

    module = StrotssModule(model="arbitrary", model_kwargs=ARB_KWARGS, extractor_weights="random", alpha=4.0)
    trained_like(module.net)
    assert module.conditioned
    content, style = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        low = module(content, style, torch.tensor([1.0, 1.0]))
        high = module(content, style, torch.tensor([8.0, 8.0]))
        other_style = module(content, torch.rand(2, 3, 32, 32), torch.tensor([1.0, 1.0]))
    assert (low - high).abs().mean() > 1e-3 and (low - other_style).abs().mean() > 1e-4
