"""Build the Gradio page: one editor per image (upload, paint, re-use a saved mask), controls in a row, and the
result large beside the inputs as a before/after slider. Handlers live in `Handlers`, testable without a browser."""

from __future__ import annotations

import contextlib
import functools
import io
import json
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
from strotss.gui.jobs import JobCancelled, Progress, RefineJob, run_refine
from strotss.gui.masks import PALETTE, brush_colours, snap_mask
from strotss.gui.points import add_click, format_pairs
from strotss.gui.request import (EditorValue, MaskBase, Oversized, PageValues, Preview, RefineRequest, Unreadable,
                                 before_after, describe, digest, editor_value, read_side, region_names,
                                 shown_size)
from strotss.imageio import check_mask_fits
from strotss.student import Student
from strotss.teacher.config import COARSEST, StrotssConfig

ASSETS = Path(str(asset_path("content"))).parent
SIDES = ("content", "style")
FIRST_PAIR = {"content": "kodak_kodim16.jpg", "style": "pnst_vg_wheat_field.jpg"}  # shown on a first visit
CHOOSE = ""  # the bundled lists' "choose…" entry, where they rest between choices
DEFAULT_SIZE = 256
DEFAULT_ITERS = StrotssConfig.iters // 2  # a page wants its result in a minute or two
CACHE_LIFETIME = (600, 3600)  # every 10 minutes, delete uploads and cached images over an hour old (all at exit)
INTRO = """# strotss — guided region edits
Drop, paste or pick a **content** photo and a **style** painting, paint matching regions with the **same colour** on
both ({palette}; unpainted parts pair with each other), then **Preview** (real-time student) or **Refine** (optimizer,
starting from the preview). *Load saved mask* re-uses a downloaded mask; *Point pairs* (below) adds point pairs.
"""

