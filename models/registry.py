"""Create networks by kind and save/load them with the checkpoint contract shared with training."""

from __future__ import annotations

import inspect
import os
import pickle
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from strotss import __version__
from strotss.errors import UserError
from strotss.imageio import atomic_output
from strotss.models.kinds import kind_of, network_class
from strotss.models.metadata import CONDITIONED_STYLIZER, STYLIZER, checkpoint_meta, from_checkpoint, from_onnx
from strotss.models.network import Network

LIGHTNING_PREFIX = "net."


def create_model(name: str, **kwargs: Any) -> Network:
    """Instantiate a network kind (strotss.models.kinds) with constructor kwargs (a config's model_kwargs:
    UserError for a key the network does not take)."""
    cls = network_class(name)
    accepted = inspect.signature(cls).parameters
    unknown = [k for k in kwargs if k not in accepted]
    if unknown:
        raise UserError(f"model_kwargs {unknown[0]!r}: not an argument of the {name} network; use "
                        f"{', '.join(k for k in accepted if k != 'pretrained')}")
    return cls(**kwargs)


def save_model(path: str | os.PathLike, model: Network, meta: dict[str, Any]) -> Path:
    """Write {"strotss": meta, "state_dict": ...} atomically; meta needs model_kwargs, the rest is filled in.

    The file holds the network's `saved_state`: only what training changed (an arbitrary network's embedded
    VGG19 style encoder, 14 MB, is rebuilt on load).
    """
    info = checkpoint_meta(kind_of(model), meta.get("model_kwargs"), meta.get("style_name"),
                           meta.get("train_size"), meta.get("version", __version__))
    with atomic_output(path) as fh:
        torch.save({"strotss": info, "state_dict": model.saved_state()}, fh)
    return Path(path)


ONNX_ADVICE = "pass the PyTorch checkpoint it was exported from"


def is_onnx_model(path: str | os.PathLike) -> bool:
    """Whether a file parses as an ONNX model with a graph (what `strotss export` writes)."""
    import onnx

    try:
        return len(onnx.load(str(path), load_external_data=False).graph.node) > 0
    except Exception:  # onnx raises DecodeError and others for a file that is not a model
        return False


def _unreadable(p: Path, exc: Exception, onnx_advice: str) -> UserError:
    """Why torch.load could not read p as weights only: an ONNX model, a pickle of other objects, or no checkpoint."""
    if is_onnx_model(p):
        return UserError(f"{p}: is an ONNX model (an exported network), not a PyTorch checkpoint; {onnx_advice}")
    if isinstance(exc, pickle.UnpicklingError) and "weights only" in str(exc).lower():
        return UserError(f"{p}: refused: it holds Python objects other than tensors and plain data (unpickling them "
                         "could run code), and strotss loads weights only; pass a file written by `strotss train`")
    return UserError(f"{p}: not a PyTorch checkpoint, or a truncated or corrupt one ({exc.__class__.__name__}); "
                     "pass a complete file written by `strotss train`")


def load_weights_only(path: str | os.PathLike, onnx_advice: str = ONNX_ADVICE) -> Any:
    """torch.load a file on CPU as weights only (tensors and plain data: no code runs); UserError for anything else,
    whose message for an ONNX model ends with `onnx_advice`."""
    p = Path(path)
    if p.is_dir():
        raise UserError(f"{p}: is a folder, not a checkpoint; give the checkpoint file in it (a .ckpt or .pt file)")
    if not p.is_file():
        raise UserError(f"{p}: checkpoint not found; check the path")
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load raises many types for a file that is not a checkpoint
        raise _unreadable(p, exc, onnx_advice) from None


def read_checkpoint(path: str | os.PathLike, onnx_advice: str = ONNX_ADVICE) -> dict[str, Any]:
    """Load a strotss or Lightning checkpoint dict (weights only), with a UserError for anything else."""
    p = Path(path)
    ckpt = load_weights_only(p, onnx_advice)
    if not isinstance(ckpt, dict) or "strotss" not in ckpt or "state_dict" not in ckpt:
        raise UserError(f"{p}: checkpoint has no 'strotss' metadata; pass a file written by `strotss train`")
    return ckpt


