"""StyleBank: per-style feature maps and moments computed once, with fresh style samples drawn every step."""

from __future__ import annotations

import zlib
from collections import OrderedDict
from typing import Any, NamedTuple

import torch

from strotss.losses import (FeatureExtractor, Moments, StyleTarget, grid_positions, moments, random_pixels,
                            sample_hypercolumns)
from strotss.losses.remd import unit
from strotss.method import N_STYLE


class CachedStyle(NamedTuple):
    """One style image (1×3×H×W), its extractor feature maps, and its moments over a dense pixel grid."""

    image: torch.Tensor
    feats: list[torch.Tensor]
    moments: Moments


class StyleBank:
    """Per-style-key cache of what the STROTSS style terms need, so a style's features are extracted once.

    Every step draws `n_style` fresh random pixels of each style for the relaxed EMD and palette terms (seeded
    by the key and the draw number, so a resumed or DDP run draws the same), and the moment term matches the
    style's moments over a regular grid of up to 128² pixels. A single draw fixed for a whole run would make
    the network fit that draw's sampling noise: the objective it is scored with draws anew each time.
    A cached style at 256 px takes ~60-80 MB, so at most `capacity` are kept (LRU).
    """

    def __init__(self, n_style: int = N_STYLE, capacity: int = 64, seed: int = 0) -> None:
        self.n_style, self.capacity, self.seed = n_style, capacity, seed
        self.cache: OrderedDict[str, CachedStyle] = OrderedDict()

    @torch.no_grad()
    def _fill(self, keys: list[str], styles: torch.Tensor, extractor: FeatureExtractor) -> None:
        """Extract and cache the styles (K×3×H×W) not yet cached, in one extractor pass (fp32 features)."""
        images = styles.float()
        feats = [f.float() for f in extractor(styles)]
        h, w = images.shape[-2:]
        for i, k in enumerate(keys):
            mine = [f[i:i + 1] for f in feats]
            grid = grid_positions(h, w, generator=self._generator(k, -1))[None]
            dense = sample_hypercolumns(images[i:i + 1], mine, grid, extractor.strides)
            self.cache[k] = CachedStyle(images[i:i + 1], mine, moments(dense))

    def _generator(self, key: str, draw: int) -> torch.Generator:
        """The seeded generator of one style's pixel draw number `draw` (-1: its moment grid's offset)."""
        return torch.Generator().manual_seed(zlib.crc32(f"{self.seed}:{key}:{draw}".encode()))

    @torch.no_grad()
    def targets(self, keys: list[str], styles: torch.Tensor, extractor: FeatureExtractor,
                draw: int = 0) -> StyleTarget:
        """Batched style target for a batch's style keys with pixel draw number `draw` (e.g. the training step);
        one shared style stays 1×M×C (the losses broadcast it)."""
        distinct = list(dict.fromkeys(keys))
        missing = [k for k in distinct if k not in self.cache]
        if missing:
            rows = [keys.index(k) for k in missing]
            self._fill(missing, styles[rows], extractor)
        for k in distinct:
            self.cache.move_to_end(k)
        while len(self.cache) > max(self.capacity, len(distinct)):
            self.cache.popitem(last=False)
        drawn = {k: self._draw(k, draw, extractor) for k in distinct}
        if len(distinct) == 1:
            return drawn[distinct[0]]
        return _cat([drawn[k] for k in keys])

    def _draw(self, key: str, draw: int, extractor: FeatureExtractor) -> StyleTarget:
        """n_style fresh hypercolumns of one cached style, with its dense-grid moments."""
        style = self.cache[key]
        h, w = style.image.shape[-2:]
        coords = random_pixels(h, w, self.n_style, generator=self._generator(key, draw))
        samples = sample_hypercolumns(style.image, style.feats, coords[None], extractor.strides)
        return StyleTarget(samples, unit(samples), style.moments)


def _cat(items: list) -> Any:
    """Concatenate a list of equal-structured (nested) NamedTuples of tensors along the batch dimension."""
    if isinstance(items[0], torch.Tensor):
        return torch.cat(items)
    return type(items[0])(*(_cat(list(parts)) for parts in zip(*items)))