# The message and status lines keep their place (the page does not jump as they fill and empty); keyboard focus is
# always visible; the brush swatches have a border (white shows on the white popup); the result is never enlarged
# past what the status line says; the command box is as tall as its few lines (Gradio makes it ~300 px); a bundled
# list's options close with its focus (Gradio reopens them on the Tab that leaves it).
CSS = """
#message, #status { min-height: 2.6em; }
#message { height: 2.6em; overflow-y: auto; }
:is(input, button, textarea, select, [tabindex]):focus-visible { outline: 3px solid var(--color-accent) !important;
  outline-offset: 2px; }
menu.swatch button.color { border: 2px solid #333 !important; }
#result img { object-fit: scale-down !important; }
#command .cm-scroller { min-height: 0 !important; max-height: 12em !important; }
#content-pick:not(:focus-within) div.options, #style-pick:not(:focus-within) div.options { display: none !important; }
"""
# Names the brush swatches (title and aria-label) as the intro does, since Gradio shows bare colours.
HEAD = """<script>
const strotssNames = %s;
new MutationObserver(() => {
  for (const b of document.querySelectorAll("menu.swatch button.color:not([title])")) {
    const name = strotssNames[b.style.backgroundColor];
    if (name) { b.title = name; b.setAttribute("aria-label", "paint " + name); }
  }
}).observe(document.documentElement, {childList: true, subtree: true});
</script>"""


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
        alpha = self.student_alpha(StrotssConfig.alpha)  # where the slider starts
        out = self.student.stylize(pair["content"], pair["style"], DEFAULT_SIZE, alpha)
        return Preview(digest(pair["content"]), DEFAULT_SIZE, out)

    def student_alpha(self, alpha: float) -> float | None:
        """The page's content weight for a student conditioned on α, clamped to the range it learned (None for a
        student with one fixed trade-off), so the slider moves Preview along the same trade-off as Refine."""
        span = self.student.alpha_range if self.student is not None else None
        return None if span is None else min(max(alpha, span[0]), span[1])

    def image_loaded(self, side: str, value: EditorValue | None, base: MaskBase | None,
                     seen: str | None = None) -> tuple[Any, ...]:
        """After an upload into one side's editor: check it; returns (points view, status, seen, message), where seen
        fingerprints the side's image: the image already shown changes nothing (Gradio also fires this event as the
        editor shows its first image, late enough to overwrite newer messages).

        Gradio 6.31 fires the editor's upload event reliably only into an empty editor, so this is a courtesy:
        Preview and Refine read and check the editors themselves.
        """
        try:
            image, mask = read_side(value, base, self.max_pixels, f"{side} image")
        except UserError as exc:
            return gr.skip(), gr.skip(), gr.skip(), _fail(exc)
        now = digest(image)
        if now == seen:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return image, changed(side), now, describe(side, image, mask)

    def pick(self, side: str, name: str | None, value: EditorValue | None = None, base: MaskBase | None = None,
             pending: str | None = None) -> tuple[Any, ...]:
        """A bundled image explicitly chosen from the side's list: loaded into its editor, unless that would discard
        paint, which takes a second choice of the same image; returns (editor, base, points view, status, list,
        pending, seen, message). The list goes back to its "choose…" entry, so the same image can be chosen again."""
        if not name:
            return (gr.skip(),) * 8
        reset = gr.update(value=CHOOSE)
        try:
            image = load_upload(ASSETS / side / Path(name).name, self.max_pixels, f"{side} image")
        except UserError as exc:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), reset, None, gr.skip(), _fail(exc)
        regions, paint = painted(value, base, self.max_pixels, side)
        if regions and pending != f"{name}:{paint}":
            message = _fail(UserError(f"the {side} image {regions} is painted; choose {Path(name).name} again to "
                                      f"replace it and discard the paint"))
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), reset, f"{name}:{paint}", gr.skip(), message
        return (editor_value(image), None, image, changed(side), reset, None, digest(image),
                describe(side, image, np.zeros_like(image)))

    def load_mask(self, side: str, path: str | None, value: EditorValue | None,
                  base: MaskBase | None) -> tuple[Any, ...]:
        """A saved colour mask, checked against the side's image, becomes the tinted base under new paint (replacing
        earlier paint and mask); returns (editor, base, status, message)."""
        if not path:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            image, _ = read_side(value, base, self.max_pixels, f"{side} image")
            with _consumed(path):
                mask = load_upload(path, self.max_pixels, f"{side} mask")
            check_mask_fits(mask.shape[:2], image.shape[:2], f"{side} mask")
            base = MaskBase.over(image, snap_mask(mask, image.shape[:2], f"{side} mask ({Path(path).name})"))
        except UserError as exc:
            return gr.skip(), gr.skip(), gr.skip(), _fail(exc)
        return editor_value(base.view()), base, changed(f"{side} mask"), describe(side, image, base.mask)

    def preview(self, *values: Any) -> tuple[Any, ...]:
        """Run the student at the output size; returns (before/after, preview state, status, files, command,
        message): the earlier Refine's downloads are cleared, since the slider no longer shows its result."""
        try:
            if self.student is None:
                raise UserError("Preview is off: start the page with a student, e.g. `strotss gui --model model.onnx`")
            req = RefineRequest.from_page(PageValues(*values), self.max_pixels)
            out = self.student.stylize(req.content, req.style, req.size, self.student_alpha(req.alpha))
        except UserError as exc:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), _fail(exc)
        return (before_after(req.content, out), Preview(digest(req.content), req.size, out),
                f"student preview, {shown_size(req.content, out)} — not saved; Refine starts from it", None, "",
                "preview ready — Refine starts from it")

    def starting(self, request: gr.Request) -> tuple[str, Any]:
        """Refine was clicked: say so at once and allow Cancel, even while the run waits for its turn; returns
        (status, Cancel button)."""
        self.stops.setdefault(request.session_hash, threading.Event())
        return "starting…", gr.Button(interactive=True)

    def refine(self, request: gr.Request, *values: Any) -> Iterator[tuple]:
        """Stream the optimizer's images and loss; finish with downloads and the CLI command (Results.outputs: the
        Cancel button is enabled only while the run goes on, the message comes last).

        The edit's folder is made once the request is checked, and removed again unless the run finishes. The
        earlier run's downloads are cleared as this one starts, so they never sit beside another run's image; a
        cancelled run says so, keeps its unfinished image on screen and saves nothing.
        """
        stop = self.stops.setdefault(request.session_hash, threading.Event())
        keep, idle = (gr.skip(),) * 4, gr.Button(interactive=False)
        last: Progress | None = None
        try:
            req = RefineRequest.from_page(PageValues(*values), self.max_pixels)
            job = req.job(self.root, self.weights)  # pairs the regions: refused before anything on screen changes
            if stop.is_set():  # cancelled while it waited for its turn: nothing on screen changed
                yield gr.skip(), "cancelled before it started", *keep, idle, "Refine cancelled"
                return
            yield (gr.skip(), "starting… (loading the image features)", gr.skip(), None, gr.skip(), "",
                   gr.Button(interactive=True), "")
            for last in self.run(job, stop):
                yield *self.progress(req.content, last), gr.Button(interactive=not last.done), ""
        except JobCancelled:
            if last is None:
                yield None, "cancelled before its first image; nothing was saved", gr.skip(), None, gr.skip(), "", \
                    idle, "Refine cancelled"
            else:
                yield gr.skip(), f"cancelled at iteration {last.step}/{last.total}: the unfinished image shown was " \
                                 f"not saved", gr.skip(), None, gr.skip(), "", idle, "Refine cancelled"
        except UserError as exc:
            yield gr.skip(), "not started", *keep, idle, _fail(exc)
        finally:
            self.stops.pop(request.session_hash, None)

    def run(self, job: RefineJob, stop: threading.Event) -> Iterator[Progress]:
        """Run one checked job in a new edit folder, which is removed when the run fails or is cancelled."""
        job.folder = folder = Path(tempfile.mkdtemp(prefix="edit-", dir=self.root))
        done = False
        try:
            with contextlib.closing(run_refine(job, stop, self.every)) as updates:
                for p in updates:
                    done = p.done
                    if done:
                        publish(p.files)
                    yield p
        finally:
            if not done:
                shutil.rmtree(folder, ignore_errors=True)

    @staticmethod
    def progress(content: np.ndarray, p: Progress) -> tuple:
        """One Refine update as the result outputs: slider, status, plot, files, accordion, command."""
        plot = pd.DataFrame({"iteration": np.arange(1, len(p.losses) + 1), "loss": p.losses})
        note = f"iteration {p.step}/{p.total} · loss {p.losses[-1]:.4f}" if p.losses else "starting…"
        size = shown_size(content, p.image)
        if not p.done:
            return before_after(content, p.image), f"{note} · {size}", plot, gr.skip(), gr.skip(), gr.skip()
        return (before_after(content, p.image), f"done: {note} · {size}; saved, see Downloads", plot,
                [str(f) for f in p.files], gr.Accordion(open=True), p.command)

    def cancel(self, request: gr.Request) -> tuple[str, Any]:
        """Ask this visitor's running (or waiting) Refine to stop; returns (status, Cancel button, now disabled)."""
        stop = self.stops.get(request.session_hash)
        if stop is None:
            return "nothing to cancel: no Refine is running", gr.Button(interactive=False)
        stop.set()
        return "cancelling… (stops after the current iteration)", gr.Button(interactive=False)


