"""Score any finished image with the STROTSS objective, comparably across methods (student vs teacher)."""

from __future__ import annotations

import numpy as np
import torch

from strotss.choices import Weighting
from strotss.losses.features import FeatureExtractor
from strotss.losses.hypercolumns import sample_hypercolumns
from strotss.losses.objective import strotss_loss, style_target
from strotss.losses.sampling import grid_positions, random_pixels, shuffled_subset

Image = torch.Tensor | np.ndarray


def to_tensor(img: np.ndarray, device: torch.device) -> torch.Tensor:
    """H×W×3 uint8/float image → 1×3×H×W float32 in [0, 1] on device."""
    t = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None].float()
    return (t / 255.0 if img.dtype == np.uint8 else t).to(device)


@torch.no_grad()
def score_image(output: Image, content: Image, style: Image, extractor: FeatureExtractor, *, alpha: float = 1.0,
                weighting: Weighting = "code", n_positions: int = 1024, n_style: int = 5000, repeats: int = 4,
                seed: int = 0) -> dict[str, float]:
    """The objective ("total") and its terms of a finished output for a content/style pair, mean over seeded draws.

    Images are 1×3×H×W tensors in [0, 1] or H×W×3 arrays (uint8, or float in [0, 1]) moved to the extractor's
    device; output and content have the same size.
    """
    output, content, style = (x if isinstance(x, torch.Tensor) else to_tensor(x, extractor.mean.device)
                              for x in (output, content, style))
    if output.shape[-2:] != content.shape[-2:]:
        raise ValueError(f"output {tuple(output.shape[-2:])} and content {tuple(content.shape[-2:])} differ in size")
    g = torch.Generator().manual_seed(seed)
    f_out, f_con, f_sty = extractor(output), extractor(content), extractor(style)
    h, w = content.shape[-2:]
    sums: dict[str, float] = {}
    for _ in range(repeats):
        sp = random_pixels(style.shape[-2], style.shape[-1], n_style, generator=g)
        target = style_target(sample_hypercolumns(style, f_sty, sp, extractor.strides))
        pos = shuffled_subset(grid_positions(h, w, generator=g), n_positions, generator=g)
        total, terms = strotss_loss(sample_hypercolumns(output, f_out, pos, extractor.strides),
                                    sample_hypercolumns(content, f_con, pos, extractor.strides),
                                    target, alpha, weighting)
        for k, v in {"total": total, **terms}.items():
            sums[k] = sums.get(k, 0.0) + float(v.mean()) / repeats
    return sums
