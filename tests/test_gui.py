"""Function-level tests of the GUI's pieces: upload checks, masks from layers, points, refine job, student, CLI."""

from __future__ import annotations

import contextlib
import io
import json
import shlex
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("gradio")

from strotss.assets import asset_path  # noqa: E402
from strotss.cli import build_parser, main  # noqa: E402
from strotss.errors import UserError  # noqa: E402
from strotss.gui.inputs import load_upload  # noqa: E402
from strotss.gui.jobs import JobCancelled, RefineJob, run_refine  # noqa: E402
from strotss.gui.app import Handlers  # noqa: E402
from strotss.gui.masks import BACKGROUND, layers_to_mask, pair_masks, snap_mask  # noqa: E402
from strotss.gui.points import add_click, as_array, format_pairs, save_pairs  # noqa: E402
from strotss.gui.request import (MaskBase, Oversized, PageValues, Preview, RefineRequest, before_after,  # noqa: E402
                                 describe, digest, editor_image, read_side)
from strotss.imageio import check_mask_fits, read_rgb  # noqa: E402
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
        check_mask_fits((100, 100), (100, 200), "content mask")
    check_mask_fits((50, 100), (100, 200), "content mask")


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


def _rgba(image: np.ndarray) -> np.ndarray:
    """An opaque RGBA copy, as the editor sends its background."""
    return np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])


def _editor(image: np.ndarray, layers: list[np.ndarray] | None = None) -> dict:
    """An editor value as the page receives it: RGBA background and layers."""
    return {"background": _rgba(image), "layers": layers or [], "composite": _rgba(image)}


def test_uploaded_mask_is_the_base_under_new_paint():
    """A bundled mask snaps to the palette and is shown tinted; while the editor shows that view, the side reads as
    the untinted image with new paint over the mask; once another image is uploaded, the mask no longer applies."""
    image = read_rgb(asset_path("content/kodak_kodim16.jpg"))
    hw = image.shape[:2]
    mask = snap_mask(read_rgb(asset_path("guidance/content_mask.png")), hw)
    assert {tuple(c) for c in np.unique(mask.reshape(-1, 3), axis=0)} == {BLUE, GREEN}
    base = MaskBase.over(image, mask)
    assert not np.array_equal(base.view(), image)
    shown, painted = read_side(_editor(base.view(), [_layer(hw, slice(0, 5), (255, 0, 0))]), base, 10**7, "content")
    np.testing.assert_array_equal(shown, image)
    assert tuple(painted[0, 0]) == (255, 0, 0) and tuple(painted[-1, 0]) == tuple(mask[-1, 0])
    assert describe("content", shown, painted) == "content image 512×341 px · regions blue, green, red"
    other = image[::-1].copy()
    shown, painted = read_side(_editor(other), base, 10**7, "content")
    np.testing.assert_array_equal(shown, other)
    assert not painted.any() and describe("content", shown, painted).endswith("no regions painted")


def test_editor_images_are_checked_and_flattened():
    """Missing and oversized editor images are one-line UserErrors; transparency is flattened on white."""
    with pytest.raises(UserError, match="content image: none loaded"):
        editor_image(None, 100, "content image")
    with pytest.raises(UserError, match=r"style image: 700×700 px is 0\.5 MP, over this page's limit"):
        editor_image({"background": Oversized(700, 700)}, 600 * 600, "style image")
    with pytest.raises(UserError, match="20×10 px"):
        editor_image({"background": np.zeros((10, 20, 4), np.uint8)}, 100, "content image")
    clear = np.zeros((2, 2, 4), np.uint8)
    clear[0, 0] = (10, 20, 30, 255)
    flat = editor_image({"background": clear}, 100, "content image")
    assert tuple(flat[0, 0]) == (10, 20, 30) and tuple(flat[1, 1]) == (255, 255, 255)


def test_editor_decoding_stops_at_the_pixel_limit(tmp_path):
    """An editor upload over the limit is read from its header only and reaches the handler as Oversized."""
    import gradio as gr

    from strotss.gui.app import limit_decoding

    editor = limit_decoding(gr.ImageEditor(type="numpy", render=False), 600 * 600)
    big, small = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (700, 700)).save(big, "PNG")
    Image.new("RGB", (30, 20)).save(small, "PNG")
    assert editor.convert_and_format_image(big.getvalue()) == Oversized(700, 700)
    assert editor.convert_and_format_image(small.getvalue()).shape == (20, 30, 4)