def changed(what: str) -> str:
    """The status after an input changed: the result shown, if any, is of the earlier inputs."""
    return f"{what} changed: the result shown, if any, is of the earlier inputs; Preview or Refine to update it"


def painted(value: EditorValue | None, base: MaskBase | None, max_pixels: int, side: str) -> tuple[str, str]:
    """What is painted on a side (paint and loaded mask) in words, with the image's size, and a fingerprint of that
    paint; both empty when nothing is, or its editor holds no readable image."""
    try:
        image, mask = read_side(value, base, max_pixels, f"{side} image")
    except UserError:
        return "", ""
    names = region_names(mask)
    if not names:
        return "", ""
    return f"({image.shape[1]}×{image.shape[0]} px) with regions {', '.join(names)}", digest(mask)


def publish(files: list[Path]) -> None:
    """Let the page serve these files (a finished edit's downloads) from the work folder, and nothing else there."""
    gr.set_static_paths([Path(f).resolve() for f in files])


@dataclass
class Side:
    """One image's components: its editor, bundled list, mask upload button, uploaded mask, point-click view and the
    bundled image awaiting a second choice (to discard paint), and a fingerprint of the image last loaded."""

    editor: gr.ImageEditor
    pick: gr.Dropdown
    mask: gr.UploadButton
    base: gr.State
    view: gr.Image
    pending: gr.State
    seen: gr.State


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
    """The result column: before/after slider and its divider's keyboard control, status, loss plot, downloads and
    command."""

    slider: gr.ImageSlider
    divider: gr.Slider
    status: gr.Markdown
    plot: gr.LinePlot
    files: gr.File
    accordion: gr.Accordion
    command: gr.Code

    def outputs(self, cancel: gr.Button, message: gr.Markdown) -> list[gr.components.Component]:
        """The outputs of Refine: Handlers.progress's, then the Cancel button and the message."""
        return [self.slider, self.status, self.plot, self.files, self.accordion, self.command, cancel, message]


