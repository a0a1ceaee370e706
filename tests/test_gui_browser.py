"""End to end in a real headless browser: Debian's chromium driven by Playwright against `strotss gui`'s app."""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("gradio")
playwright = pytest.importorskip("playwright.sync_api")

from strotss.assets import asset_path  # noqa: E402
from strotss.gui.app import launch  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
DOCS_SHOT = Path(__file__).resolve().parents[1] / "docs" / "gui.png"  # refreshed with STROTSS_UPDATE_DOCS=1

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="Debian chromium missing at /usr/bin/chromium (apt-get install chromium; "
                                       ".ci/run installs it)")


def _free_port() -> int:
    """An unused local TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The gui app with the bundled student, served on a free port in this process, edits under a temporary folder."""
    port = _free_port()
    workdir = tmp_path_factory.mktemp("gui-work")
    demo = launch("127.0.0.1", port, workdir, block=False, model="arbitrary", max_pixels=600 * 600)
    yield f"http://127.0.0.1:{port}/", workdir
    demo.close()


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """A fresh chromium profile and page, sized so the result is above the fold as in the README screenshot."""
    with playwright.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(tmp_path_factory.mktemp("chromium-profile")),
                                                   executable_path=str(CHROMIUM), args=ARGS, headless=True,
                                                   viewport={"width": 1400, "height": 1000})
        yield ctx.new_page()
        ctx.close()


def _upload_image(page, side: str, path: Path) -> None:
    """Drop a file into one side's image editor (its own file input)."""
    page.locator(f"#{side}-editor input[type=file]").first.set_input_files(str(path))


def _upload_mask(page, side: str, path: Path) -> None:
    """Pick a file with one side's Load saved mask button, through the browser's file chooser."""
    with page.expect_file_chooser() as chooser:
        page.locator(f"#{side}-mask").click()
    chooser.value.set_files(str(path))


def _message(page, contains: str, timeout: float = 20.0) -> str:
    """Wait until the page's message line contains a text; return that message as shown then (failing with the one
    shown at the timeout)."""
    try:
        return page.wait_for_function(
            "s => { const t = document.querySelector('#message')?.innerText || ''; return t.includes(s) ? t : false }",
            arg=contains, timeout=timeout * 1000).json_value()
    except playwright.TimeoutError:
        pytest.fail(f"waited {timeout:g} s for a message with {contains!r}; the page shows "
                    f"{page.locator('#message').inner_text()!r}")


def _set_number(page, elem_id: str, value: int) -> None:
    """Type a value into a slider's number box."""
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Enter")


def _slider_sources(page) -> list[str]:
    """The image sources shown in the before/after slider."""
    return [img.get_attribute("src") for img in page.locator("#result img").all()]


def test_refine_with_uploaded_masks_in_browser(server, page, tmp_path):
    """First visit shows the bundled pair and its preview; bad uploads show messages; uploads into the editors plus
    re-uploaded masks preview, then refine at 64 px into the before/after slider and downloadable files."""
    from PIL import Image

    url, workdir = server
    page.goto(url)
    page.wait_for_selector("#content-editor canvas", timeout=30000)
    assert page.locator("#content-pick input").input_value() == "kodak_kodim16.jpg"
    assert page.locator("#style-pick input").input_value() == "pnst_vg_wheat_field.jpg"
    page.locator("#result img").nth(1).wait_for(timeout=20000)
    first_shown = _slider_sources(page)
    assert len(first_shown) == 2 and all(first_shown)
    assert page.locator("#content-editor input[type=file]").count() == 1

    huge = tmp_path / "huge.png"
    Image.new("RGB", (700, 700), "gray").save(huge)
    _upload_image(page, "content", huge)
    page.locator("#preview").click()  # checks the editors even where the editor's upload event did not fire
    assert "content image: 700×700 px" in _message(page, "over this page's limit")
    for side, name, size in (("content", "content/kodak_kodim16.jpg", (384, 256)),
                             ("style", "style/pnst_vg_wheat_field.jpg", (400, 316))):
        smaller = tmp_path / f"{side}.png"
        Image.open(asset_path(name)).resize(size).save(smaller)
        _upload_image(page, side, smaller)
        try:  # the upload event's message, where Gradio fires it; the mask messages below check the upload either way
            page.locator("#message", has_text=f"{side} image {size[0]}×{size[1]} px").wait_for(timeout=5000)
        except playwright.TimeoutError:
            pass

    not_image = tmp_path / "notes.png"
    not_image.write_text("this is not a picture")
    _upload_mask(page, "content", not_image)
    assert "content mask (notes.png): not an image" in _message(page, "not an image")
    _upload_mask(page, "content", asset_path("guidance/style_mask.png"))
    assert "mask must have its image's shape" in _message(page, "shape")
    _upload_mask(page, "content", asset_path("guidance/content_mask.png"))
    _message(page, "content image 384×256 px · regions blue, green")  # the uploaded image, with the mask as base
    _upload_mask(page, "style", asset_path("guidance/style_mask.png"))
    _message(page, "style image 400×316 px · regions blue, green")

    _set_number(page, "size", 64)
    _set_number(page, "iters", 10)
    page.locator("#preview").click()
    _message(page, "preview ready", timeout=60)
    start = time.perf_counter()
    page.locator("#refine").click()
    command = page.locator("#command", has_text="--regions")
    command.wait_for(timeout=90000)
    seconds = time.perf_counter() - start
    text = command.inner_text()
    assert "strotss optimize" in text and "--size 64" in text and "--iters 10" in text
    assert "--init" in text  # warm-started from the preview of the same content at the same size
    page.locator("#status", has_text="done").wait_for(timeout=10000)
    shot = tmp_path / "gui.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shot))  # the viewport: what a visitor sees without scrolling
    if os.environ.get("STROTSS_UPDATE_DOCS"):
        shutil.copyfile(shot, DOCS_SHOT)
    files = page.locator("#downloads").inner_text()
    assert all(name in files for name in ("result", "content_mask", "style_mask")), files
    shown = _slider_sources(page)
    assert len(shown) == 2 and all(shown) and shown != first_shown
    results = list(Path(workdir).glob("edit-*/result.png"))
    assert len(results) == 1 and Image.open(results[0]).size == (64, 43)
    assert Image.open(results[0].parent / "content.png").size == (384, 256)
    saved = np.asarray(Image.open(results[0].parent / "content_mask.png").convert("RGB"))
    colours = {tuple(int(v) for v in c) for c in np.unique(saved.reshape(-1, 3), axis=0)}
    assert colours == {(0, 0, 255), (0, 255, 0)}  # the re-uploaded mask, under the (absent) paint
    print(f"refine in browser: {seconds:.1f} s; screenshot {shot}")
