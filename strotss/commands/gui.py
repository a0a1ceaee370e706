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


def check_port(host: str, port: int) -> None:
    """UserError now, before the model and the page are built, when host:port cannot be served (taken or unknown)."""
    import errno
    import socket

    from strotss.errors import UserError

    if not 1 <= port <= 65535:
        raise UserError(f"--port {port}: must be from 1 to 65535")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise UserError(f"--host {host}: not a known host name or address ({exc.strerror})") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UserError(f"--port {port}: already in use on {host} (another server?); pick another port "
                                "with --port or stop the other server") from None
            raise UserError(f"--host {host} --port {port}: cannot serve there ({exc.strerror})") from None


def run(args: argparse.Namespace) -> int:
    """Check the options, load the student, and serve until Ctrl+C."""
    from strotss.errors import UserError
    from strotss.outputs import check_output_folder

    if args.max_pixels < 64 * 64:
        raise UserError(f"--max-pixels {args.max_pixels}: must allow at least 64×64 = 4096 pixels")
    if args.workdir is not None:
        check_output_folder(args.workdir, "--workdir")
    check_port(args.host, args.port)
    try:
        import gradio  # noqa: F401
    except ImportError:
        raise UserError("the web page needs Gradio: pip install 'strotss[gui]'") from None
    from strotss.gui.app import launch

    try:
        launch(args.host, args.port, args.workdir, model=args.model, max_pixels=args.max_pixels)
    except OSError as exc:  # the port was taken between the check and the start
        raise UserError(f"--host {args.host} --port {args.port}: cannot serve there ({exc}); pick another port"
                        ) from None
    return 0
