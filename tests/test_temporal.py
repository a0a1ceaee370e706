"""The temporal consistency term: exact on motion-equivariant maps, positive on screen-pinned ones, and trainable."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from train_helpers import TINY_NET, make_folder

from strotss.errors import UserError
from strotss.losses import random_motion, temporal_loss, warp
from strotss.train.module import StrotssModule
from strotss.train.pairs import PairDataset, SampleSpec, collate_pairs
from strotss.train.sources import open_images


def _smooth_batch(n: int = 3, size: int = 64) -> torch.Tensor:
    """Smooth random images (low-pass noise), which bilinear resampling changes only slightly."""
    g = torch.Generator().manual_seed(0)
    coarse = torch.rand(n, 3, 8, 8, generator=g)
    return torch.nn.functional.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)


def test_identity_motion_leaves_images_unchanged_and_all_inside() -> None:
    x = _smooth_batch()
    identity = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]).expand(3, 2, 3)
    moved, inside = warp(x, identity)
    assert torch.allclose(moved, x, atol=1e-5)
    assert inside.min() == 1


def test_random_motion_is_seeded_small_and_varied() -> None:
    a = random_motion(8, torch.Generator().manual_seed(1))
    b = random_motion(8, torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    assert (a - torch.tensor([[1.0, 0, 0], [0, 1.0, 0]])).abs().max() < 0.12
    assert a[:, :, 2].std() > 0.005  # not all the same move


def test_the_term_is_near_zero_for_a_pointwise_map_and_large_for_a_screen_pinned_pattern() -> None:
    """A colour map commutes with motion (loss ≈ resampling error); adding a fixed pixel grid does not."""
    x = _smooth_batch()
    motion = random_motion(3, torch.Generator().manual_seed(2))
    moved, _ = warp(x, motion)
    colour = lambda t: 1 - t  # noqa: E731
    equivariant = temporal_loss(colour(moved), colour(x), motion)
    checker = ((torch.arange(64)[:, None] // 2 + torch.arange(64)[None] // 2) % 2).float() * 0.3
    pinned = temporal_loss(moved + checker, x + checker, motion)
    assert equivariant.shape == (3,)
    assert float(equivariant.max()) < 0.01
    assert float(pinned.min()) > 5 * float(equivariant.max())


def test_border_pixels_seen_from_outside_are_not_scored() -> None:
    """A pure shift by a quarter of the width: the uncovered strip, whatever it holds, does not count."""
    x = _smooth_batch(1)
    shift = torch.tensor([[[1.0, 0, 0.5], [0, 1.0, 0]]])  # the moved image samples x up to 1.5 half-widths right
    moved, inside = warp(x, shift)
    assert 0.7 < float(inside.mean()) < 0.8
    garbage = moved.clone()
    garbage[..., inside[0, 0] == 0] = torch.rand(int((inside == 0).sum()) * 3).reshape(3, -1)
    assert float(temporal_loss(garbage, x, shift)) < 1e-4


def test_training_with_the_term_lowers_it(tmp_path: Path) -> None:
    """A few steps on the temporal term alone make a random network's output more consistent under motion."""
    torch.manual_seed(0)
    content = open_images(make_folder(tmp_path / "c", 2))
    style = open_images(make_folder(tmp_path / "s", 1, seed=5))
    ds = PairDataset(content, style, SampleSpec(crop=48, style_size=48, n_positions=64, min_size=16))
    batch = collate_pairs([ds[0], ds[1]])
    module = StrotssModule(model_kwargs=TINY_NET, extractor_weights="random", n_style=64, temporal_weight=1.0)
    torch.nn.init.normal_(module.net.head[-1].weight, std=0.3)  # a fresh head is zero: output = input, no flicker
    opt = torch.optim.Adam(module.net.parameters(), lr=0.01)
    values = []
    for _ in range(25):
        output = module(batch["content"], batch["style"])
        term = module.temporal_term(batch, output, None)
        opt.zero_grad()
        term.backward()
        opt.step()
        values.append(float(term.detach()))
    assert values[0] > 0
    assert min(values[-5:]) < 0.5 * values[0], values[::5]


@pytest.mark.parametrize("weight", [-1.0, float("nan"), float("inf")])
def test_a_weight_that_is_not_a_weight_is_refused(weight: float) -> None:
    with pytest.raises(UserError, match="model.temporal_weight"):
        StrotssModule(model_kwargs=TINY_NET, extractor_weights="random", temporal_weight=weight)
