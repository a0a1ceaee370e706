"""Function-level tests of the GUI's pieces: upload checks, masks from layers, points, refine job, student, CLI."""

from __future__ import annotations

import shlex
import threading

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("gradio")

from strotss.assets import asset_path  # noqa: E402
from strotss.cli import build_parser, main  # noqa: E402
from strotss.errors import UserError  # noqa: E402
from strotss.gui.inputs import check_mask_fits, load_upload  # noqa: E402
from strotss.gui.jobs import JobCancelled, RefineJob, run_refine  # noqa: E402
from strotss.gui.masks import BACKGROUND, layers_to_mask, pair_masks, snap_mask, tint  # noqa: E402
from strotss.gui.points import add_click, as_array, format_pairs, save_pairs  # noqa: E402
from strotss.imageio import read_rgb  # noqa: E402
from strotss.teacher.guidance import load_points  # noqa: E402

BLUE, GREEN = (0, 0, 255), (0, 255, 0)


def _layer(hw: tuple[int, int], rows: slice, colour: tuple[int, int, int], alpha: int = 153) -> np.ndarray:
    """An RGBA layer painted with one colour on some rows."""
    layer = np.zeros((*hw, 4), dtype=np.uint8)
    layer[rows] = (*colour, alpha)
    return layer


def test_bad_uploads_give_readable_errors(tmp_path):
    """Not an image, over the pixel limit, a mask for another picture: one-line UserErrors."""
    text = tmp_path / "a.png"
    text.write_text("hello")
    with pytest.raises(UserError, match="not an image"):
        load_upload(text, 10_000, "content image")
    big = tmp_path / "big.png"
    Image.new("RGB", (200, 100)).save(big)
    with pytest.raises(UserError, match=r"200×100 px .* over this page's limit"):
        load_upload(big, 10_000, "content image")
    assert load_upload(big, 20_000, "content image").shape == (100, 200, 3)
    with pytest.raises(UserError, match="must have its image's shape"):
        check_mask_fits(np.zeros((100, 100, 3), np.uint8), np.zeros((100, 200, 3), np.uint8), "content mask")
    check_mask_fits(np.zeros((50, 100, 3), np.uint8), np.zeros((100, 200, 3), np.uint8), "content mask")


def test_layers_become_palette_masks_with_background_rule():
    """Paint snaps to the palette, later layers win, unpainted = black; pairing rules give readable errors."""
    hw = (40, 60)
    noisy = _layer(hw, slice(0, 20), (10, 20, 240))
    mask = layers_to_mask([noisy, _layer(hw, slice(10, 20), GREEN), _layer(hw, slice(30, 40), GREEN, alpha=5)], hw)
    assert tuple(mask[0, 0]) == BLUE and tuple(mask[15, 0]) == GREEN and tuple(mask[35, 0]) == BACKGROUND
    style = layers_to_mask([_layer(hw, slice(0, 10), BLUE), _layer(hw, slice(10, 30), GREEN)], hw)
    assert len(pair_masks(mask, style).colours) == 3
    assert pair_masks(np.zeros_like(mask), np.zeros_like(mask)) is None
    full = layers_to_mask([_layer(hw, slice(0, 40), BLUE)], hw)
    with pytest.raises(UserError, match="unpainted pixels but the content is fully painted"):
        pair_masks(full, layers_to_mask([_layer(hw, slice(0, 20), BLUE)], hw))
    with pytest.raises(UserError, match="green is painted on the content but not on the style"):
        pair_masks(mask, layers_to_mask([_layer(hw, slice(0, 10), BLUE)], hw))


def test_uploaded_mask_is_the_base_under_new_paint():
    """A bundled mask snaps to the palette, is tinted for display, and new paint goes over it."""
    image = read_rgb(asset_path("content/kodak_kodim16.jpg"))
    mask = snap_mask(read_rgb(asset_path("guidance/content_mask.png")), image.shape[:2])
    colours = {tuple(c) for c in np.unique(mask.reshape(-1, 3), axis=0)}
    assert colours == {BLUE, GREEN}
    assert tint(image, mask).shape == image.shape
    painted = layers_to_mask([_layer(image.shape[:2], slice(0, 5), (255, 0, 0))], image.shape[:2], mask)
    assert tuple(painted[0, 0]) == (255, 0, 0) and tuple(painted[-1, 0]) == tuple(mask[-1, 0])


