"""Linear colour transfer: the recoloured photo takes the painting's colour statistics and keeps its own layout."""

from __future__ import annotations

import numpy as np
import torch

from strotss.assets import asset_path
from strotss.imageio import read_rgb
from strotss.models.colour import colour_stats, match_colours, transfer_matrix


def _load(name: str) -> torch.Tensor:
    return torch.from_numpy(read_rgb(asset_path(name))).permute(2, 0, 1)[None].float() / 255.0


def test_recoloured_photo_takes_the_paintings_mean_and_covariance() -> None:
    photo, painting = _load("content/kodak_kodim01.jpg"), _load("style/adain_mondrian.jpg")
    target = colour_stats(painting)
    out = match_colours(photo, target)
    got = colour_stats(out)
    assert (got[:, :3] - target[:, :3]).abs().max() < 0.02
    assert (got[:, 3:] - target[:, 3:]).abs().max() < 0.1 * target[:, 3:].abs().max()
    before = (colour_stats(photo) - target).abs().mean()
    assert (got - target).abs().mean() < 0.2 * before


def test_recolouring_keeps_the_layout_and_is_the_identity_onto_itself() -> None:
    photo = _load("content/kodak_kodim08.jpg")
    same = match_colours(photo, colour_stats(photo))
    assert (same - photo).abs().max() < 2e-3
    out = match_colours(photo, colour_stats(_load("style/neuralstyle_the_scream.jpg")))
    corr = np.corrcoef(out.mean(1).flatten().numpy(), photo.mean(1).flatten().numpy())[0, 1]
    assert corr > 0.8 and (out - photo).abs().mean() > 0.05


def test_transfer_is_the_least_moving_map_for_a_rotation_of_colours() -> None:
    """Between two covariances that differ only by scale the least-moving map is that scale, not a rotation."""
    torch.manual_seed(0)
    x = torch.rand(1, 3, 40, 40)
    stats = colour_stats(x)
    doubled = torch.cat([stats[:, :3], 4.0 * stats[:, 3:]], dim=1)
    m = transfer_matrix(stats, doubled, eps=0.0)
    assert torch.allclose(m[0], 2.0 * torch.eye(3), atol=1e-3)


def test_grey_photo_and_gradients_stay_finite() -> None:
    grey = torch.rand(2, 1, 32, 32).expand(2, 3, 32, 32).clone().requires_grad_(True)
    out = match_colours(grey, colour_stats(_load("style/adain_mondrian.jpg")))
    out.sum().backward()
    assert torch.isfinite(out).all() and torch.isfinite(grey.grad).all()


def test_recolouring_under_bfloat16_autocast_stays_fp32_accurate() -> None:
    """Training runs under bf16 autocast; the matrix roots must not (in bf16 they diverged to NaN)."""
    photo, painting = _load("content/kodak_kodim03.jpg"), _load("style/adain_mondrian.jpg")
    target = colour_stats(painting)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = match_colours(photo, colour_stats(painting))
    assert torch.isfinite(out).all()
    assert (out - match_colours(photo, target)).abs().max() < 1e-4
