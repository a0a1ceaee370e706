"""Training real-time stylizers on the STROTSS objective with Lightning: data, module, callbacks, teacher runs.

Exports resolve lazily, so that `strotss --help` and the torch-free ONNX verbs don't import Lightning.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {"StyleData": "strotss.train.data", "ImageGrids": "strotss.train.grids",
            "StrotssModule": "strotss.train.module", "LastCheckpoint": "strotss.train.checkpoints"}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import one of the exported classes on first access."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'strotss.train' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
