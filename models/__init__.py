"""Stylization networks (plain nn.Modules) and their checkpoint registry."""

from strotss.models.arbitrary import ArbitraryStyleNet
from strotss.models.per_style import PerStyleNet
from strotss.models.registry import (checkpoint_meta, create_model, load_model, onnx_state_dict,
                                     save_model)
from strotss.models.sizes import SIZES, NetSize

__all__ = ["ArbitraryStyleNet", "NetSize", "PerStyleNet", "SIZES", "checkpoint_meta", "create_model", "load_model",
           "onnx_state_dict", "save_model"]
