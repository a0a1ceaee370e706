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
    """Random weights everywhere (the FiLM heads start at zero, i.e. ignoring α, until trained)."""
    torch.manual_seed(0)
    with torch.no_grad():
        for p in net.parameters():
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
