"""Training real-time stylizers on the STROTSS objective with Lightning: data, module, callbacks, teacher runs."""

from strotss.train.data import StyleData
from strotss.train.grids import ImageGrids
from strotss.train.module import StrotssModule

__all__ = ["ImageGrids", "StrotssModule", "StyleData"]
