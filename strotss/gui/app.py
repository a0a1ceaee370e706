"""Build the Gradio page: load images, paint or upload region masks, click point pairs, Preview and Refine."""

import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from strotss.assets import asset_path
from strotss.errors import UserError
from strotss.gui.inputs import DEFAULT_MAX_PIXELS, check_mask_fits, load_upload
from strotss.gui.jobs import JobCancelled, RefineJob, run_refine
from strotss.gui.masks import PALETTE, brush_colours, layers_to_mask, snap_mask, tint
from strotss.gui.points import add_click, as_array, format_pairs
from strotss.student import Student
from strotss.teacher.config import COARSEST, StrotssConfig

ASSETS = Path(str(asset_path("content"))).parent
INTRO = """# strotss — guided region edits
Load a **content** photo and a **style** painting, then paint matching regions with the **same colour** on both
(palette: {palette}; eraser removes paint), or upload saved masks (black = unpainted) and paint over them. Unpainted pixels of both images form one more region pair, the
background; leave both fully unpainted for no region guidance. Optionally click point pairs (content, then style).
**Preview** runs the real-time student; **Refine** runs the optimizer, warm-started from the preview when there is one.
"""


def _bundled(kind: str) -> list[str]:
    """File names of the bundled sample images of one kind (content or style)."""
    return sorted(p.name for p in (ASSETS / kind).iterdir() if p.suffix == ".jpg")


def _editor_value(image: np.ndarray) -> dict[str, Any]:
    """An ImageEditor value with image as the background and no paint."""
    return {"background": image, "layers": [], "composite": image}


def _fail(exc: UserError) -> str:
    """Show a user error as a toast and return it as the page's message Markdown."""
    import gradio as gr

    gr.Warning(str(exc))
    return f"⚠️ **{exc}**"


