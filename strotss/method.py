"""The STROTSS method's defaults (method note), declared once where every layer can read them (torch-free).

The losses, training, the per-image optimizer's settings (strotss.teacher.config), the scorers and the
benchmarks take their defaults from here instead of retyping them.
"""

from __future__ import annotations

from strotss.choices import Weighting

EXTRACTOR = "vgg19"  # the loss's feature extractor: the original Caffe VGG19, embedded (strotss.losses.features)
ALPHA = 1.0  # content weight α of training and scoring (the optimizer's is ×16 at its first scale, halved per scale)
OPTIMIZER_ALPHA = 4.0  # the per-image optimizer's default α: at the paper's 1.0 it repaints subjects (docs/results.md)
WEIGHTING: Weighting = "code"  # how the terms are combined: the authors' code (strotss.losses.objective)
N_POSITIONS = 1024  # output/content hypercolumns compared per image and step
N_STYLE = 5000  # style hypercolumns drawn per region, afresh each step
TERMS = ("content", "remd", "moment", "palette")  # the loss terms, in the order tables list them