def onnx_state_dict(path: str | os.PathLike, net: nn.Module) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """`net`'s parameters (fp32) read back from a per-style strotss ONNX export of the same architecture, and its
    metadata: a shipped model (fp16 or fp32) can be fine-tuned without its source checkpoint.

    The exporter merges initializers of equal value (every fresh norm's ones) and drops zero biases, so
    parameters are matched by position, not name: the graph's Conv and InstanceNormalization nodes run in the
    order of `net`'s modules, and so do its Gemm nodes (the α-conditioning's linear layers) in that of its
    nn.Linear modules.
    """
    import numpy as np
    import onnx
    from onnx import numpy_helper

    p = Path(path)
    try:
        model = onnx.load(str(p))
    except Exception as exc:  # onnx raises DecodeError and others for a file that is not a model
        raise UserError(f"{p}: not an ONNX model ({exc.__class__.__name__})") from None
    meta = from_onnx({prop.key: prop.value for prop in model.metadata_props})
    baked = meta.get("model_name") not in (None, "per_style")  # an arbitrary network with one style baked in
    if meta.get("kind") not in (STYLIZER.kind, CONDITIONED_STYLIZER.kind) or baked:
        what = f"{meta['model_name']} with a baked style" if baked else meta.get("kind", "no strotss metadata")
        raise UserError(f"{p}: only a per-style strotss ONNX model can give initial weights (this one: "
                        f"{what}); pass the checkpoint it was exported from")
    inits = {init.name: init for init in model.graph.initializer}
    producers = {out: node for node in model.graph.node for out in node.output}

    def initializer(name: str) -> np.ndarray:
        while name not in inits and name in producers and producers[name].op_type in ("Cast", "Identity"):
            name = producers[name].input[0]
        if name not in inits:
            raise UserError(f"{p}: a layer's parameters are computed in the graph, not stored; pass the checkpoint "
                            "it was exported from")
        return numpy_helper.to_array(inits[name]).astype(np.float32)

    def gemm_weight(node: Any) -> np.ndarray:
        trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
        w = initializer(node.input[1])
        return w if trans_b else w.T

    state: dict[str, torch.Tensor] = {}
    kinds = ((("Conv", "InstanceNormalization"), (nn.Conv2d, nn.InstanceNorm2d)), (("Gemm",), (nn.Linear,)))
    for ops, types in kinds:
        layers = [n for n in model.graph.node if n.op_type in ops]
        modules = [(name, m) for name, m in net.named_modules() if isinstance(m, types)]
        if len(layers) != len(modules):
            break
        for node, (name, module) in zip(layers, modules):
            sources = list(node.input[1:3]) + [""] * (3 - len(node.input))
            for param, source in zip(("weight", "bias"), sources):
                if getattr(module, param, None) is None:
                    continue
                if not source:  # an omitted bias is zero (ONNX Conv, Gemm)
                    state[f"{name}.{param}"] = torch.zeros_like(getattr(module, param))
                elif node.op_type == "Gemm" and param == "weight":
                    state[f"{name}.{param}"] = torch.from_numpy(np.ascontiguousarray(gemm_weight(node)))
                else:
                    state[f"{name}.{param}"] = torch.from_numpy(initializer(source))
    own = net.state_dict()
    if set(state) != set(own) or any(state[k].shape != own[k].shape for k in own):
        raise UserError(f"{p}: its layers do not fit this network in number or shape (another preset, or "
                        "conditioned on α or not); use the model_kwargs of its model card")
    return state, meta


def load_model(path: str | os.PathLike, onnx_advice: str = ONNX_ADVICE) -> tuple[Network, dict[str, Any]]:
    """Rebuild the network from a strotss or Lightning checkpoint (strips the `net.` prefix), in eval mode;
    `onnx_advice` ends the message for an ONNX model given instead."""
    ckpt = read_checkpoint(path, onnx_advice)
    meta = from_checkpoint(ckpt["strotss"])
    state = ckpt["state_dict"]
    if any(k.startswith(LIGHTNING_PREFIX) for k in state):
        state = {k[len(LIGHTNING_PREFIX):]: v for k, v in state.items() if k.startswith(LIGHTNING_PREFIX)}
    try:
        model = network_class(meta.get("model_name", "")).from_saved(meta["model_kwargs"], state)
    except RuntimeError as exc:
        raise UserError(f"{path}: weights do not fit {meta['model_name']} with {meta['model_kwargs']} "
                        f"({str(exc).splitlines()[0]})") from None
    return model.eval(), meta
