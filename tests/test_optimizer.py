"""The per-image optimizer with the embedded VGG19: the objective falls, colours move, guidance is obeyed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from strotss.assets import asset_path
from strotss.imageio import read_rgb, resize_long_side
from strotss.losses import build_extractor, score_image, to_tensor
from strotss.teacher.config import StrotssConfig
from strotss.teacher.guidance import region_masks
from strotss.teacher.optimizer import optimize_image
from strotss.teacher.pyramid import collapse_pyramid, laplacian_pyramid

CONTENT = asset_path("content/kodak_kodim16.jpg")
STYLE = asset_path("style/pnst_vg_wheat_field.jpg")


@pytest.fixture(scope="module")
def vgg19():
    """The embedded, real VGG19 (shared across tests: loading costs seconds)."""
    return build_extractor("vgg19")


def test_pyramid_round_trip_is_exact():
    x = torch.rand(1, 3, 77, 130)
    pyr = laplacian_pyramid(x, 5)
    assert len(pyr) == 6
    assert torch.allclose(collapse_pyramid(pyr), x, atol=1e-6)


def test_scale_schedule_doubles_from_64():
    assert StrotssConfig(size=512).scales == [64, 128, 256, 512]
    assert StrotssConfig(size=256).scales == [64, 128, 256]
    assert StrotssConfig(size=384).scales == [96, 192, 384]
    assert StrotssConfig(size=512, iters=10, init_scales=2).total_iters(warm_start=True) == 20


@pytest.mark.slow
def test_optimizing_lowers_objective_and_moves_colours(vgg19):
    content, style = read_rgb(CONTENT), read_rgb(STYLE)
    result = optimize_image(content, style, StrotssConfig(size=128, iters=25, alpha=1.0), extractor=vgg19, progress=False)
    first_scale = [h["total"] for h in result.history if h["level"] == 0]
    assert first_scale[-1] < 0.7 * first_scale[0]

    out = to_tensor(result.image, torch.device("cpu"))
    c = to_tensor(resize_long_side(content, 128), torch.device("cpu"))
    s = to_tensor(resize_long_side(style, 128), torch.device("cpu"))
    scored_out = score_image(out, c, s, vgg19)["total"]
    scored_content = score_image(c, c, s, vgg19)["total"]
    assert scored_out < 0.7 * scored_content

    style_mean = s.mean(dim=(0, 2, 3))
    assert (out.mean(dim=(0, 2, 3)) - style_mean).norm() < 0.6 * (c.mean(dim=(0, 2, 3)) - style_mean).norm()


@pytest.mark.slow
def test_default_alpha_keeps_more_of_the_photo_than_the_papers(vgg19):
    """The optimizer's default α (4) keeps more of the photo than the paper's α = 1, which can repaint subjects."""
    from strotss.losses.fidelity import ssim_luminance

    content, style = read_rgb(CONTENT), read_rgb(STYLE)
    assert StrotssConfig().alpha > 1.0
    photo = to_tensor(resize_long_side(content, 128), torch.device("cpu"))
    kept = {}
    for alpha in (1.0, StrotssConfig().alpha):
        result = optimize_image(content, style, StrotssConfig(size=128, iters=25, alpha=alpha), extractor=vgg19,
                                progress=False)
        kept[alpha] = float(ssim_luminance(to_tensor(result.image, torch.device("cpu")), photo).mean())
    assert kept[StrotssConfig().alpha] > kept[1.0] + 0.02, kept


@pytest.mark.slow
def test_regions_take_colours_of_their_paired_style_region(vgg19):
    """Swap the style mask's colours so sky must become field and sea must become sky: a non-trivial pairing."""
    content, style = read_rgb(CONTENT), read_rgb(STYLE)
    cmask = read_rgb(asset_path("guidance/content_mask.png"))
    smask = read_rgb(asset_path("guidance/style_mask.png"))[..., [0, 2, 1]]
    masks = region_masks(cmask, smask, content.shape[:2], style.shape[:2])
    result = optimize_image(content, style, StrotssConfig(size=96, iters=25), regions=masks,
                            extractor=vgg19, progress=False)
    out = torch.from_numpy(result.image)
    style_t = torch.from_numpy(style.astype(np.float32) / 255)
    content_t = torch.from_numpy(resize_long_side(content, 96).astype(np.float32) / 255)
    cm, sm = masks.at(out.shape[:2], style_t.shape[:2])
    style_means = torch.stack([style_t[m].mean(0) for m in sm])

    def closest_region(img):
        """For each style region, which image region has the nearest mean colour."""
        return torch.cdist(torch.stack([img[m].mean(0) for m in cm]), style_means).argmin(dim=0)

    pairs = torch.arange(len(cm))
    assert not torch.equal(closest_region(content_t), pairs), "the swapped pairing must be non-trivial"
    assert torch.equal(closest_region(out), pairs)


def test_warm_start_runs_only_the_last_scale(vgg19):
    content, style = read_rgb(CONTENT), read_rgb(STYLE)
    init = resize_long_side(content, 40)
    result = optimize_image(content, style, StrotssConfig(size=128, iters=2), init=init,
                            extractor=vgg19, progress=False)
    assert {h["size"] for h in result.history} == {128}
    assert result.image.shape[:2] == resize_long_side(content, 128).shape[:2]
