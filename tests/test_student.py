"""strotss.student.Student: one style code per style image, reused across calls but never across styles."""

from __future__ import annotations

import numpy as np

from strotss.assets import asset_path
from strotss.imageio import read_rgb
from strotss.student import Student


def test_style_code_is_reused_only_for_the_same_style():
    photo = read_rgb(asset_path("content/kodak_kodim04.jpg"))
    wheat = read_rgb(asset_path("style/pnst_vg_wheat_field.jpg"))
    wave = read_rgb(asset_path("style/pnst_wave_crop.jpg"))
    student = Student("arbitrary")
    first = student.stylize(photo, wheat, 64)
    assert np.array_equal(student.stylize(photo, wheat, 64), first)
    other = student.stylize(photo, wave, 64)
    assert np.array_equal(other, Student("arbitrary").stylize(photo, wave, 64))
    assert np.abs(other.astype(int) - first).mean() > 2