def test_empty_and_non_image_uploads_get_one_line_messages(tmp_path):
    """An empty file or a text file sent to an editor (as the page's API can) or to Load saved mask: a message naming
    the file, not Gradio's raw PIL error with the server's temporary path; a broken layer is refused too."""
    import gradio as gr
    from gradio.data_classes import FileData
    from gradio.components.image_editor import EditorData

    from strotss.gui.app import limit_decoding

    editor = limit_decoding(gr.ImageEditor(type="numpy", image_mode="RGBA", render=False), 600 * 600)
    empty, text = tmp_path / "empty.png", tmp_path / "notes.png"
    empty.write_bytes(b"")
    text.write_text("this is not a picture")
    h = Handlers(tmp_path, max_pixels=600 * 600)
    for path, what in ((empty, "an empty file"), (text, "not an image")):
        value = editor.preprocess(EditorData(background=FileData(path=str(path), orig_name=path.name), layers=[]))
        message = h.image_loaded("content", value, None)[-1]
        assert f"content image ({path.name}): {what}" in message and "upload a JPEG, PNG" in message
        assert str(tmp_path) not in message
        picture = _editor(np.zeros((20, 30, 3), np.uint8))
        assert f"content mask ({path.name}): {what}" in h.load_mask("content", str(path), picture, None)[-1]
    good = tmp_path / "good.png"
    Image.new("RGB", (30, 20)).save(good)
    broken = editor.preprocess(EditorData(background=FileData(path=str(good)), layers=[FileData(path=str(text))]))
    values = PageValues(broken, _editor(np.zeros((20, 30, 3), np.uint8)), None, None, [], None, 1.0, 64, 10, 0)
    with pytest.raises(UserError, match="content image: its painted layer is not a readable image"):
        RefineRequest.from_page(values, 600 * 600)


