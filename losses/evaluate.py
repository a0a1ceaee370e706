"""Score any finished image with the STROTSS objective, comparably across methods (student vs teacher)."""

from __future__ import annotations

import torch

from strotss.losses.features import FeatureExtractor
from strotss.losses.hypercolumns import sample_hypercolumns
from strotss.losses.objective import Weighting, strotss_loss, style_target
from strotss.losses.sampling import grid_positions, random_pixels, shuffled_subset


class PairScorer:
    """Scores any number of outputs of one (content, style) pair with the STROTSS objective over seeded draws.

    The content and style features and the per-draw style targets and positions are computed once, so
    comparing several methods on a pair costs one extractor pass per output. `image_objective` is the
    one-output form; both give identical numbers for the same seed.
    """

    @torch.no_grad()
    def __init__(self, content: torch.Tensor, style: torch.Tensor, extractor: FeatureExtractor, *,
                 alpha: float = 1.0, weighting: Weighting = "code", n_out: int = 1024, n_style: int = 5000,
                 repeats: int = 4, seed: int = 0) -> None:
        self.extractor, self.alpha, self.weighting = extractor, alpha, weighting
        self.hw = tuple(content.shape[-2:])
        g = torch.Generator().manual_seed(seed)
        f_con, f_sty = extractor(content), extractor(style)
        self.draws = []
        for _ in range(repeats):
            sp = random_pixels(style.shape[-2], style.shape[-1], n_style, generator=g)
            target = style_target(sample_hypercolumns(style, f_sty, sp, extractor.strides))
            pos = shuffled_subset(grid_positions(*self.hw, generator=g), n_out, generator=g)
            self.draws.append((target, pos, sample_hypercolumns(content, f_con, pos, extractor.strides)))

    @torch.no_grad()
    def __call__(self, output: torch.Tensor) -> dict[str, float]:
        """Mean objective and terms of output (1×3×H×W, the content's size) over the pair's draws."""
        if tuple(output.shape[-2:]) != self.hw:
            raise ValueError(f"output {tuple(output.shape[-2:])} and content {self.hw} differ in size")
        f_out = self.extractor(output)
        sums: dict[str, float] = {}
        for target, pos, con_hc in self.draws:
            total, terms = strotss_loss(sample_hypercolumns(output, f_out, pos, self.extractor.strides), con_hc,
                                        target, self.alpha, self.weighting)
            for k, v in {"total": total, **terms}.items():
                sums[k] = sums.get(k, 0.0) + float(v.mean()) / len(self.draws)
        return sums


def image_objective(output: torch.Tensor, content: torch.Tensor, style: torch.Tensor,
                    extractor: FeatureExtractor, *, alpha: float = 1.0, weighting: Weighting = "code",
                    n_out: int = 1024, n_style: int = 5000, repeats: int = 4, seed: int = 0
                    ) -> dict[str, float]:
    """Mean objective and terms of output (1×3×H×W, same size as content) over seeded sample draws."""
    if output.shape[-2:] != content.shape[-2:]:
        raise ValueError(f"output {tuple(output.shape[-2:])} and content {tuple(content.shape[-2:])} differ in size")
    return PairScorer(content, style, extractor, alpha=alpha, weighting=weighting, n_out=n_out, n_style=n_style,
                      repeats=repeats, seed=seed)(output)
