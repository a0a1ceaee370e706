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

from strotss.errors import UserError
from strotss.models.metadata import from_card

PRETRAINED_DIR = Path(__file__).resolve().parent
MODEL_SUFFIXES = (".onnx", ".pt", ".ckpt")


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


def resolve_model(spec: str | os.PathLike) -> Path:
    """A model file path: an existing file as given, else the ONNX file of a bundled model of that name."""
    path = Path(spec)
    if path.exists():
        return path
    models = bundled_models()
    if str(spec) in models:
        return models[str(spec)].path
    names = ", ".join(models) or "none installed"
    if path.suffix.lower() in MODEL_SUFFIXES or os.sep in str(spec):
        raise UserError(f"{spec}: model file not found; check the path, or use a bundled model ({names})")
    raise UserError(f"{spec}: no such bundled model (bundled: {names}; `strotss models` lists them) "
                    "and no such file")