def _free_port() -> int:
    """An unused TCP port on the loopback interface."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_served_page_caps_uploads_and_serves_no_work_folder_file(tmp_path, monkeypatch):
    """Real HTTP to the launched page on 127.0.0.1: an upload over the cap is refused (413) and not kept; a checkpoint
    in the work folder is not served; empty and non-image files sent to the page's API get one-line messages; a mask
    upload is deleted once read."""
    import httpx
    from gradio_client import Client, handle_file

    from strotss.gui.app import launch, upload_limit

    uploads, work = tmp_path / "gradio-uploads", tmp_path / "work"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(uploads))
    checkpoint = work / "run" / "last.ckpt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"weights")
    port = _free_port()
    demo = launch("127.0.0.1", port, work, block=False, model=None, max_pixels=600 * 600)
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=60) as web:
            assert web.get(f"/gradio_api/file={checkpoint}").status_code == 403
            big = web.post("/gradio_api/upload", files={"files": ("big.png", b"\0" * (upload_limit(600 * 600) + 1))})
            assert big.status_code == 413 and not list(uploads.rglob("big.png"))
            small = web.post("/gradio_api/upload", files={"files": ("small.png", b"\0" * 1000)})
            assert small.status_code == 200 and Path(small.json()[0]).is_file()
        client = Client(url, verbose=False)
        for name, data, what in (("empty.png", b"", "an empty file"), ("notes.png", b"not a picture", "not an image")):
            (tmp_path / name).write_bytes(data)
            editor = {"background": handle_file(str(tmp_path / name)), "layers": [], "composite": None}
            message = client.predict(editor, api_name="/content_upload")[-1]
            assert f"content image ({name}): {what}" in message and str(uploads) not in message
        image = tmp_path / "photo.png"
        Image.new("RGB", (90, 60), "gray").save(image)
        editor = {"background": handle_file(str(image)), "layers": [], "composite": None}
        mask = tmp_path / "my_mask.png"
        Image.new("RGB", (90, 60), "blue").save(mask)
        message = client.predict(handle_file(str(mask)), editor, api_name="/content_mask")[-1]
        assert message == "content image 90×60 px · regions blue" and not list(uploads.rglob("my_mask.png"))
    finally:
        demo.close()


def test_request_from_page_values():
    """The request reads images and masks from the editors, keeps a preview only for the same content and size."""
    content = read_rgb(asset_path("content/kodak_kodim16.jpg"))
    style = read_rgb(asset_path("style/pnst_vg_wheat_field.jpg"))
    preview = Preview(digest(content), 64, np.zeros((43, 64, 3), np.uint8))
    layer = _layer(style.shape[:2], slice(0, 10), BLUE)
    values = PageValues(_editor(content), _editor(style, [layer]), None, None, [[1, 2, 3, 4]], preview, 0.5, 64, 10, 3)
    req = RefineRequest.from_page(values, 10**7)
    np.testing.assert_array_equal(req.content, content)
    assert req.init is preview.image and (req.alpha, req.size, req.iters, req.seed) == (0.5, 64, 10, 3)
    assert not req.masks[0].any() and tuple(req.masks[1][0, 0]) == BLUE and tuple(req.masks[1][-1, 0]) == BACKGROUND
    assert req.points.tolist() == [[1, 2, 3, 4]]
    assert RefineRequest.from_page(values._replace(size=128), 10**7).init is None
    assert RefineRequest.from_page(values._replace(content=_editor(style)), 10**7).init is None
    with pytest.raises(UserError, match="blue is painted on the style but not on the content"):
        req.job(Path("unused"))
    with pytest.raises(UserError, match="style image: none loaded"):
        RefineRequest.from_page(values._replace(style=None), 10**7)


def test_handlers_answer_with_one_line_messages(tmp_path):
    """Mask and bundled-image handlers validate and describe; Preview without a student says how to turn it on."""
    h = Handlers(tmp_path, max_pixels=600 * 600)
    image = read_rgb(asset_path("content/kodak_kodim16.jpg"))
    editor, base, _, message = h.load_mask("content", str(asset_path("guidance/style_mask.png")), _editor(image), None)
    assert base is not None and "must have its image's shape" in message  # base is gr.skip(): nothing changes
    editor, base, _, message = h.load_mask("content", str(asset_path("guidance/content_mask.png")), _editor(image),
                                           None)
    np.testing.assert_array_equal(base.image, image)
    assert editor["background"].shape == image.shape and message == "content image 512×341 px · regions blue, green"
    assert h.image_loaded("content", _editor(base.view()), base)[-1] == message  # the editor echoing the tinted view
    assert "over this page's limit" in h.image_loaded("content", {"background": Oversized(700, 700)}, None)[-1]
    editor, base, view, *_, message = h.pick("style", "pnst_vg_wheat_field.jpg")
    assert base is None and view.shape == (405, 512, 3) and message.startswith("style image 512×405 px")
    values = PageValues(_editor(image), _editor(image), None, None, [], None, 1.0, 64, 10, 0)
    assert "Preview is off" in h.preview(*values)[-1]


def _many_colour_mask(path: Path, hw: tuple[int, int], levels: int) -> Path:
    """A mask cycling through levels³ colours (levels per channel), each covering 1/levels³ of it."""
    steps = np.linspace(0, 255, levels).astype(np.uint8)
    colours = np.stack(np.meshgrid(steps, steps, steps, indexing="ij"), -1).reshape(-1, 3)
    Image.fromarray(colours[np.arange(hw[0] * hw[1]).reshape(hw) % len(colours)]).save(path)
    return path


def test_masks_with_hundreds_of_colours_are_refused_in_one_line(tmp_path, capsys):
    """512 colours (8 levels per channel) on Load saved mask and on `optimize --regions`: the count, the limit and
    what to do, in one line, instead of numpy's broadcasting ValueError; 64 colours are over the limit too."""
    image = read_rgb(asset_path("content/kodak_kodim16.jpg"))
    mask = _many_colour_mask(tmp_path / "gradient.png", image.shape[:2], 8)
    h = Handlers(tmp_path, max_pixels=600 * 600)
    message = h.load_mask("content", str(mask), _editor(image), None)[-1]
    assert "content mask (gradient.png): 512 colours, none covers 0.2% of it; a region mask needs 1 to 32 flat " \
           "colours" in message and "repaint it with a few solid colours" in message
    message = h.load_mask("content", str(_many_colour_mask(tmp_path / "m.png", image.shape[:2], 4)), _editor(image),
                          None)[-1]
    assert "64 colours, 64 regions" in message
    out = tmp_path / "out.png"
    assert main(["optimize", str(asset_path("content/kodak_kodim16.jpg")), str(asset_path("style/pnst_vg_wheat_field.jpg")),
                 "-o", str(out), "--regions", str(mask), str(asset_path("guidance/style_mask.png"))]) == 2
    err = capsys.readouterr().err
    assert "gradient.png: 512 colours, none covers 0.2% of it" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_refine_checks_the_seed_and_leaves_no_folder_on_failure(tmp_path):
    """A seed of 1e25 (torch's overflow), below 0, fractional or empty is a one-line message before any work; a
    request failing after its folder was made (a region without partner) leaves no edit-* folder either."""
    h = Handlers(tmp_path, max_pixels=600 * 600)
    image = read_rgb(asset_path("content/kodak_kodim16.jpg"))
    values = PageValues(_editor(image), _editor(image), None, None, [], None, 1.0, 64, 10, 0)
    visitor = SimpleNamespace(session_hash="visitor")
    for seed, shown in ((1e25, "seed 1e+25: out of range"), (-1, "seed -1: out of range"),
                        (2.5, "seed 2.5: out of range"), (None, "seed: empty")):
        updates = list(h.refine(visitor, *values._replace(seed=seed)))
        assert len(updates) == 1 and updates[0][1] == "not started", seed
        assert shown in updates[0][-1] and "whole number from 0 to 4294967295" in updates[0][-1]
    unpaired = values._replace(content=_editor(image, [_layer(image.shape[:2], slice(0, 50), BLUE)]))
    assert "blue is painted on the content but not on the style" in list(h.refine(visitor, *unpaired))[0][-1]
    assert list(tmp_path.iterdir()) == [] and h.stops == {}


