"""timm backends: any features_only model works with random weights; offline pretrained loading fails clearly."""

from __future__ import annotations

import pytest
import torch

from strotss.errors import UserError
from strotss.losses import build_extractor, sample_hypercolumns


def test_timm_backend_gives_hypercolumns_with_its_own_strides():
    ext = build_extractor("timm:resnet18", weights="random")
    assert ext.strides == [2, 4, 8, 16, 32]
    x = torch.rand(1, 3, 64, 96)
    hc = sample_hypercolumns(x, ext(x), torch.tensor([[10.5, 20.0], [63.0, 95.0]]), ext.strides)
    assert hc.shape == (1, 2, ext.num_channels) and torch.isfinite(hc).all()


def test_timm_pretrained_offline_is_one_clear_error(monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError, match="--weights PATH"):
        build_extractor("timm:resnet18")


def test_timm_unknown_model():
    with pytest.raises(UserError, match="no model named"):
        build_extractor("timm:not_a_model_xyz", weights="random")
