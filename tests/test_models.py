"""Networks: any size in and out, finite outputs, gradients, style codes, checkpoint round trips."""

from __future__ import annotations

import pytest
import torch

from strotss.errors import UserError
from strotss.models import ArbitraryStyleNet, PerStyleNet, create_model, load_model, save_model
from strotss.models.network import Network
from strotss.models.blocks import FixedNoise


def perturb(model: torch.nn.Module, scale: float = 0.1) -> torch.nn.Module:
    """Move every trainable weight off its (partly zero, identity-making) init so the test sees a real network."""
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * scale)
    return model.eval()


@pytest.fixture(scope="module")
def arbitrary() -> ArbitraryStyleNet:
    return perturb(create_model("arbitrary", style_encoder="random"))


@pytest.mark.parametrize("size", [(1, 33, 47), (2, 64, 64), (1, 5, 130)])
def test_per_style_shape_finite(size):
    b, h, w = size
    net = perturb(PerStyleNet())
    y = net(torch.rand(b, 3, h, w))
    assert y.shape == (b, 3, h, w)
    assert torch.isfinite(y).all() and y.min() >= 0 and y.max() <= 1


def test_per_style_starts_as_identity():
    x = torch.rand(1, 3, 31, 29)
    assert torch.allclose(PerStyleNet().eval()(x), x.clamp(1e-3, 1 - 1e-3), atol=1e-5)


def test_fixed_noise_is_seeded_stationary_and_does_not_repeat_at_a_tile():
    noise = FixedNoise(0.05)
    pattern = noise(torch.zeros(1, 3, 600, 700))
    assert torch.equal(pattern, FixedNoise(0.05)(torch.zeros(1, 3, 600, 700)))  # same every call and process
    assert abs(pattern.std().item() - 0.05) < 2e-3 and abs(pattern.mean().item()) < 2e-3
    assert torch.equal(noise(torch.zeros(1, 3, 40, 50)), pattern[..., :40, :50])  # one pattern, any size
    for side in FixedNoise.sides:  # neither tile's period shows alone
        assert (pattern[..., :side, :] - pattern[..., side:2 * side, :]).abs().mean() > 0.03


def test_per_style_noise_paints_flat_input_and_rejects_negative_std():
    flat = torch.full((1, 3, 64, 64), 0.5)
    assert PerStyleNet().eval()(flat).std() == 0
    assert abs(PerStyleNet(noise=0.03).eval()(flat).std().item() - 0.03) < 3e-3  # identity init + noise
    with pytest.raises(UserError, match="noise"):
        PerStyleNet(noise=-0.1)


def test_per_style_gradients_flow():
    net = perturb(PerStyleNet()).train()
    net(torch.rand(2, 3, 37, 41)).square().mean().backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(g.abs().sum() for g in grads) > 0


def test_arbitrary_shapes_gradients_and_frozen_encoder(arbitrary):
    code = arbitrary.encode_style(torch.rand(2, 3, 70, 45))
    assert code.shape == (2, 64)
    net = arbitrary.train()
    y = net(torch.rand(2, 3, 29, 53), code)
    assert y.shape == (2, 3, 29, 53) and torch.isfinite(y).all()
    y.mean().backward()
    assert all(p.grad is None for p in net.style_stats.parameters())
    assert net.to_mods.weight.grad.abs().sum() > 0 and net.style_mlp[0].weight.grad.abs().sum() > 0
    net.zero_grad(set_to_none=True)
    net.eval()


def test_arbitrary_strength_and_code_mixing(arbitrary):
    x = torch.rand(1, 3, 40, 36)
    codes = arbitrary.encode_style(torch.rand(2, 3, 48, 48))
    with torch.no_grad():
        assert torch.equal(arbitrary(x, codes[:1], strength=0.0), x)
        full, half = arbitrary(x, codes[:1]), arbitrary(x, codes[:1], strength=0.5)
        assert torch.allclose(half, (x + full) / 2, atol=1e-6)
        for i, weights in enumerate(([1.0, 0.0], [0.0, 1.0])):
            mixed = ArbitraryStyleNet.mix_codes(codes, weights)
            assert torch.allclose(arbitrary(x, mixed), arbitrary(x, codes[i: i + 1]), atol=1e-6)
        mid = arbitrary(x, ArbitraryStyleNet.mix_codes(codes, [1.0, 1.0]))
        assert not torch.allclose(mid, arbitrary(x, codes[:1]), atol=1e-4)


