"""What a saved network says about itself: one schema for checkpoints, ONNX files and model cards (torch-free).

A checkpoint's "strotss" entry, an ONNX file's `strotss.*` metadata and a bundled model's card carry the same
facts: the network's kind (`model_name`, strotss.models.kinds) and constructor arguments (`model_kwargs`), the
painting a per-style network learnt (`style_name`), the crop or photo size it trained at (`train_size`, px) and
the strotss version that trained it. `checkpoint_meta`, `onnx_props` and `model_card` write them; `from_checkpoint`,
`from_onnx` and `from_card` read them back, files of earlier versions included (model_kwargs `size` → `preset`).

The roles an exported ONNX graph can have (`Graph`: its metadata `kind`, tensor names, file name) are declared
here too, where both the exporter (torch) and the runtime (no torch) read them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from strotss import __version__
from strotss.models.presets import current_kwargs

PREFIX = "strotss."  # of every ONNX metadata key
NORMALIZATION = "RGB float in [0,1], NCHW"
STYLE_LONG_SIDE = 256  # long side a style image is scaled down to for a style encoder
IMAGE, CODE, STYLE = "image", "code", "style"  # graph input names
ALPHA = "alpha"  # content weight α, one per image, of a graph conditioned on it


@dataclass(frozen=True)
class Graph:
    """The role of one exported ONNX graph: its `kind` in the metadata, its tensor names, and for a companion graph
    (written beside the main one) its file name's ending and the main graph's metadata key that names it."""

    kind: str
    inputs: tuple[str, ...]
    output: str
    suffix: str = ".onnx"
    link_key: str | None = None
    fp16_arithmetic: bool = True  # --fp16 converts its arithmetic; False: stores its weights in fp16 only

    @property
    def needs_style(self) -> bool:
        """True when the graph takes a style code besides the image."""
        return CODE in self.inputs

    def path_beside(self, main: str) -> str:
        """This companion's file beside the main graph's: model.onnx → model.style.onnx."""
        stem = main[:-len(".onnx")] if main.endswith(".onnx") else main
        return stem + self.suffix


STYLIZER = Graph("per_style", (IMAGE,), "stylized")  # image → image: a per-style network, or a baked style
CODED_STYLIZER = Graph("arbitrary_stylizer", (IMAGE, CODE), "stylized")  # image + style code → image
STYLE_ENCODER = Graph("arbitrary_style_encoder", (STYLE,), "code_out", ".style.onnx", "style_graph",
                      fp16_arithmetic=False)  # style image → code; its statistics need fp32 range
CONDITIONED_STYLIZER = Graph("per_style_alpha", (IMAGE, ALPHA), "stylized")  # image + content weight α → image
CONDITIONED_CODED_STYLIZER = Graph("arbitrary_stylizer_alpha", (IMAGE, CODE, ALPHA), "stylized")  # + code + α → image
GRAPHS = {g.kind: g for g in (STYLIZER, CODED_STYLIZER, STYLE_ENCODER, CONDITIONED_STYLIZER,
                              CONDITIONED_CODED_STYLIZER)}


def checkpoint_meta(model_name: str, model_kwargs: Mapping[str, Any] | None, style_name: str | None = None,
                    train_size: int | None = None, version: str = __version__) -> dict[str, Any]:
    """The "strotss" entry of a checkpoint (what strotss.models.load_model and `strotss export` read)."""
    return {"model_name": model_name, "model_kwargs": current_kwargs(model_kwargs), "style_name": style_name,
            "train_size": train_size, "version": version}


def from_checkpoint(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A checkpoint's "strotss" entry as today's code reads it."""
    return {**entry, "model_kwargs": current_kwargs(entry.get("model_kwargs"))}


def onnx_props(meta: Mapping[str, Any], graph: Graph, **extra: Any) -> dict[str, str]:
    """The ONNX metadata of one exported graph: a checkpoint's metadata, the graph's kind and `extra` facts."""
    props = {"kind": graph.kind, "model_name": meta.get("model_name"),
             "model_kwargs": json.dumps(current_kwargs(meta.get("model_kwargs")), sort_keys=True),
             "style_name": meta.get("style_name"), "train_size": meta.get("train_size"),
             "normalization": NORMALIZATION, "version": meta.get("version", __version__),
             "exporter_version": __version__, **extra}
    return {PREFIX + k: "" if v is None else str(v) for k, v in props.items()}


def from_onnx(props: Mapping[str, str]) -> dict[str, Any]:
    """An ONNX file's strotss metadata (its `strotss.*` properties, prefix removed; model_kwargs parsed: files
    exported before it was recorded lack it). Empty for a file that strotss did not write."""
    meta: dict[str, Any] = {k[len(PREFIX):]: v for k, v in props.items() if k.startswith(PREFIX)}
    if "model_kwargs" in meta:
        meta["model_kwargs"] = current_kwargs(json.loads(meta["model_kwargs"]))
    return meta


CARD_FIELDS = ("name", "kind", "preset", "parameters", "style", "model_kwargs", "files", "fp16_parity_uint8",
               "training", "quality", "licences", "source_weights_sha256")


def model_card(name: str, meta: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
    """A bundled model's card: its name, kind, preset and model_kwargs from its metadata, then `fields` (the rest of
    CARD_FIELDS: measurements and provenance), in CARD_FIELDS order."""
    kwargs = current_kwargs(meta.get("model_kwargs"))
    card = {"name": name, "kind": meta.get("model_name"), "preset": kwargs.get("preset"), "model_kwargs": kwargs,
            **fields}
    unknown = set(card) - set(CARD_FIELDS)
    if unknown:
        raise ValueError(f"model card fields {sorted(unknown)} are not in CARD_FIELDS")
    return {k: card[k] for k in CARD_FIELDS if k in card}


def from_card(card: Mapping[str, Any]) -> dict[str, Any]:
    """A model card as today's code reads it: `preset` where cards written before said `size` (the network preset,
    at the top level and in model_kwargs; the card's other sizes are pixels)."""
    current = {("preset" if k == "size" else k): v for k, v in card.items()}
    if "model_kwargs" in current:
        current["model_kwargs"] = current_kwargs(current["model_kwargs"])
    return current