def test_point_clicks_round_trip_through_the_cli_format(tmp_path):
    """Content click then style click makes a pair; a style click first only asks for the content one."""
    pairs, pending, note = add_click([], None, "style", (1, 2))
    assert pairs == [] and "content image first" in note
    pairs, pending, _ = add_click(pairs, None, "content", (3, 4))
    pairs, pending, _ = add_click(pairs, pending, "style", (5, 6))
    assert pairs == [[3, 4, 5, 6]] and pending is None and "(3, 4) → (5, 6)" in format_pairs(pairs)
    np.testing.assert_array_equal(load_points(save_pairs(tmp_path / "p.txt", pairs)), as_array(pairs))


@pytest.fixture(scope="module")
def images():
    """Small bundled content and style images."""
    from strotss.imageio import resize_long_side

    return (resize_long_side(read_rgb(asset_path("content/kodak_kodim16.jpg")), 96),
            resize_long_side(read_rgb(asset_path("style/pnst_vg_wheat_field.jpg")), 96))


def test_refine_streams_and_its_command_reproduces_it(images, tmp_path):
    """Refine yields progress every few iterations, saves plain files, and the shown command reruns the same edit."""
    content, style = images
    cmask = snap_mask(read_rgb(asset_path("guidance/content_mask.png")), content.shape[:2])
    smask = snap_mask(read_rgb(asset_path("guidance/style_mask.png")), style.shape[:2])
    job = RefineJob(tmp_path / "edit", content, style, 64, 1.0, 3, 6, (cmask, smask),
                    as_array([[10, 10, 20, 20]]), init=None)
    updates = list(run_refine(job, threading.Event(), every=2))
    assert [u.step for u in updates] == [2, 4, 6, 6] and updates[-1].done
    final = updates[-1]
    assert {f.name for f in final.files} == {"result.png", "content_mask.png", "style_mask.png", "points.txt"}
    argv = shlex.split(final.command)
    assert argv[:2] == ["strotss", "optimize"] and "--regions" in argv and "--points" in argv
    out = tmp_path / "cli.png"
    argv[argv.index("-o") + 1] = str(out)
    assert main(argv[1:] + ["--quiet"]) == 0
    diff = np.abs(read_rgb(out).astype(int) - read_rgb(final.files[0]).astype(int))
    assert diff.max() <= 2


def test_refine_warm_start_and_cancel(images, tmp_path):
    """With a preview the command has --init; setting the stop event ends the run with JobCancelled."""
    content, style = images
    stop = threading.Event()
    job = RefineJob(tmp_path / "edit", content, style, 128, 1.0, 0, 50, init=content)
    gen = run_refine(job, stop, every=1)
    first = next(gen)
    assert first.total == 50 and first.image.shape[:2] == (85, 128)
    stop.set()
    with pytest.raises(JobCancelled):
        list(gen)
    assert (tmp_path / "edit" / "preview.png").is_file() and not (tmp_path / "edit" / "result.png").exists()


def test_student_preview_from_checkpoint(images, tmp_path):
    """A saved per-style checkpoint previews at the output size."""
    from strotss.student import Student
    from strotss.models import create_model, save_model

    path = save_model(tmp_path / "s.pt", create_model("per_style", channels=(8, 16, 32), num_blocks=1),
                      {"model_kwargs": {"channels": (8, 16, 32), "num_blocks": 1}})
    out = Student(path).stylize(*images, 64)
    assert out.dtype == np.uint8 and out.shape == (43, 64, 3)


def test_gui_verb_flags():
    """`strotss gui` parses host, port, model and the upload limit; tiny limits are refused."""
    args = build_parser().parse_args(["gui", "--port", "8123", "--max-pixels", "1000"])
    assert (args.host, args.port, args.max_pixels, args.model) == ("127.0.0.1", 8123, 1000, "arbitrary")
    assert main(["gui", "--max-pixels", "10"]) == 2
