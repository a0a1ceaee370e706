"""`strotss gui`: a local web page for guided region edits with Preview (student) and Refine (optimizer)."""

from __future__ import annotations

import argparse

HELP = "web page for guided region edits: paint regions, preview with a student, refine with the optimizer"
DESCRIPTION = """Serve a local web page (Gradio) for guided edits: load a content and a style image (upload or bundled),
paint matching regions with the same colour on both, optionally click point pairs, then Preview with a
real-time student (--model) and Refine with the per-image optimizer. Results, masks and points download as
plain files, and the page shows the `strotss optimize` command that reruns the same edit.

Unpainted pixels of both images form one more region pair (the background); nothing painted = no regions.
Refine runs one job at a time; other visitors wait in a queue that shows their position.

examples:
  strotss gui                               (http://127.0.0.1:7860; Preview with the bundled `arbitrary`)
  strotss gui --model student.onnx --port 8080
  strotss gui --host 0.0.0.0 --max-pixels 4000000
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Flags of the gui verb."""
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--model", default="arbitrary",
                   help="student for Preview: a bundled model name, an ONNX file from `strotss export`, or a "
                        ".pt/.ckpt checkpoint (default: the bundled arbitrary-style model, any painting)")
    p.add_argument("--max-pixels", type=int, default=4096 * 4096,
                   help="largest accepted upload in pixels (width × height; default 4096×4096)")
    p.add_argument("--workdir", help="folder for saved edits (default: a new temporary folder)")


def run(args: argparse.Namespace) -> int:
    """Check the options, load the student, and serve until Ctrl+C."""
    from strotss.errors import UserError

    if args.max_pixels < 64 * 64:
        raise UserError(f"--max-pixels {args.max_pixels}: must allow at least 64×64 = 4096 pixels")
    try:
        import gradio  # noqa: F401
    except ImportError:
        raise UserError("the web page needs Gradio: pip install 'strotss[gui]'") from None
    from strotss.gui.app import launch

    launch(args.host, args.port, args.workdir, model=args.model, max_pixels=args.max_pixels)
    return 0
