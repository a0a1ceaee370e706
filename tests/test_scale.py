"""strotss.export.scale: the working size of a model and enlarging its result with the photo's detail."""

from __future__ import annotations

import numpy as np

from strotss.assets import asset_path
from strotss.export.scale import DEFAULT_WORK_SIDE, model_work_side, upsample_with_detail, work_side
from strotss.imageio import read_rgb, resize_long_side, resize_to


def test_work_side_rules():
    assert model_work_side({"train_size": "256"}) == 256
    assert model_work_side({"train_size": ""}) == model_work_side({}) == DEFAULT_WORK_SIDE
    assert work_side(4000, None, 256) == 256 and work_side(200, None, 256) == 200
    assert work_side(4000, 512, 256) == 512 and work_side(4000, 0, 256) == 4000


def test_detail_comes_back_where_the_result_follows_the_photo():
    """An identity 'stylization' enlarged with detail is closer to the photo than a plain enlargement; a flat
    one (which follows nothing) stays flat."""
    photo = read_rgb(asset_path("content/kodak_kodim01.jpg"))
    small = resize_long_side(photo, 128)
    plain = resize_to(small, photo.shape[:2])
    detailed = upsample_with_detail(small, photo, small)
    assert detailed.shape == photo.shape
    error = lambda img: np.abs(img.astype(int) - photo).mean()  # noqa: E731
    assert error(detailed) < 0.8 * error(plain)
    flat = np.full_like(small, 120)
    assert np.abs(upsample_with_detail(flat, photo, small).astype(int) - 120).max() <= 1
