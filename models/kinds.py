"""The network kinds, each declared once: its name (what configs, checkpoints and ONNX files say) and its class.

A kind's class is an nn.Module that follows strotss.models.network.Network (whether it takes a style image,
what its saved files hold, which ONNX graphs it exports). Adding a kind is its module plus one line here;
training, checkpoints, export, the ONNX runtime, the GUI and the benchmarks handle it from there.
Torch-free: configs and `--help` validate kind names without importing the networks.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Literal

from strotss.errors import UserError

KINDS: dict[str, str] = {  # kind → "module:class"
    "per_style": "strotss.models.per_style:PerStyleNet",
    "arbitrary": "strotss.models.arbitrary:ArbitraryStyleNet",
}

if TYPE_CHECKING:
    ModelName = str
else:  # a Literal at run time, so that LightningCLI, argparse and strotss.choices check the names
    ModelName = Literal[tuple(KINDS)]


def network_class(kind: str) -> Any:
    """The class of a network kind (UserError for a name that is none)."""
    if kind not in KINDS:
        raise UserError(f"unknown model {kind!r}; choose one of {', '.join(KINDS)}")
    module, _, name = KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def kind_of(net: Any) -> str:
    """The kind name of a network instance."""
    for kind in KINDS:
        if isinstance(net, network_class(kind)):
            return kind
    raise TypeError(f"{type(net).__name__} is not a registered strotss network")
