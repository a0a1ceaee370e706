"""Stylization networks (nn.Modules following strotss.models.network.Network), their kinds, presets and files.

Exports resolve lazily, so that the torch-free modules here (kinds, presets, metadata) import without torch.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {"ArbitraryStyleNet": "strotss.models.arbitrary", "PerStyleNet": "strotss.models.per_style",
            "Network": "strotss.models.network", "KINDS": "strotss.models.kinds",
            "PRESETS": "strotss.models.presets", "Preset": "strotss.models.presets",
            "checkpoint_meta": "strotss.models.metadata",
            **{name: "strotss.models.registry" for name in ("create_model", "load_model", "onnx_state_dict",
                                                             "save_model")}}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import one of the exported names on first access."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'strotss.models' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
