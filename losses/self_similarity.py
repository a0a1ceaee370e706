"""Self-similarity content loss (method note, loss term 4).

D_ij = 1 − cos(A_i, A_j) for the output and the content; each column is divided by its sum;
ℓ_c = (1/n) Σ_ij |D^X_ij/Σ_k D^X_kj − D^C_ij/Σ_k D^C_kj|. Invariant to a global rescaling of features.
"""

from __future__ import annotations

import torch

from strotss.losses.remd import cosine_cost_matrix

EPS = 1e-8


def normalized_self_distance(x: torch.Tensor) -> torch.Tensor:
    """Column-normalized cosine self-distance matrix of B×N×C samples → B×N×N."""
    d = cosine_cost_matrix(x, x)
    return d / d.sum(dim=1, keepdim=True).clamp_min(EPS)


def self_similarity_loss(out: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Self-similarity loss between output and content hypercolumns read at the same positions → B."""
    with torch.no_grad():
        target = normalized_self_distance(content)
    return (normalized_self_distance(out) - target).abs().sum(dim=(1, 2)) / out.shape[1]
