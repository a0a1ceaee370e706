"""Score any finished image with the STROTSS objective, comparably across methods (student vs teacher)."""

from __future__ import annotations

import numpy as np
import torch

from strotss.choices import Weighting
from strotss.losses.features import FeatureExtractor
from strotss.losses.fidelity import (CONTENT_TAP, GRAM_TAPS, TappedTrunk, feature_distance, gram_distance,
                                     ssim_luminance)
from strotss.losses.hypercolumns import sample_hypercolumns
from strotss.losses.objective import strotss_loss, style_target
from strotss.losses.sampling import grid_positions, random_pixels, shuffled_subset
from strotss.method import ALPHA, N_POSITIONS, N_STYLE, WEIGHTING

Image = torch.Tensor | np.ndarray


def to_tensor(img: np.ndarray, device: torch.device) -> torch.Tensor:
    """H×W×3 uint8/float image → 1×3×H×W float32 in [0, 1] on device."""
    t = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None].float()
    return (t / 255.0 if img.dtype == np.uint8 else t).to(device)


class PairScorer:
    """Scores any number of outputs of one (content, style) pair with the STROTSS objective over seeded draws.

    The content and style features and the per-draw style targets and positions are computed once, so
    comparing several methods on a pair costs one extractor pass per output. `score_image` is the
    one-output form; both give identical numbers for the same seed. Images are 1×3×H×W tensors in [0, 1]
    or H×W×3 arrays (uint8, or float in [0, 1]), moved to the extractor's device.
    """

    @torch.no_grad()
    def __init__(self, content: Image, style: Image, extractor: FeatureExtractor, *, alpha: float = ALPHA,
                 weighting: Weighting = WEIGHTING, n_positions: int = N_POSITIONS, n_style: int = N_STYLE,
                 repeats: int = 4, seed: int = 0) -> None:
        self.extractor, self.alpha, self.weighting = extractor, alpha, weighting
        content, style = (self._tensor(x) for x in (content, style))
        self.hw = tuple(content.shape[-2:])
        g = torch.Generator().manual_seed(seed)
        f_con, f_sty = extractor(content), extractor(style)
        self.draws = []
        for _ in range(repeats):
            sp = random_pixels(style.shape[-2], style.shape[-1], n_style, generator=g)
            target = style_target(sample_hypercolumns(style, f_sty, sp, extractor.strides))
            pos = shuffled_subset(grid_positions(*self.hw, generator=g), n_positions, generator=g)
            self.draws.append((target, pos, sample_hypercolumns(content, f_con, pos, extractor.strides)))

    def _tensor(self, img: Image) -> torch.Tensor:
        """An image as a 1×3×H×W tensor on the extractor's device."""
        return img if isinstance(img, torch.Tensor) else to_tensor(img, self.extractor.mean.device)

    @torch.no_grad()
    def __call__(self, output: Image) -> dict[str, float]:
        """The objective ("total") and its terms of output (the content's size), mean over the pair's draws."""
        output = self._tensor(output)
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


def score_image(output: Image, content: Image, style: Image, extractor: FeatureExtractor, *, alpha: float = ALPHA,
                weighting: Weighting = WEIGHTING, n_positions: int = N_POSITIONS, n_style: int = N_STYLE,
                repeats: int = 4, seed: int = 0) -> dict[str, float]:
    """The objective ("total") and its terms of a finished output for a content/style pair, mean over seeded draws.

    Images are 1×3×H×W tensors in [0, 1] or H×W×3 arrays (uint8, or float in [0, 1]) moved to the extractor's
    device; output and content have the same size.
    """
    return PairScorer(content, style, extractor, alpha=alpha, weighting=weighting, n_positions=n_positions,
                      n_style=n_style, repeats=repeats, seed=seed)(output)


class FidelityScorer:
    """Content kept and style distance (strotss.losses.fidelity) of any number of outputs of one pair.

    The photo's relu4_2 maps and the painting's Gram taps are computed once; the extractor's own VGG trunk
    (its normalization and weights) is read at other layers than the objective's. Needs a VGG extractor.
    """

    @torch.no_grad()
    def __init__(self, content: Image, style: Image, extractor: FeatureExtractor) -> None:
        if extractor.taps is None or max(GRAM_TAPS.values()) >= len(extractor.body):
            raise ValueError(f"the {extractor.name} extractor has no VGG trunk up to relu5_1; use vgg19")
        self.extractor = extractor
        self.gram_trunk = TappedTrunk(extractor.body, list(GRAM_TAPS.values()))
        self.content_trunk = TappedTrunk(extractor.body, list(CONTENT_TAP.values()))
        self.photo = self._tensor(content)
        self.photo_features = self.content_trunk(extractor.normalize(self.photo))[0]
        self.style_maps = self.gram_trunk(extractor.normalize(self._tensor(style)))

    def _tensor(self, img: Image) -> torch.Tensor:
        """An image as a 1×3×H×W tensor on the extractor's device."""
        return img if isinstance(img, torch.Tensor) else to_tensor(img, self.extractor.mean.device)

    @torch.no_grad()
    def __call__(self, output: Image) -> dict[str, float]:
        """{"ssim", "feature", "gram"} of an output of the photo's size."""
        output = self._tensor(output)
        if output.shape[-2:] != self.photo.shape[-2:]:
            raise ValueError(f"output {tuple(output.shape[-2:])} and photo {tuple(self.photo.shape[-2:])} differ in size")
        x = self.extractor.normalize(output)
        return {"ssim": float(ssim_luminance(output, self.photo)[0]),
                "feature": float(feature_distance(self.content_trunk(x)[0], self.photo_features)[0]),
                "gram": float(gram_distance(self.gram_trunk(x), self.style_maps)[0])}
