"""Two-axis quality of a stylization: how much of the photo it keeps, and how close its style is to the painting.

The STROTSS objective alone can be won by painting the painting over the photo, so outputs are also judged
by measures that a degenerate output cannot win on both axes at once:

- content kept: luminance SSIM to the photo (not built on any loss network; Wang et al., 2004, via
  torchmetrics) and a deep-feature distance to the photo (VGG-19 relu4_2, Gatys' content layer);
- style distance: the objective's own style part (relaxed EMD + moments + palette) and Gatys' Gram-matrix
  distance over relu1_1, relu2_1, relu3_1, relu4_1, relu5_1.

Every function takes B×3×H×W RGB tensors in [0, 1] (or feature maps) and returns one value per image.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from torchmetrics.functional.image import structural_similarity_index_measure

# torchvision `features` indices of the post-ReLU maps used here (VGG-19).
GRAM_TAPS = {"relu1_1": 1, "relu2_1": 6, "relu3_1": 11, "relu4_1": 20, "relu5_1": 29}
CONTENT_TAP = {"relu4_2": 22}
# ITU-R BT.601 luma weights, as SSIM's luminance channel is usually defined.
LUMA = (0.299, 0.587, 0.114)


def luminance(rgb: torch.Tensor) -> torch.Tensor:
    """B×3×H×W RGB → B×1×H×W luma in [0, 1]."""
    weights = torch.tensor(LUMA, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    return (rgb * weights).sum(dim=1, keepdim=True)


def ssim_luminance(output: torch.Tensor, photo: torch.Tensor) -> torch.Tensor:
    """SSIM of the outputs' luma to the photos' (B; 1 = the photo itself, higher keeps more of it)."""
    return structural_similarity_index_measure(luminance(output.float()), luminance(photo.float()),
                                               data_range=1.0, reduction="none")


def feature_distance(output: torch.Tensor, photo: torch.Tensor) -> torch.Tensor:
    """Root-mean-square difference of two B×C×H×W feature maps (B; 0 = the same features)."""
    return (output.float() - photo.float()).pow(2).mean(dim=(1, 2, 3)).sqrt()


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """B×C×H×W feature maps → B×C×C Gram matrices normalized by the number of positions."""
    flat = features.float().flatten(2)
    return flat @ flat.transpose(1, 2) / flat.shape[-1]


def gram_distance(output: list[torch.Tensor], style: list[torch.Tensor]) -> torch.Tensor:
    """Mean over layers of ‖G(out) − G(style)‖_F / ‖G(style)‖_F (B; 0 = the painting's Gram matrices).

    The relative error makes layers of very different magnitude count alike, as Gatys' per-layer
    normalization intends; the style maps may have another size than the output's (B or 1 images).
    """
    per_layer = []
    for out, sty in zip(output, style):
        g_out, g_sty = gram_matrix(out), gram_matrix(sty)
        per_layer.append(torch.linalg.matrix_norm(g_out - g_sty) / torch.linalg.matrix_norm(g_sty))
    return torch.stack(per_layer).mean(dim=0)


class TappedTrunk(nn.Module):
    """Runs a frozen sequential CNN trunk and returns its maps at given layer indices (others than the loss's)."""

    def __init__(self, body: nn.Sequential, taps: list[int]) -> None:
        super().__init__()
        if max(taps) >= len(body):
            raise ValueError(f"tap {max(taps)} is beyond the trunk's {len(body)} layers")
        self.body, self.taps = body, sorted(taps)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The maps at the taps, in tap order, for the trunk's (already normalized) input."""
        maps = []
        for i, layer in enumerate(self.body):
            x = layer(x)
            if i in self.taps:
                maps.append(x)
            if i == self.taps[-1]:
                return maps
        return maps