def test_before_after_shows_both_at_one_size():
    """A small result is raised to the content's size (up to the display limit), both sides the same shape."""
    before, after = before_after(np.zeros((341, 512, 3), np.uint8), np.full((43, 64, 3), 7, np.uint8))
    assert before.shape == after.shape == (344, 512, 3) and after.min() == 7
    before, after = before_after(np.zeros((3000, 4000, 3), np.uint8), np.zeros((96, 128, 3), np.uint8))
    assert before.shape == after.shape == (576, 768, 3)


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


def test_preview_follows_the_alpha_slider_within_the_students_range(tmp_path):
    """A student conditioned on α previews at the slider's α (clamped to its range): 1 and 8 differ, 0.05 is 1 (an
    exported student refuses α outside its range, so without the clamp the slider's low end would fail)."""
    from strotss.export.onnx_export import export_onnx
    from strotss.models import create_model, save_model
    from strotss.student import Student

    kwargs = {"channels": (8, 16, 24), "num_blocks": 1, "alpha_range": (1.0, 8.0), "alpha": 4.0}
    net = create_model("per_style", **kwargs)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    save_model(tmp_path / "k.pt", net, {"model_kwargs": kwargs, "style_name": "any", "train_size": 256})
    with contextlib.redirect_stdout(io.StringIO()):
        onnx_path = export_onnx(tmp_path / "k.pt", tmp_path / "k.onnx")[0]
    h = Handlers(tmp_path, student=Student(onnx_path))
    image = read_rgb(asset_path("content/kodak_kodim16.jpg"))

    def preview(alpha: float) -> np.ndarray:
        return h.preview(*PageValues(_editor(image), _editor(image), None, None, [], None, alpha, 64, 10, 0))[1].image

    low, high = preview(1.0), preview(8.0)
    assert np.abs(low.astype(int) - high.astype(int)).mean() > 1.0
    np.testing.assert_array_equal(preview(0.05), low)


def test_gui_verb_flags():
    """`strotss gui` parses host, port, model and the upload limit; tiny limits are refused."""
    args = build_parser().parse_args(["gui", "--port", "8123", "--max-pixels", "1000"])
    assert (args.host, args.port, args.max_pixels, args.model) == ("127.0.0.1", 8123, 1000, "arbitrary")
    assert main(["gui", "--max-pixels", "10"]) == 2


