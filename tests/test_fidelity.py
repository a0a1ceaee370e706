"""The two quality axes (strotss.losses.fidelity): content kept and style distance, on real photos and paintings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from strotss.assets import asset_path
from strotss.imageio import read_rgb, resize_long_side, resize_to
from strotss.losses import FidelityScorer, build_extractor, to_tensor
from strotss.losses.fidelity import gram_distance, gram_matrix, ssim_luminance


@pytest.fixture(scope="module")
def extractor():
    """The embedded VGG19."""
    return build_extractor("vgg19")


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, np.ndarray]:
    """A bundled photo and painting at 128 px."""
    photo = resize_long_side(read_rgb(asset_path("content/kodak_kodim03.jpg")), 128)
    painting = resize_long_side(read_rgb(asset_path("style/pnst_vg_wheat_field.jpg")), 128)
    return photo, painting


def blur(img: np.ndarray, passes: int) -> np.ndarray:
    """The image box-blurred `passes` times (3×3), as uint8."""
    t = to_tensor(img, torch.device("cpu"))
    for _ in range(passes):
        t = F.avg_pool2d(F.pad(t, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    return (t[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def test_ssim_is_one_for_the_photo_and_falls_with_blur_and_for_another_image(pair) -> None:
    """SSIM keeps its meaning: identity 1, a blur loses structure, an unrelated picture keeps little."""
    photo, painting = pair
    t = lambda img: to_tensor(img, torch.device("cpu"))  # noqa: E731
    same = float(ssim_luminance(t(photo), t(photo))[0])
    blurred = [float(ssim_luminance(t(blur(photo, n)), t(photo))[0]) for n in (1, 4)]
    other = float(ssim_luminance(t(resize_to(painting, photo.shape[:2])), t(photo))[0])
    assert same == pytest.approx(1.0, abs=1e-5)
    assert 1.0 > blurred[0] > blurred[1] > other


def test_gram_distance_is_zero_for_the_painting_and_small_for_its_own_crops(pair, extractor) -> None:
    """A crop of the painting has nearly its Gram matrices; a photo is far from them."""
    from strotss.losses.fidelity import GRAM_TAPS, TappedTrunk

    photo, painting = pair
    trunk = TappedTrunk(extractor.body, list(GRAM_TAPS.values()))
    maps = lambda img: trunk(extractor.normalize(to_tensor(img, torch.device("cpu"))))  # noqa: E731
    style = maps(painting)
    h, w = painting.shape[:2]
    crop = painting[h // 4:, : 3 * w // 4]
    assert float(gram_distance(style, style)[0]) == pytest.approx(0.0, abs=1e-6)
    assert float(gram_distance(maps(crop), style)[0]) < 0.5 * float(gram_distance(maps(photo), style)[0])
    g = gram_matrix(style[0])
    assert torch.allclose(g, g.transpose(1, 2))


def test_fidelity_scorer_orders_photo_blend_and_painting_on_both_axes(pair, extractor) -> None:
    """Moving from the photo towards the painting loses content on both measures and gains style on Gram."""
    photo, painting = pair
    painting = resize_to(painting, photo.shape[:2])
    scorer = FidelityScorer(photo, painting, extractor)
    half = ((photo.astype(np.float32) + painting) / 2).round().astype(np.uint8)
    s_photo, s_half, s_paint = scorer(photo), scorer(half), scorer(painting)
    assert s_photo["ssim"] == pytest.approx(1.0, abs=1e-5) and s_photo["feature"] == pytest.approx(0.0, abs=1e-5)
    assert s_photo["ssim"] > s_half["ssim"] > s_paint["ssim"]
    assert s_photo["feature"] < s_half["feature"] < s_paint["feature"]
    assert s_photo["gram"] > s_half["gram"] > s_paint["gram"] == pytest.approx(0.0, abs=1e-5)
    with pytest.raises(ValueError, match="differ in size"):
        scorer(photo[:64])
