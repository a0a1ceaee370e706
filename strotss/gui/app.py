"""Build the Gradio page: one editor per image (upload, paint, re-use a saved mask), controls in a row, and the
result large beside the inputs as a before/after slider. Handlers live in `Handlers`, testable without a browser."""

from __future__ import annotations

import contextlib
import functools
import io
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import gradio as gr
import numpy as np
import pandas as pd
from gradio.data_classes import FileData
from gradio.utils import get_upload_folder
from PIL import Image

from strotss.assets import asset_path
from strotss.errors import UserError
from strotss.gui.inputs import DEFAULT_MAX_PIXELS, UPLOAD_FORMATS, limit_words, load_upload
from strotss.gui.jobs import JobCancelled, Progress, run_refine
from strotss.gui.masks import PALETTE, brush_colours, snap_mask
from strotss.gui.points import add_click, format_pairs
from strotss.gui.request import (EditorValue, MaskBase, Oversized, PageValues, Preview, RefineRequest, Unreadable,
                                 before_after, describe, digest, editor_value, read_side)
from strotss.imageio import check_mask_fits
from strotss.student import Student
from strotss.teacher.config import COARSEST, StrotssConfig

ASSETS = Path(str(asset_path("content"))).parent
SIDES = ("content", "style")
FIRST_PAIR = {"content": "kodak_kodim16.jpg", "style": "pnst_vg_wheat_field.jpg"}  # shown on a first visit
DEFAULT_SIZE = 256
DEFAULT_ITERS = StrotssConfig.iters // 2  # a page wants its result in a minute or two
CACHE_LIFETIME = (600, 3600)  # every 10 minutes, delete uploads and cached images over an hour old (all at exit)
INTRO = """# strotss — guided region edits
Drop, paste or pick a **content** photo and a **style** painting, paint matching regions with the **same colour** on
both ({palette}; unpainted parts pair with each other), then **Preview** (real-time student) or **Refine** (optimizer,
starting from the preview). *Load saved mask* re-uses a downloaded mask; *Point pairs* (below) adds point pairs.
"""


def _fail(exc: UserError) -> str:
    """Show a user error as a toast and return it as the page's one-line message."""
    gr.Warning(str(exc))
    return f"⚠️ **{exc}**"


@contextlib.contextmanager
def _consumed(upload: str) -> Iterator[None]:
    """Delete an uploaded file once it has been read, usable or not, if it is in Gradio's upload folder (never a file
    of ours passed by a test or a caller)."""
    try:
        yield
    finally:
        path, folder = Path(upload).resolve(), Path(get_upload_folder()).resolve()
        if path.is_relative_to(folder):
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # Gradio's per-upload folder, unless another file is in it
                if path.parent != folder:
                    path.parent.rmdir()


def bundled(side: str) -> list[str]:
    """File names of the bundled sample images of one side (content or style)."""
    return sorted(p.name for p in (ASSETS / side).iterdir() if p.suffix == ".jpg")


def limit_decoding(editor: gr.ImageEditor, max_pixels: int) -> gr.ImageEditor:
    """Make an editor read each image's size from its header and pass Oversized instead of decoding one over
    max_pixels, and Unreadable instead of Gradio's raw error for an empty or broken file (the browser sends uploads
    as PNG blobs; this keeps --max-pixels a limit on what the server decodes)."""
    decode = editor.convert_and_format_image

    def checked(file: FileData | bytes | None, flatten_on_white: bool = False) -> Any:
        if file is None:
            return None
        name = (file.orig_name or Path(file.path).name) if isinstance(file, FileData) else "pasted image"
        try:
            with Image.open(file.path if isinstance(file, FileData) else io.BytesIO(file)) as img:
                width, height = img.size
            if width * height > max_pixels:
                return Oversized(width, height)
            return decode(file, flatten_on_white)
        except Image.DecompressionBombError:
            return Unreadable(name, f"over Pillow's safety limit of {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} MP and "
                                    f"{limit_words(max_pixels)}")
        except (OSError, ValueError, SyntaxError):
            return Unreadable(name, f"{_what_is_wrong(file)}; {UPLOAD_FORMATS}")

    editor.convert_and_format_image = checked  # an instance attribute: a subclass would make Gradio write a .pyi
    return editor