def side_column(side: str, image: np.ndarray, max_pixels: int) -> Side:
    """One image's editor (takes uploads and paste), with a compact bundled list and mask button under it."""
    colours = brush_colours()
    editor = limit_decoding(gr.ImageEditor(
        editor_value(image), label=f"{side.capitalize()} — paint regions", sources=("upload", "clipboard"),
        transforms=(), format="png", type="numpy", image_mode="RGBA", height=290, eraser=gr.Eraser(),
        brush=gr.Brush(colors=colours, default_color=colours[0], color_mode="fixed"), elem_id=f"{side}-editor"),
        max_pixels)
    with gr.Row(equal_height=True):
        pick = gr.Dropdown([(f"choose a bundled {side} image…", CHOOSE), *bundled(side)], value=CHOOSE,
                           label=f"Bundled {side} images", show_label=False, container=False, scale=3,
                           elem_id=f"{side}-pick")
        mask = gr.UploadButton("Load saved mask", type="filepath", size="sm", scale=2, elem_id=f"{side}-mask")
    view = gr.Image(image, label=f"{side.capitalize()} — click point pairs", interactive=False, render=False,
                    elem_id=f"{side}-points")
    return Side(editor, pick, mask, gr.State(None), view, gr.State(None), gr.State(digest(image)))


def control_row(has_student: bool) -> Controls:
    """Settings and the three buttons, in one row."""
    with gr.Row(elem_id="controls"):
        alpha = gr.Slider(0.05, 8.0, value=StrotssConfig.alpha, step=0.05, label="Content weight α", scale=2,
                          min_width=200, buttons=[], elem_id="alpha")  # no reset button: one Tab stop fewer
        size = gr.Slider(COARSEST, 1024, value=DEFAULT_SIZE, step=32, label="Output long side (px)", scale=2,
                         min_width=200, buttons=[], elem_id="size")
        iters = gr.Slider(5, 500, value=DEFAULT_ITERS, step=5, label="Iterations per scale", scale=2, min_width=200,
                          buttons=[], elem_id="iters")
        seed = gr.Number(StrotssConfig.seed, precision=0, label="Seed", scale=1, min_width=80)
        preview = gr.Button("Preview", interactive=has_student, scale=1, min_width=90, elem_id="preview")
        refine = gr.Button("Refine", variant="primary", scale=1, min_width=90, elem_id="refine")
        cancel = gr.Button("Cancel", variant="stop", interactive=False, scale=1, min_width=90, elem_id="cancel")
    return Controls(alpha, size, iters, seed, preview, refine, cancel)