def test_bundled_choice_asks_before_discarding_paint(tmp_path):
    """Issue 17: the "choose…" value a list sends as it resets changes nothing; a bundled image chosen over painted
    regions only asks, and the same choice again replaces image and paint (asked again if the paint changed since);
    each choice puts the list back on "choose…" so the same image can be chosen again."""
    import gradio as gr

    from strotss.gui.app import CHOOSE

    h = Handlers(tmp_path, max_pixels=600 * 600)
    photo = np.full((60, 90, 3), 128, np.uint8)
    painted = _editor(photo, [_layer((60, 90), slice(0, 20), BLUE)])
    assert h.pick("content", CHOOSE, painted, None, None) == (gr.skip(),) * 8
    editor, base, view, status, listed, pending, seen, message = h.pick("content", "kodak_kodim16.jpg", painted)
    assert (editor, base, view, status, seen) == (gr.skip(),) * 5 and listed == gr.update(value=CHOOSE)
    assert "the content image (90×60 px) with regions blue is painted; choose kodak_kodim16.jpg again to replace it " \
           "and discard the paint" in message
    more = _editor(photo, [_layer((60, 90), slice(0, 40), GREEN)])
    assert h.pick("content", "kodak_kodim16.jpg", more, None, pending)[0] == gr.skip()  # other paint: asks again
    editor, base, view, status, listed, pending, seen, message = h.pick("content", "kodak_kodim16.jpg", painted,
                                                                        None, pending)
    assert editor["background"].shape == (341, 512, 3) and editor["layers"] == [] and base is None
    assert pending is None and listed == gr.update(value=CHOOSE) and message.startswith("content image 512×341 px")
    assert status.startswith("content changed") and seen == digest(editor["background"])
    assert h.pick("content", "kodak_kodim16.jpg", _editor(photo), None, None)[0]["background"].shape == (341, 512, 3)


def test_cancel_and_status_say_what_is_on_screen(images, tmp_path):
    """Issue 18: Cancel with nothing running says so; Refine says "starting…" at once; a Refine cancelled while it
    waits changes nothing on screen; one cancelled mid-run ends on "cancelled at iteration k/N" with Downloads and
    command cleared (its unfinished image stays, named as such), and Cancel disabled; Preview replaces the status."""
    content, style = images
    h = Handlers(tmp_path, max_pixels=600 * 600)
    visitor = SimpleNamespace(session_hash="visitor")
    status, button = h.cancel(visitor)
    assert status.startswith("nothing to cancel") and button.interactive is False
    status, button = h.starting(visitor)
    assert status == "starting…" and button.interactive is True
    assert h.cancel(visitor)[0].startswith("cancelling")
    values = PageValues(_editor(content), _editor(style), None, None, [], None, 1.0, 64, 200, 0)
    (update,) = list(h.refine(visitor, *values))
    assert update[1] == "cancelled before it started" and update[6].interactive is False and h.stops == {}
    assert update[0] == update[3] == update[5] == {"__type__": "update"}  # slider, files, command unchanged
    updates = []
    for update in h.refine(visitor, *values):
        updates.append(update)
        if len(updates) == 2:  # the first image is on screen
            assert h.cancel(visitor)[0].startswith("cancelling")
    start, first, last = updates[0], updates[1], updates[-1]
    assert start[1].startswith("starting") and start[3] is None and start[5] == "" and start[6].interactive
    assert first[1].startswith("iteration") and "64×43 px, shown upscaled ×1.5 for display" in first[1]  # 96 px
    assert last[1].startswith("cancelled at iteration") and "/200" in last[1] and last[-1] == "Refine cancelled"
    assert last[3] is None and last[5] == "" and last[6].interactive is False and h.stops == {}
    assert list(tmp_path.iterdir()) == []  # nothing saved


def test_page_layout_settings(tmp_path):
    """Issue 19, the settings a browser cannot be asked about cheaply: sliders without reset buttons (two Tab stops),
    Cancel off while idle, Downloads without a height cap, a keyboard slider for the before/after divider, a fixed
    message line, focus rings, bordered and named swatches."""
    from strotss.gui.app import CSS, HEAD, build_app
    from strotss.gui.masks import PALETTE

    demo = build_app(tmp_path, model=None, max_pixels=600 * 600)
    by_id = {b.elem_id: b for b in demo.blocks.values() if getattr(b, "elem_id", None)}
    assert all(by_id[name].buttons == [] for name in ("alpha", "size", "iters", "divider"))
    assert by_id["cancel"].interactive is False and by_id["downloads"].height is None
    assert (by_id["divider"].minimum, by_id["divider"].maximum) == (0, 100)
    assert "#message { height:" in CSS and ":focus-visible" in CSS and "menu.swatch button.color" in CSS
    assert all(f'"{name}"' in HEAD % json.dumps({str(rgb): name for name, rgb in PALETTE.items()}) for name in PALETTE)