def _what_is_wrong(file: FileData | bytes) -> str:
    """Why an uploaded file (or pasted bytes) that Pillow cannot read is unusable, in words."""
    if isinstance(file, FileData) and not Path(file.path).is_file():
        return "no longer on the server (uploads are kept for an hour)"
    size = Path(file.path).stat().st_size if isinstance(file, FileData) else len(file)
    return "an empty file" if size == 0 else "not an image, or a broken one"


@dataclass
class Handlers:
    """The page's event handlers and what they share: work folder, upload limit, student and running Refines."""

    root: Path
    max_pixels: int = DEFAULT_MAX_PIXELS
    student: Student | None = None
    weights: str | None = None
    every: int = 5
    stops: dict[str, threading.Event] = field(default_factory=dict)

    def first_pair(self) -> dict[str, np.ndarray]:
        """The bundled images a first visit shows, by side."""
        return {side: load_upload(ASSETS / side / FIRST_PAIR[side], self.max_pixels, f"{side} image") for side in SIDES}

    def first_preview(self, pair: dict[str, np.ndarray]) -> Preview | None:
        """The student's preview of the first pair at the default size (None without a student)."""
        if self.student is None:
            return None
        out = self.student.stylize(pair["content"], pair["style"], DEFAULT_SIZE)
        return Preview(digest(pair["content"]), DEFAULT_SIZE, out)

    def image_loaded(self, side: str, value: EditorValue | None, base: MaskBase | None) -> tuple[Any, str]:
        """After an upload into one side's editor: check it; returns (points view, message).

        Gradio 6.31 fires the editor's upload event reliably only into an empty editor, so this is a courtesy:
        Preview and Refine read and check the editors themselves.
        """
        try:
            image, mask = read_side(value, base, self.max_pixels, f"{side} image")
        except UserError as exc:
            return gr.skip(), _fail(exc)
        return image, describe(side, image, mask)

    def pick(self, side: str, name: str | None) -> tuple[Any, ...]:
        """A bundled image picked from the side's list, loaded into its editor; returns (editor, base, points view,
        message)."""
        if not name:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            image = load_upload(ASSETS / side / Path(name).name, self.max_pixels, f"{side} image")
        except UserError as exc:
            return gr.skip(), gr.skip(), gr.skip(), _fail(exc)
        return editor_value(image), None, image, describe(side, image, np.zeros_like(image))

    def load_mask(self, side: str, path: str | None, value: EditorValue | None,
                  base: MaskBase | None) -> tuple[Any, Any, str]:
        """A saved colour mask, checked against the side's image, becomes the tinted base under new paint (replacing
        earlier paint and mask); returns (editor, base, message)."""
        if not path:
            return gr.skip(), gr.skip(), gr.skip()
        try:
            image, _ = read_side(value, base, self.max_pixels, f"{side} image")
            with _consumed(path):
                mask = load_upload(path, self.max_pixels, f"{side} mask")
            check_mask_fits(mask.shape[:2], image.shape[:2], f"{side} mask")
            base = MaskBase.over(image, snap_mask(mask, image.shape[:2], f"{side} mask ({Path(path).name})"))
        except UserError as exc:
            return gr.skip(), gr.skip(), _fail(exc)
        return editor_value(base.view()), base, describe(side, image, base.mask)

    def preview(self, *values: Any) -> tuple[Any, Any, str]:
        """Run the student at the output size; returns (before/after, preview state, message)."""
        try:
            if self.student is None:
                raise UserError("Preview is off: start the page with a student, e.g. `strotss gui --model model.onnx`")
            req = RefineRequest.from_page(PageValues(*values), self.max_pixels)
            out = self.student.stylize(req.content, req.style, req.size)
        except UserError as exc:
            return gr.skip(), gr.skip(), _fail(exc)
        return before_after(req.content, out), Preview(digest(req.content), req.size, out), \
            "preview ready — Refine starts from it"

    def refine(self, request: gr.Request, *values: Any) -> Iterator[tuple]:
        """Stream the optimizer's images and loss; finish with downloads and the CLI command (Results.outputs).

        The edit's folder is made once the request is checked, and removed again unless the run finishes.
        """
        stop = self.stops[request.session_hash] = threading.Event()
        keep = (gr.skip(),) * 4
        try:
            req = RefineRequest.from_page(PageValues(*values), self.max_pixels)
            yield from self.run(req, stop)
        except JobCancelled:
            yield (gr.skip(), "cancelled", *keep, "Refine cancelled")
        except UserError as exc:
            yield (gr.skip(), "not started", *keep, _fail(exc))
        finally:
            self.stops.pop(request.session_hash, None)

    def run(self, req: RefineRequest, stop: threading.Event) -> Iterator[tuple]:
        """Run one checked request in a new edit folder, which is removed when the run fails or is cancelled."""
        folder = Path(tempfile.mkdtemp(prefix="edit-", dir=self.root))
        done = False
        try:
            with contextlib.closing(run_refine(req.job(folder, self.weights), stop, self.every)) as updates:
                for p in updates:
                    done = p.done
                    if done:
                        publish(p.files)
                    yield self.progress(req.content, p)
        finally:
            if not done:
                shutil.rmtree(folder, ignore_errors=True)

    @staticmethod
    def progress(content: np.ndarray, p: Progress) -> tuple:
        """One Refine update as the result outputs: slider, status, plot, files, accordion, command, message."""
        plot = pd.DataFrame({"iteration": np.arange(1, len(p.losses) + 1), "loss": p.losses})
        note = f"iteration {p.step}/{p.total} · loss {p.losses[-1]:.4f}" if p.losses else "starting"
        if not p.done:
            return before_after(content, p.image), note, plot, gr.skip(), gr.skip(), gr.skip(), ""
        return (before_after(content, p.image), f"done: {note}", plot, [str(f) for f in p.files],
                gr.Accordion(open=True), p.command, "")

    def cancel(self, request: gr.Request) -> str:
        """Ask this visitor's running Refine to stop."""
        if request.session_hash in self.stops:
            self.stops[request.session_hash].set()
        return "cancelling…"