def result_column(first: tuple[np.ndarray, np.ndarray] | None, note: str) -> Results:
    """The before/after slider, large, with its divider's keyboard control, status, loss, downloads and command
    under it."""
    slider = gr.ImageSlider(first, label="Before / after — drag to compare", type="numpy", max_height=600,
                            height=560, interactive=False, elem_id="result")
    divider = gr.Slider(0, 100, value=50, step=5, label="Before / after divider (%) — arrow keys move it",
                        buttons=[], elem_id="divider")
    status = gr.Markdown(note, elem_id="status")
    with gr.Accordion("Downloads and command line", open=False) as accordion:
        files = gr.File(label="Result, masks, points", file_count="multiple", interactive=False,
                        elem_id="downloads")
        command = gr.Code(label="Rerun this edit from the command line", language="shell", interactive=False,
                          wrap_lines=True, lines=2, max_lines=6, elem_id="command")
    with gr.Accordion("Objective", open=False):
        plot = gr.LinePlot(x="iteration", y="loss", show_label=False, height=200)
    return Results(slider, divider, status, plot, files, accordion, command)


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
        s.editor.upload(functools.partial(h.image_loaded, side), [s.editor, s.base, s.seen],
                        [s.view, results.status, s.seen, message], api_name=f"{side}_upload")
        # .change, not .input: a Dropdown sends input (and blur) whenever it loses focus, chosen or not, but change
        # only when its value changes, by mouse or by keyboard; the list rests on CHOOSE between choices. No spinner:
        # a bundled image loads in milliseconds, and the reset to CHOOSE fires a second change on the same outputs,
        # whose overlapping loading states could leave the editor's spinner up (seen once in CI)
        s.pick.change(functools.partial(h.pick, side), [s.pick, s.editor, s.base, s.pending],
                      [s.editor, s.base, s.view, results.status, s.pick, s.pending, s.seen, message],
                      api_name=f"{side}_pick", show_progress="hidden")
        s.mask.upload(functools.partial(h.load_mask, side), [s.mask, s.editor, s.base],
                      [s.editor, s.base, results.status, message], api_name=f"{side}_mask")
    page = PageValues(sides["content"].editor, sides["style"].editor, sides["content"].base, sides["style"].base,
                      pairs, preview, controls.alpha, controls.size, controls.iters, controls.seed)
    controls.preview.click(h.preview, list(page), [results.slider, preview, results.status, results.files,
                                                   results.command, message], concurrency_limit=2, api_name="preview")
    controls.refine.click(h.starting, None, [results.status, controls.cancel], queue=False).then(
        h.refine, list(page), results.outputs(controls.cancel, message), concurrency_limit=1,
        concurrency_id="refine", api_name="refine")
    controls.cancel.click(h.cancel, None, [results.status, controls.cancel], queue=False, api_name="cancel")
    results.divider.input(lambda at: gr.ImageSlider(slider_position=at), results.divider, results.slider,
                          queue=False, show_progress="hidden")


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
            with gr.Column(scale=4, min_width=400):  # narrow windows stack the columns: labels stay whole
                sides = {side: side_column(side, pair[side], max_pixels) for side in SIDES}
            with gr.Column(scale=5, min_width=400):
                results = result_column(
                    before_after(pair["content"], first.image) if first else None,
                    f"student preview of the bundled pair, {shown_size(pair['content'], first.image)}; paint "
                    f"regions, then Refine" if first else "")
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
    names = json.dumps({"rgb(%d, %d, %d)" % rgb: name for name, rgb in PALETTE.items()})
    demo.launch(server_name=host, server_port=port, max_file_size=upload_limit(max_pixels), show_error=True,
                prevent_thread_lock=not block, css=CSS, head=HEAD % names)
    return demo
