"""StyleBank: style hypercolumn samples and moments, computed once per style image and kept in an LRU cache."""

from __future__ import annotations

import zlib
from collections import OrderedDict
from typing import Any

import torch

from strotss.losses import FeatureExtractor, StyleTarget, random_pixels, sample_hypercolumns, style_target


class StyleBank:
    """Per-style-key cache of STROTSS style targets (n_style random pixels, seeded by the key).

    A target at 2179 channels and 5000 samples takes ~60 MB, so at most `capacity` are kept (LRU).
    """

    def __init__(self, n_style: int = 5000, capacity: int = 64, seed: int = 0) -> None:
        self.n_style, self.capacity, self.seed = n_style, capacity, seed
        self.cache: OrderedDict[str, StyleTarget] = OrderedDict()

    @torch.no_grad()
    def _fill(self, keys: list[str], styles: torch.Tensor, extractor: FeatureExtractor) -> None:
        """Compute the targets of styles (K×3×H×W, fp32 features) not yet cached, in one extractor pass."""
        h, w = styles.shape[-2:]
        coords = torch.stack([random_pixels(h, w, self.n_style, generator=torch.Generator().manual_seed(
            zlib.crc32(f"{self.seed}:{k}".encode()))) for k in keys])
        feats = [f.float() for f in extractor(styles)]
        samples = sample_hypercolumns(styles.float(), feats, coords, extractor.strides)
        for k, s in zip(keys, samples):
            self.cache[k] = style_target(s[None])

    def targets(self, keys: list[str], styles: torch.Tensor, extractor: FeatureExtractor) -> StyleTarget:
        """Batched style target for a batch's style keys; one shared style stays 1×M×C (the losses broadcast it)."""
        missing = {k: i for i, k in enumerate(keys) if k not in self.cache}
        if missing:
            self._fill(list(missing), styles[list(missing.values())], extractor)
        for k in keys:
            self.cache.move_to_end(k)
        while len(self.cache) > max(self.capacity, len(set(keys))):
            self.cache.popitem(last=False)
        if len(set(keys)) == 1:
            return self.cache[keys[0]]
        return _cat([self.cache[k] for k in keys])


def _cat(items: list) -> Any:
    """Concatenate a list of equal-structured (nested) NamedTuples of tensors along the batch dimension."""
    if isinstance(items[0], torch.Tensor):
        return torch.cat(items)
    return type(items[0])(*(_cat(list(parts)) for parts in zip(*items)))