def publish(files: list[Path]) -> None:
    """Let the page serve these files (a finished edit's downloads) from the work folder, and nothing else there."""
    gr.set_static_paths([Path(f).resolve() for f in files])


@dataclass
class Side:
    """One image's components: its editor, bundled list, mask upload button, uploaded mask and point-click view."""

    editor: gr.ImageEditor
    pick: gr.Dropdown
    mask: gr.UploadButton
    base: gr.State
    view: gr.Image


@dataclass
class Controls:
    """The control row."""

    alpha: gr.Slider
    size: gr.Slider
    iters: gr.Slider
    seed: gr.Number
    preview: gr.Button
    refine: gr.Button
    cancel: gr.Button


@dataclass
class Results:
    """The result column: before/after slider, status, loss plot, downloads and command."""

    slider: gr.ImageSlider
    status: gr.Markdown
    plot: gr.LinePlot
    files: gr.File
    accordion: gr.Accordion
    command: gr.Code

    def outputs(self, message: gr.Markdown) -> list[gr.components.Component]:
        """The outputs of Refine, in Handlers.progress's order."""
        return [self.slider, self.status, self.plot, self.files, self.accordion, self.command, message]


def side_column(side: str, image: np.ndarray, max_pixels: int) -> Side:
    """One image's editor (takes uploads and paste), with a compact bundled list and mask button under it."""
    colours = brush_colours()
    editor = limit_decoding(gr.ImageEditor(
        editor_value(image), label=f"{side.capitalize()} — paint regions", sources=("upload", "clipboard"),
        transforms=(), format="png", type="numpy", image_mode="RGBA", height=290, eraser=gr.Eraser(),
        brush=gr.Brush(colors=colours, default_color=colours[0], color_mode="fixed"), elem_id=f"{side}-editor"),
        max_pixels)
    with gr.Row(equal_height=True):
        pick = gr.Dropdown(bundled(side), value=FIRST_PAIR[side], show_label=False, container=False, scale=3,
                           elem_id=f"{side}-pick")
        mask = gr.UploadButton("Load saved mask", type="filepath", size="sm", scale=2, elem_id=f"{side}-mask")
    view = gr.Image(image, label=f"{side.capitalize()} — click point pairs", interactive=False, render=False,
                    elem_id=f"{side}-points")
    return Side(editor, pick, mask, gr.State(None), view)


