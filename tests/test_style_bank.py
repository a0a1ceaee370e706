"""StyleBank: a style's features are extracted once, its samples are drawn afresh each step, seeded."""

from __future__ import annotations

import torch

from strotss.losses import build_extractor, moments, random_pixels, sample_hypercolumns
from strotss.train.style_bank import StyleBank


def test_draws_are_fresh_per_step_seeded_and_share_the_dense_moments() -> None:
    """Draw numbers give different samples (the same again for the same number); the moment target is the
    dense-grid one, close to the moments of all pixels; the extractor runs once per style."""
    torch.manual_seed(0)
    ext = build_extractor("vgg19", "random")
    style = torch.rand(1, 3, 40, 56)
    calls = []
    ext.register_forward_hook(lambda module, args, out: calls.append(1))
    bank = StyleBank(n_style=300, seed=1)
    a, b, a_again = (bank.targets(["s"], style, ext, draw=d) for d in (0, 1, 0))
    assert len(calls) == 1
    assert a.samples.shape == (1, 300, ext.num_channels)
    assert not torch.equal(a.samples, b.samples) and torch.equal(a.samples, a_again.samples)
    assert torch.equal(a.moments.cov, b.moments.cov)
    every = torch.stack(torch.meshgrid(torch.arange(40.0), torch.arange(56.0), indexing="ij"), -1).reshape(-1, 2)
    full = moments(sample_hypercolumns(style, ext(style), every, ext.strides))
    few = moments(sample_hypercolumns(style, ext(style), random_pixels(40, 56, 300), ext.strides))
    dense_err = float((a.moments.cov - full.cov).abs().mean())
    assert dense_err < 1e-6 * float(full.cov.abs().mean()) + 1e-9, "a 40×56 style fits the 128² grid: all pixels"
    assert float((few.cov - full.cov).abs().mean()) > 10 * dense_err


def test_a_batch_of_styles_gets_each_its_own_target() -> None:
    """Several keys: one target row per sample, rows of the same key equal, different keys different."""
    ext = build_extractor("vgg19", "random")
    styles = torch.rand(3, 3, 32, 32)
    bank = StyleBank(n_style=100, capacity=2)
    t = bank.targets(["x", "y", "x"], styles, ext, draw=5)
    assert t.samples.shape[0] == 3 and t.moments.cov.shape[0] == 3
    assert torch.equal(t.samples[0], t.samples[2]) and not torch.equal(t.samples[0], t.samples[1])
    bank.targets(["z"], styles[:1], ext)
    assert list(bank.cache) == ["y", "z"], "the least recently used style is dropped at capacity"
