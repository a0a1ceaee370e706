"""The `strotss` command: every verb is listed, and parsing imports neither torch nor Lightning."""

from __future__ import annotations

import subprocess
import sys

from strotss.cli import VERBS, build_parser


def test_every_verb_has_help():
    parser = build_parser()
    actions = [a for a in parser._actions if a.dest == "verb"][0]
    assert set(actions.choices) == set(VERBS)


def test_parsing_stays_light():
    """`strotss --help` and the ONNX verbs must not pay for importing torch or Lightning."""
    code = ("import sys; from strotss.cli import build_parser; build_parser(); "
            "heavy = [m for m in ('torch', 'lightning', 'gradio', 'datasets') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)