def control_row(has_student: bool) -> Controls:
    """Settings and the three buttons, in one row."""
    with gr.Row(elem_id="controls"):
        alpha = gr.Slider(0.05, 4.0, value=StrotssConfig.alpha, step=0.05, label="Content weight α",
                          scale=2, elem_id="alpha")
        size = gr.Slider(COARSEST, 1024, value=DEFAULT_SIZE, step=32, label="Output long side (px)", scale=2,
                         elem_id="size")
        iters = gr.Slider(5, 500, value=DEFAULT_ITERS, step=5, label="Iterations per scale", scale=2, elem_id="iters")
        seed = gr.Number(StrotssConfig.seed, precision=0, label="Seed", scale=1, min_width=80)
        preview = gr.Button("Preview", interactive=has_student, scale=1, min_width=90, elem_id="preview")
        refine = gr.Button("Refine", variant="primary", scale=1, min_width=90, elem_id="refine")
        cancel = gr.Button("Cancel", variant="stop", scale=1, min_width=90, elem_id="cancel")
    return Controls(alpha, size, iters, seed, preview, refine, cancel)


def result_column(first: tuple[np.ndarray, np.ndarray] | None) -> Results:
    """The before/after slider, large, with status, loss, downloads and command under it."""
    slider = gr.ImageSlider(first, label="Before / after — drag to compare", type="numpy", max_height=600,
                            height=560, interactive=False, elem_id="result")
    status = gr.Markdown("the bundled pair's preview; paint regions, then Refine" if first else "", elem_id="status")
    with gr.Accordion("Downloads and command line", open=False) as accordion:
        files = gr.File(label="Result, masks, points", file_count="multiple", interactive=False, height=120,
                        elem_id="downloads")
        command = gr.Code(label="Rerun this edit from the command line", language="shell", interactive=False,
                          wrap_lines=True, lines=2, max_lines=6, elem_id="command")
    with gr.Accordion("Objective", open=False):
        plot = gr.LinePlot(x="iteration", y="loss", show_label=False, height=200)
    return Results(slider, status, plot, files, accordion, command)


def points_panel(sides: dict[str, Side], message: gr.Markdown) -> gr.State:
    """The optional point-pairs panel (click a content point, then its style partner); returns the pairs' state."""
    pairs, pending = gr.State([]), gr.State(None)
    with gr.Accordion("Point pairs (optional)", open=False):
        with gr.Row():
            for side in SIDES:
                sides[side].view.render()
        pair_list = gr.Markdown(format_pairs([]), elem_id="pairs")
        clear = gr.Button("Clear point pairs", size="sm")
    for side in SIDES:
        sides[side].view.select(_click(side), [pairs, pending], [pairs, pending, pair_list, message])
    clear.click(lambda: ([], None, format_pairs([]), "point pairs cleared"), None, [pairs, pending, pair_list, message])
    return pairs


