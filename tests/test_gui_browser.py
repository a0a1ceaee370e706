"""End to end in a real headless browser: Debian's chromium driven by Playwright against `strotss gui`'s app."""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path

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
    """The gui app served on a free port in this process, with edits saved under a temporary folder."""
    port = _free_port()
    workdir = tmp_path_factory.mktemp("gui-work")
    demo = launch("127.0.0.1", port, workdir, block=False, max_pixels=600 * 600)
    yield f"http://127.0.0.1:{port}/", workdir
    demo.close()


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """A fresh chromium profile and page."""
    with playwright.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(tmp_path_factory.mktemp("chromium-profile")),
                                                   executable_path=str(CHROMIUM), args=ARGS, headless=True,
                                                   viewport={"width": 1300, "height": 1600})
        yield ctx.new_page()
        ctx.close()


def _upload(page, elem_id: str, path: Path) -> None:
    """Set a file on one of the page's upload controls."""
    page.locator(f"#{elem_id} input[type=file]").set_input_files(str(path))


def _message(page, contains: str, timeout: float = 20.0) -> str:
    """Wait until the page's message line contains a text; return the message."""
    page.locator("#message", has_text=contains).wait_for(timeout=timeout * 1000)
    return page.locator("#message").inner_text()


def _set_number(page, elem_id: str, value: int) -> None:
    """Type a value into a slider's number box."""
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Enter")


def test_refine_with_uploaded_masks_in_browser(server, page, tmp_path):
    """Bad uploads show messages; then two images + two-region masks refine at 64 px into a downloadable result."""
    url, workdir = server
    page.goto(url)
    page.wait_for_selector("#content-file input[type=file]", state="attached", timeout=30000)

    not_image = tmp_path / "notes.png"
    not_image.write_text("this is not a picture")
    _upload(page, "content-file", not_image)
    assert "not an image" in _message(page, "not an image")
    from PIL import Image

    huge = tmp_path / "huge.png"
    Image.new("RGB", (700, 700), "gray").save(huge)
    _upload(page, "content-file", huge)
    assert "over this page's limit" in _message(page, "limit")

    _upload(page, "content-file", asset_path("content/kodak_kodim16.jpg"))
    _message(page, "content image loaded")
    _upload(page, "style-file", asset_path("style/pnst_vg_wheat_field.jpg"))
    _message(page, "style image loaded")
    _upload(page, "content-mask-file", asset_path("guidance/style_mask.png"))
    assert "mask must have its image's shape" in _message(page, "shape")
    _upload(page, "content-mask-file", asset_path("guidance/content_mask.png"))
    _message(page, "content mask loaded")
    _upload(page, "style-mask-file", asset_path("guidance/style_mask.png"))
    _message(page, "style mask loaded")

    _set_number(page, "size", 64)
    _set_number(page, "iters", 10)
    start = time.perf_counter()
    page.locator("#refine").click()
    command = page.locator("#command", has_text="--regions")
    command.wait_for(timeout=90000)
    seconds = time.perf_counter() - start
    text = command.inner_text()
    assert "strotss optimize" in text and "--size 64" in text and "--iters 10" in text
    shot = tmp_path / "gui.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("STROTSS_UPDATE_DOCS"):
        shutil.copyfile(shot, DOCS_SHOT)
    assert page.locator("#result img").count() == 1
    assert page.locator("#status", has_text="done").count() == 1
    assert page.locator("#downloads", has_text="result").count() == 1
    results = list(Path(workdir).glob("edit-*/result.png"))
    assert len(results) == 1 and Image.open(results[0]).size[0] == 64
    assert (results[0].parent / "content_mask.png").is_file()
    print(f"refine in browser: {seconds:.1f} s; screenshot {shot}")