def test_arbitrary_with_statistics_reads_the_painting_from_its_first_step():
    """adain and colour_base: at initialization the output already depends on the painting, the code carries the
    bottleneck statistics and the colour moments, and with the head at zero the output is the recoloured photo."""
    from strotss.models.colour import colour_stats, match_colours

    torch.manual_seed(0)
    net = create_model("arbitrary", style_encoder="random", code_dim=8, adain=True, colour_base=True).eval()
    c2 = net.blocks[0].norm1.channels
    red, blue = torch.zeros(1, 3, 48, 48), torch.zeros(1, 3, 48, 48)
    red[:, 0], blue[:, 2] = 0.9, 0.8
    red, blue = red + 0.1 * torch.rand_like(red), blue + 0.1 * torch.rand_like(blue)
    codes = net.encode_style(torch.cat([red, blue]))
    assert codes.shape == (2, 8 + 2 * c2 + 12) and net.code_width == codes.shape[1]
    assert torch.allclose(codes[:, -12:], colour_stats(torch.cat([red, blue])))
    x = torch.rand(1, 3, 40, 36)
    with torch.no_grad():
        to_red, to_blue = net(x, codes[:1]), net(x, codes[1:])
        assert to_red[:, 0].mean() > to_blue[:, 0].mean() + 0.3 and to_blue[:, 2].mean() > to_red[:, 2].mean() + 0.3
    net.train()(x, codes[:1]).mean().backward()
    assert net.encoder[0][0][1].weight.grad.abs().sum() > 0
    with torch.no_grad():
        torch.nn.init.zeros_(net.head[-1].weight)
        assert torch.allclose(net.eval()(x, codes[:1]), match_colours(x, codes[:1, -12:]).clamp(1e-3, 1 - 1e-3),
                              atol=1e-5)


def test_normalized_code_stays_standardized_whatever_the_style_encoders_scale():
    """normalized_code: each code is standardized (mean 0, std 1), so a style MLP whose weights grow cannot blow the
    modulations out of range (unnormalized, the code tripled in 100 steps and killed the last decoder stage)."""
    torch.manual_seed(0)
    net = create_model("arbitrary", style_encoder="random", code_dim=16, normalized_code=True).eval()
    with torch.no_grad():
        net.style_mlp[-1].weight.mul_(50.0)
        codes = net.encode_style(torch.rand(3, 3, 40, 40))
    assert torch.allclose(codes.mean(1), torch.zeros(3), atol=1e-4)
    assert torch.allclose(codes.std(1, correction=0), torch.ones(3), atol=1e-3)
    assert (codes[0] - codes[1]).abs().mean() > 1e-3


def test_save_load_roundtrip_and_lightning_prefix(tmp_path):
    net = perturb(PerStyleNet(channels=(8, 16, 24), num_blocks=2))
    meta = {"model_kwargs": {"channels": (8, 16, 24), "num_blocks": 2}, "style_name": "mosaic", "train_size": 256}
    save_model(tmp_path / "m.pt", net, meta)
    loaded, info = load_model(tmp_path / "m.pt")
    assert info["model_name"] == "per_style" and info["style_name"] == "mosaic" and info["train_size"] == 256
    x = torch.rand(1, 3, 21, 22)
    assert torch.equal(loaded(x), net(x))
    lightning = {"strotss": info, "state_dict": {f"net.{k}": v for k, v in net.state_dict().items()},
                 "optimizer_states": []}
    torch.save(lightning, tmp_path / "l.ckpt")
    assert torch.equal(load_model(tmp_path / "l.ckpt")[0](x), net(x))


def test_load_rejects_foreign_files(tmp_path):
    from strotss.errors import UserError

    (tmp_path / "x.pt").write_bytes(b"garbage")
    torch.save({"weights": 1}, tmp_path / "y.pt")
    for name in ("x.pt", "y.pt", "missing.pt"):
        with pytest.raises(UserError, match=name):
            load_model(tmp_path / name)
    with pytest.raises(UserError, match="unknown model"):
        create_model("nope")


def test_a_misspelt_model_kwarg_is_a_user_error() -> None:
    """model_kwargs come from YAML configs: a key the network does not take is the user's to fix, not a TypeError."""
    with pytest.raises(UserError, match=r"model_kwargs 'sise': not an argument of the per_style network; use "):
        create_model("per_style", sise="base")


class GrayNet(Network):
    """A network kind of this test: its class (the Network defaults) and one KINDS line are all it declares."""

    def __init__(self, gain: float = 1.0) -> None:
        super().__init__()
        self.gain = torch.nn.Parameter(torch.tensor(gain))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(1, keepdim=True).expand_as(x) * self.gain


def test_a_kind_is_its_class_and_one_line(tmp_path, monkeypatch):
    """Registry, checkpoints and the uniform stylize call handle a kind declared only in strotss.models.kinds."""
    from strotss.models import KINDS
    from strotss.models.kinds import kind_of

    monkeypatch.setitem(KINDS, "gray", f"{__name__}:GrayNet")
    net = create_model("gray", gain=0.5)
    assert kind_of(net) == "gray" and not net.needs_style
    save_model(tmp_path / "g.pt", net, {"model_kwargs": {"gain": 0.5}})
    loaded, meta = load_model(tmp_path / "g.pt")
    x = torch.rand(2, 3, 9, 11)
    assert meta["model_name"] == "gray" and torch.equal(loaded.stylize(x, loaded.style_code(x)), net(x))