def _click(side: str) -> Callable:
    """A select handler recording clicks on one side's points view."""
    def click(pairs: list, pending: list | None, evt: gr.SelectData) -> tuple:
        pairs, pending, note = add_click(pairs, pending, side, tuple(evt.index))
        return pairs, pending, format_pairs(pairs), note
    return click


def wire(h: Handlers, sides: dict[str, Side], controls: Controls, results: Results, pairs: gr.State,
         preview: gr.State, message: gr.Markdown) -> None:
    """Connect the events: uploads and picks per side, Preview, Refine and Cancel."""
    for side, s in sides.items():
        s.editor.upload(functools.partial(h.image_loaded, side), [s.editor, s.base], [s.view, message],
                        api_name=f"{side}_upload")
        s.pick.input(functools.partial(h.pick, side), s.pick, [s.editor, s.base, s.view, message],
                     api_name=f"{side}_pick")
        s.mask.upload(functools.partial(h.load_mask, side), [s.mask, s.editor, s.base], [s.editor, s.base, message],
                      api_name=f"{side}_mask")
    page = PageValues(sides["content"].editor, sides["style"].editor, sides["content"].base, sides["style"].base,
                      pairs, preview, controls.alpha, controls.size, controls.iters, controls.seed)
    controls.preview.click(h.preview, list(page), [results.slider, preview, message], concurrency_limit=2,
                           api_name="preview")
    job = controls.refine.click(h.refine, list(page), results.outputs(message), concurrency_limit=1,
                                concurrency_id="refine", api_name="refine")
    controls.cancel.click(h.cancel, None, results.status, cancels=[job], queue=False, api_name="cancel")


def build_app(workdir: str | Path, model: str | None = None, max_pixels: int = DEFAULT_MAX_PIXELS,
              weights: str | None = None, every: int = 5) -> gr.Blocks:
    """The Blocks app; edits are saved under workdir; model is an optional student (.onnx or checkpoint)."""
    root = Path(workdir)
    root.mkdir(parents=True, exist_ok=True)
    h = Handlers(root, max_pixels, Student(model) if model else None, weights, every)
    pair = h.first_pair()
    first = h.first_preview(pair)
    with gr.Blocks(title="strotss — guided edits", delete_cache=CACHE_LIFETIME) as demo:
        gr.Markdown(INTRO.format(palette=", ".join(PALETTE)))
        message = gr.Markdown(elem_id="message")
        controls = control_row(h.student is not None)
        preview = gr.State(first)
        with gr.Row():
            with gr.Column(scale=4):
                sides = {side: side_column(side, pair[side], max_pixels) for side in SIDES}
            with gr.Column(scale=5):
                results = result_column(before_after(pair["content"], first.image) if first else None)
        pairs = points_panel(sides, message)
        wire(h, sides, controls, results, pairs, preview, message)
    demo.queue(default_concurrency_limit=1)
    return demo


def upload_limit(max_pixels: int) -> int:
    """The largest upload in bytes: an uncompressed 8-bit RGBA image at the pixel limit, plus 1 MiB of headers."""
    return 4 * max_pixels + 2**20


def launch(host: str = "127.0.0.1", port: int | None = None, workdir: str | Path | None = None,
           block: bool = True, max_pixels: int = DEFAULT_MAX_PIXELS, **kwargs: Any) -> gr.Blocks:
    """Build the app and serve it (until interrupted when block); returns the running Blocks.

    Uploads are capped at upload_limit(max_pixels); no folder is served as a whole: the work folder's files reach
    the page only as the downloads of finished edits (publish) or as copies in Gradio's own cache.
    """
    root = Path(workdir or tempfile.mkdtemp(prefix="strotss-gui-"))
    demo = build_app(root, max_pixels=max_pixels, **kwargs)
    demo.launch(server_name=host, server_port=port, max_file_size=upload_limit(max_pixels), show_error=True,
                prevent_thread_lock=not block)
    return demo
