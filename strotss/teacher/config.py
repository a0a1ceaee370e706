"""The per-image optimizer's settings, declared once: defaults, help lines, checks and the size schedule.

The optimizer, the verbs that expose its flags (`strotss optimize`, `strotss teach`) and the GUI all read
them from here. Torch-free, so the verbs' --help stays fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from strotss.choices import LossPrecision, Weighting
from strotss.errors import UserError
from strotss.flags import flag_of, setting
from strotss.method import EXTRACTOR, N_POSITIONS, N_STYLE, OPTIMIZER_ALPHA, WEIGHTING

COARSEST = 64  # long side of the first scale of the coarse-to-fine schedule
ALPHA_MAX = 1_000_000  # beyond, the style terms count for nothing and α·16 nears float32's overflow
LR_MAX = 1.0  # RMSprop's first steps are ~10·lr; pixels range over [0, 1], so a larger rate only diverges


@dataclass
class StrotssConfig:
    """Every knob of the per-image optimizer, with the method's defaults (strotss.method) and each flag's help line."""

    size: int = setting(512, f"output long side in px (default %(default)s; ≥ {COARSEST})")
    alpha: float = setting(OPTIMIZER_ALPHA, "content weight α: higher keeps more of the photo (default %(default)s, "
                                          "which keeps its subjects; 1 is the paper's setting, which can repaint them "
                                          "as the painting's; ×16 at the first scale, halved per scale)")
    iters: int = setting(200, "iterations per scale (default %(default)s; the authors' code used 250)")
    lr: float = setting(2e-3, "RMSprop learning rate (default %(default)s)")
    last_lr: float = setting(1e-3, "learning rate at the last scale (default %(default)s), unless --init makes it "
                                   "a warm start's first")
    weighting: Weighting = setting(WEIGHTING, "term weighting: the authors' code or the paper's formula "
                                           "(default %(default)s)")
    extractor: str = setting(EXTRACTOR, "feature extractor: vgg19 (embedded), vgg16 (torchvision), timm:<model> "
                                      "(default %(default)s)")
    weights: str | None = setting(None, "local weights file for the extractor (offline use), or `random` "
                                        "(untrained; tests only)")
    n_positions: int = setting(N_POSITIONS, "output/content positions per step (default %(default)s)", flag="--positions")
    n_style: int = setting(N_STYLE, "style hypercolumns per region (default %(default)s)", flag="--style-samples")
    pyramid_levels: int = setting(5, "Laplacian pyramid bands optimized besides the residual (default %(default)s)")
    init_scales: int = setting(1, "with --init: how many of the finest scales to run (default %(default)s)")
    seed: int = setting(0, "random seed (default %(default)s)")
    device: str | None = setting(None, "cpu, cuda, cuda:1 … (default: cuda when present)")
    loss_precision: LossPrecision = setting(
        "auto", "bf16 runs the loss's nearest-neighbour search and gradient-only matmuls in bfloat16 (loss values "
                "stay fp32); fp32 keeps every matmul exact; auto picks bf16 where the hardware has native bf16 "
                "(CUDA, AVX512-BF16, AMX); default %(default)s")

    def __post_init__(self) -> None:
        """Refuse numbers that would crash the run or give garbage (nan, zero, negative, overflowing) before any work
        starts."""
        rules = (("size", self.size >= COARSEST, f"≥ {COARSEST}"),
                 ("alpha", 0 <= self.alpha <= ALPHA_MAX, f"a number from 0 to {ALPHA_MAX}"),
                 ("alpha", self.alpha > 0 or self.weighting != "paper",
                  "> 0 with --weighting paper (it divides by α)"),
                 ("iters", self.iters >= 1, "≥ 1"),
                 ("lr", 0 < self.lr <= LR_MAX, f"a number > 0 and ≤ {LR_MAX:g}"),
                 ("last_lr", 0 < self.last_lr <= LR_MAX, f"a number > 0 and ≤ {LR_MAX:g}"),
                 ("n_positions", self.n_positions >= 1, "≥ 1"),
                 ("n_style", self.n_style >= 1, "≥ 1"),
                 ("init_scales", self.init_scales >= 1, "≥ 1"),
                 ("pyramid_levels", self.pyramid_levels >= 1, "≥ 1"),
                 ("seed", -2**63 <= self.seed < 2**64, "from -2**63 to 2**64 - 1 (what torch's generators take)"))
        for name, ok, rule in rules:
            if not ok:
                raise UserError(f"{flag_of(StrotssConfig, name)} {getattr(self, name)}: must be {rule}")

    @property
    def scales(self) -> list[int]:
        """Long sides of the coarse-to-fine scales: size, size/2, … down to no less than COARSEST, coarsest first."""
        return [self.size // 2 ** k for k in range(int(math.log2(self.size / COARSEST)), -1, -1)]

    def first_level(self, warm_start: bool) -> int:
        """Level (index in `scales`) of the first scale that runs: 0, or with a warm start the last `init_scales`."""
        return max(0, len(self.scales) - self.init_scales) if warm_start else 0

    def total_iters(self, warm_start: bool) -> int:
        """Iterations of a whole run, for progress bars."""
        return self.iters * (len(self.scales) - self.first_level(warm_start))
