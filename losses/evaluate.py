"""Score any finished image with the STROTSS objective, comparably across methods (student vs teacher)."""

from __future__ import annotations

import torch

from strotss.losses.features import FeatureExtractor
from strotss.losses.hypercolumns import sample_hypercolumns
from strotss.choices import Weighting
from strotss.losses.objective import strotss_loss, style_target
from strotss.losses.sampling import grid_positions, random_pixels, shuffled_subset


@torch.no_grad()
def image_objective(output: torch.Tensor, content: torch.Tensor, style: torch.Tensor,
                    extractor: FeatureExtractor, *, alpha: float = 1.0, weighting: Weighting = "code",
                    n_out: int = 1024, n_style: int = 5000, repeats: int = 4, seed: int = 0
                    ) -> dict[str, float]:
    """Mean objective and terms of output (1×3×H×W, same size as content) over seeded sample draws."""
    if output.shape[-2:] != content.shape[-2:]:
        raise ValueError(f"output {tuple(output.shape[-2:])} and content {tuple(content.shape[-2:])} differ in size")
    g = torch.Generator().manual_seed(seed)
    f_out, f_con, f_sty = extractor(output), extractor(content), extractor(style)
    h, w = content.shape[-2:]
    sums: dict[str, float] = {}
    for _ in range(repeats):
        sp = random_pixels(style.shape[-2], style.shape[-1], n_style, generator=g)
        target = style_target(sample_hypercolumns(style, f_sty, sp, extractor.strides))
        pos = shuffled_subset(grid_positions(h, w, generator=g), n_out, generator=g)
        total, terms = strotss_loss(sample_hypercolumns(output, f_out, pos, extractor.strides),
                                    sample_hypercolumns(content, f_con, pos, extractor.strides),
                                    target, alpha, weighting)
        for k, v in {"total": total, **terms}.items():
            sums[k] = sums.get(k, 0.0) + float(v.mean()) / repeats
    return sums
