"""The protocol every network kind follows (strotss.models.kinds lists the kinds), with its defaults.

Training, checkpoints, ONNX export, the GUI's preview and the benchmarks call these members instead of asking
which kind a network is: whether it reads a style image (`needs_style`, `style_code`, `stylize`), what its saved
files hold (`saved_state`, `from_saved`) and which ONNX graphs it exports (`onnx_graphs`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping, NamedTuple

import torch
import torch.nn as nn

from strotss.models.metadata import Graph


class ExportGraph(NamedTuple):
    """One ONNX graph of an export: its role, the module torch.onnx traces, example inputs (in the role's input
    order) and facts for its metadata."""

    graph: Graph
    module: nn.Module
    args: tuple[torch.Tensor, ...]
    props: dict[str, Any]


class Method(nn.Module):
    """A module whose forward is one method of a network, called with the inputs (one to three: named parameters,
    as torch.export matches dynamic shapes to them) and then `constants`: what torch.onnx traces for one graph."""

    def __init__(self, net: nn.Module, method: str, *constants: torch.Tensor) -> None:
        super().__init__()
        self.net, self.method = net, method
        for i, constant in enumerate(constants):
            self.register_buffer(f"constant{i}", constant)
        self.constants = len(constants)

    def forward(self, first: torch.Tensor, second: torch.Tensor | None = None,
                third: torch.Tensor | None = None) -> torch.Tensor:
        """The network's method on the inputs and the constants."""
        inputs = [t for t in (first, second, third) if t is not None]
        constants = [getattr(self, f"constant{i}") for i in range(self.constants)]
        return getattr(self.net, self.method)(*inputs, *constants)


class Network(nn.Module):
    """A stylization network: RGB in [0, 1] → RGB in [0, 1], any size; `stride` is what the ONNX runtime pads to."""

    stride: ClassVar[int] = 4
    needs_style: ClassVar[bool] = False  # whether stylize reads a style image (through style_code)

    def style_code(self, style01: torch.Tensor) -> torch.Tensor | None:
        """What `stylize` needs of a B×3×H×W style batch in [0, 1]; None for a network that ignores the style."""
        return None

    def stylize(self, content01: torch.Tensor, code: torch.Tensor | None = None) -> torch.Tensor:
        """Stylize a B×3×H×W content batch with a `style_code` (None where the network needs none)."""
        return self(content01)

    def onnx_graphs(self, style01: torch.Tensor | None = None) -> list[ExportGraph]:
        """The graphs an ONNX export writes, the main one first; `style01` (1×3×H×W) bakes a style into one
        image → image graph, for networks that need one."""
        raise NotImplementedError

    def saved_state(self) -> dict[str, torch.Tensor]:
        """The weights a saved file holds (strotss.models.save_model)."""
        return self.state_dict()

    @classmethod
    def from_saved(cls, kwargs: Mapping[str, Any], state: Mapping[str, torch.Tensor]) -> Network:
        """The network of a saved file: built from its model_kwargs, loaded with its `saved_state`."""
        net = cls(**kwargs)
        net.load_state_dict(state)
        return net


def example_image(batch: int = 1) -> torch.Tensor:
    """A B×3×64×64 input for tracing an image graph (height, width and batch stay dynamic)."""
    return torch.rand(batch, 3, 64, 64)
