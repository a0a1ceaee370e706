"""STROTSS losses as pure functions of tensors, and the frozen feature extractors they measure with."""

from strotss.losses.evaluate import FidelityScorer, PairScorer, score_image, to_tensor
from strotss.losses.features import FeatureExtractor, build_extractor
from strotss.losses.hypercolumns import sample_hypercolumns
from strotss.losses.moments import Moments, moment_loss, moments
from strotss.losses.objective import (PointTargets, StyleTarget, combine_terms, strotss_loss, strotss_terms,
                                      style_target)
from strotss.losses.palette import palette_loss, rotate_colours
from strotss.losses.remd import cosine_cost_matrix, relaxed_emd
from strotss.losses.sampling import grid_positions, neighbourhood, random_pixels, shuffled_subset
from strotss.losses.self_similarity import self_similarity_loss
from strotss.losses.temporal import random_motion, temporal_loss, warp

__all__ = [
    "FeatureExtractor", "FidelityScorer", "PairScorer", "score_image", "to_tensor", "build_extractor", "sample_hypercolumns",
    "Moments", "moments", "moment_loss",
    "PointTargets", "StyleTarget", "combine_terms", "strotss_loss", "strotss_terms", "style_target",
    "palette_loss", "rotate_colours", "cosine_cost_matrix", "relaxed_emd", "grid_positions",
    "neighbourhood", "random_pixels", "shuffled_subset", "self_similarity_loss", "random_motion", "temporal_loss",
    "warp",
]