def build_app(workdir: str | Path, model: str | None = None, max_pixels: int = DEFAULT_MAX_PIXELS,
              weights: str | None = None, every: int = 5):
    """The Blocks app; edits are saved under workdir; model is an optional student (.onnx or checkpoint)."""
    import gradio as gr
    import pandas as pd

    student = Student(model) if model else None
    root = Path(workdir)
    root.mkdir(parents=True, exist_ok=True)
    stops: dict[str, threading.Event] = {}
    brush = gr.Brush(colors=brush_colours(), default_color=brush_colours()[0], color_mode="fixed")

    def load_image(path: str | None, bundled: str | None, side: str):
        """Validate an uploaded or bundled image and reset that side's editor, points view and preview."""
        if not path and not bundled:
            return (gr.skip(),) * 6
        try:
            image = load_upload(path or ASSETS / side / bundled, max_pixels, f"{side} image")
        except UserError as exc:
            return (gr.skip(),) * 5 + (_fail(exc),)
        h, w = image.shape[:2]
        return image, None, _editor_value(image), image, None, f"{side} image loaded ({w}×{h} px)"

    def load_mask(path: str | None, image: np.ndarray | None, side: str):
        """Make an uploaded colour mask the base under new paint, after checking it fits the image."""
        if not path:
            return gr.skip(), gr.skip(), gr.skip()
        try:
            if image is None:
                raise UserError(f"load the {side} image before its mask")
            mask = load_upload(path, max_pixels, f"{side} mask")
            check_mask_fits(mask, image, f"{side} mask")
            mask = snap_mask(mask, image.shape[:2])
        except UserError as exc:
            return gr.skip(), gr.skip(), _fail(exc)
        return mask, _editor_value(tint(image, mask)), f"{side} mask loaded; paint over it to change regions"

    def loaders(side: str) -> tuple:
        """Handlers for one side: image upload, bundled pick, mask upload."""
        return (lambda path: load_image(path, None, side), lambda name: load_image(None, name, side),
                lambda path, image: load_mask(path, image, side))

    def on_click(side: str):
        """A select handler recording clicks on one side's points view."""
        def click(pairs: list, pending: list | None, evt: gr.SelectData):
            pairs, pending, note = add_click(pairs, pending, side, tuple(evt.index))
            return pairs, pending, format_pairs(pairs), note
        return click

    def preview(content: np.ndarray | None, style: np.ndarray | None, size: int):
        """Run the student at the output size."""
        try:
            if content is None or style is None:
                raise UserError("load a content and a style image first")
            out = student.stylize(content, style, int(size))
        except UserError as exc:
            return gr.skip(), gr.skip(), _fail(exc)
        return out, out, "preview ready — Refine starts from it"

    def refine(content, style, content_base, style_base, content_edit, style_edit, pairs, init, alpha, size, seed, iters,
               request: gr.Request) -> Iterator[tuple]:
        """Stream the optimizer's intermediate images and loss; finish with downloads and the CLI command."""
        stop = stops[request.session_hash] = threading.Event()
        try:
            if content is None or style is None:
                raise UserError("load a content and a style image first")
            cmask = layers_to_mask((content_edit or {}).get("layers"), content.shape[:2], content_base)
            smask = layers_to_mask((style_edit or {}).get("layers"), style.shape[:2], style_base)
            job = RefineJob(Path(tempfile.mkdtemp(prefix="edit-", dir=root)), content, style, int(size), float(alpha),
                            int(seed), int(iters), (cmask, smask), as_array(pairs), init, weights)
            for p in run_refine(job, stop, every):
                plot = pd.DataFrame({"iteration": np.arange(1, len(p.losses) + 1), "loss": p.losses})
                note = f"iteration {p.step}/{p.total} · loss {p.losses[-1]:.4f}" if p.losses else "starting"
                if p.done:
                    yield p.image, f"done: {note}", plot, [str(f) for f in p.files], p.command, ""
                else:
                    yield p.image, note, plot, gr.skip(), gr.skip(), ""
        except JobCancelled:
            yield gr.skip(), "cancelled", gr.skip(), gr.skip(), gr.skip(), "Refine cancelled"
        except UserError as exc:
            yield gr.skip(), "not started", gr.skip(), gr.skip(), gr.skip(), _fail(exc)
        finally:
            stops.pop(request.session_hash, None)

    def cancel(request: gr.Request) -> str:
        """Ask this visitor's running Refine to stop."""
        if request.session_hash in stops:
            stops[request.session_hash].set()
        return "cancelling…"

    with gr.Blocks(title="strotss — guided edits") as demo:
        gr.Markdown(INTRO.format(palette=", ".join(PALETTE)))
        message = gr.Markdown(elem_id="message")
        content, style, init = gr.State(None), gr.State(None), gr.State(None)
        bases = {"content": gr.State(None), "style": gr.State(None)}
        pairs, pending = gr.State([]), gr.State(None)
        editors, views = {}, {}
        with gr.Row():
            for side in ("content", "style"):
                with gr.Column():
                    pick = gr.Dropdown(_bundled(side), value=None, label=f"Bundled {side} image", elem_id=f"{side}-pick")
                    upload = gr.File(label=f"Upload {side} image", type="filepath", elem_id=f"{side}-file")
                    editors[side] = gr.ImageEditor(label=f"{side.capitalize()} — paint regions", sources=(),
                                                   transforms=(), brush=brush, eraser=gr.Eraser(), format="png",
                                                   type="numpy", image_mode="RGBA", elem_id=f"{side}-editor")
                    mask_upload = gr.File(label=f"Upload {side} mask (re-use a saved mask)", type="filepath",
                                          elem_id=f"{side}-mask-file")
                state = content if side == "content" else style
                views[side] = gr.Image(label=f"{side.capitalize()} — click point pairs", interactive=False,
                                       render=False, elem_id=f"{side}-points")
                outs = [state, bases[side], editors[side], views[side], init, message]
                from_file, from_bundle, from_mask = loaders(side)
                upload.upload(from_file, upload, outs).then(lambda: None, None, upload)
                pick.input(from_bundle, pick, outs)
                mask_upload.upload(from_mask, [mask_upload, state], [bases[side], editors[side], message]).then(
                    lambda: None, None, mask_upload)
        with gr.Accordion("Point pairs (optional)", open=False):
            with gr.Row():
                views["content"].render()
                views["style"].render()
            pair_list = gr.Markdown(format_pairs([]), elem_id="pairs")
            clear = gr.Button("Clear point pairs")
        for side in ("content", "style"):
            views[side].select(on_click(side), [pairs, pending], [pairs, pending, pair_list, message])
        clear.click(lambda: ([], None, format_pairs([]), "point pairs cleared"), None, [pairs, pending, pair_list, message])
        with gr.Row():
            alpha = gr.Slider(0.05, 4.0, value=StrotssConfig.alpha, step=0.05,
                              label="Content weight α (higher keeps more content)")
            size = gr.Slider(COARSEST, 1024, value=256, step=32, label="Output long side (px)", elem_id="size")
            iters = gr.Slider(5, 500, value=100, step=5, label="Iterations per scale", elem_id="iters")
            seed = gr.Number(StrotssConfig.seed, precision=0, label="Seed")
        with gr.Row():
            preview_btn = gr.Button("Preview", interactive=student is not None, elem_id="preview")
            refine_btn = gr.Button("Refine", variant="primary", elem_id="refine")
            cancel_btn = gr.Button("Cancel", variant="stop", elem_id="cancel")
        if student is None:
            gr.Markdown("Preview is off: start the page with a student model, e.g. `strotss gui --model model.onnx`.")
        with gr.Row():
            result = gr.Image(label="Result", interactive=False, height=320, elem_id="result")
            with gr.Column():
                status = gr.Markdown(elem_id="status")
                plot = gr.LinePlot(x="iteration", y="loss", label="Objective", height=220)
        downloads = gr.File(label="Downloads: result, masks, points", file_count="multiple", elem_id="downloads")
        command = gr.Code(label="Rerun this edit from the command line", language="shell", interactive=False,
                          wrap_lines=True, lines=3, max_lines=6, elem_id="command")
        size.change(lambda: None, None, init)
        preview_btn.click(preview, [content, style, size], [result, init, message], concurrency_limit=2)
        job = refine_btn.click(refine, [content, style, bases["content"], bases["style"], editors["content"], editors["style"], pairs, init, alpha,
                                        size, seed, iters], [result, status, plot, downloads, command, message],
                               concurrency_limit=1, concurrency_id="refine")
        cancel_btn.click(cancel, None, status, cancels=[job], queue=False)
    demo.queue(default_concurrency_limit=1)
    return demo


def launch(host: str = "127.0.0.1", port: int | None = None, workdir: str | Path | None = None,
           block: bool = True, **kwargs: Any):
    """Build the app and serve it (until interrupted when block); returns the running Blocks."""
    root = Path(workdir or tempfile.mkdtemp(prefix="strotss-gui-"))
    demo = build_app(root, **kwargs)
    demo.launch(server_name=host, server_port=port, allowed_paths=[str(root)], show_error=True,
                prevent_thread_lock=not block)
    return demo
