"""Models trained by the project and shipped inside the package: ONNX files, each with a model card (JSON).

Wherever a model path is accepted (`strotss stylize`, `strotss gui --model`, `strotss bench ...`) one of
these names works too. Torch-free: the ONNX runtime path imports this.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strotss.errors import UserError, warn
from strotss.models.metadata import from_card

PRETRAINED_DIR = Path(__file__).resolve().parent
MODEL_SUFFIXES = (".onnx", ".pt", ".ckpt")
MODEL_MAGIC = (b"\x08", b"PK\x03\x04", b"\x80")  # ONNX (protobuf field 1, ir_version), torch zip, torch pickle


@dataclass(frozen=True)
class BundledModel:
    """A shipped model: its name, its ONNX file and its card (strotss.models.metadata.model_card)."""

    name: str
    path: Path
    card: dict[str, Any]


def bundled_models() -> dict[str, BundledModel]:
    """Every shipped model by name, in name order (a card `<name>.json` beside `<name>.onnx`)."""
    found = {}
    for card_path in sorted(PRETRAINED_DIR.glob("*.json")):
        card = from_card(json.loads(card_path.read_text()))
        found[card_path.stem] = BundledModel(card_path.stem, card_path.with_suffix(".onnx"), card)
    return found


def looks_like_model(path: Path) -> bool:
    """Whether path is a file that starts like an ONNX model or a PyTorch checkpoint (zip or pickle)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError:
        return False
    return head.startswith(MODEL_MAGIC)


def resolve_model(spec: str | os.PathLike) -> Path:
    """A model file path: an existing file as given, else the ONNX file of a bundled model of that name.

    A folder or a file that is not a model, named like a bundled model (an earlier `-o wheat_field`, say), does not
    hide it: the bundled model is used, with a one-line warning naming both.
    """
    path = Path(spec)
    models = bundled_models()
    bundled = models.get(str(spec))
    if path.exists() and (bundled is None or looks_like_model(path)):
        return path
    if bundled is not None:
        if path.exists():
            what = "a folder" if path.is_dir() else "a file but not a model"
            warn(f"{path.resolve()} is {what}; using the bundled model {bundled.name} ({bundled.path})")
        return bundled.path
    names = ", ".join(models) or "none installed"
    if path.suffix.lower() in MODEL_SUFFIXES or os.sep in str(spec):
        raise UserError(f"{spec}: model file not found; check the path, or use a bundled model ({names})")
    raise UserError(f"{spec}: no such bundled model (bundled: {names}; `strotss models` lists them) "
                    "and no such file")
