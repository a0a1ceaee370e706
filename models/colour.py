"""Linear colour transfer: move a photo's RGB distribution onto a painting's, in closed form and differentiably.

The map is the Monge-Kantorovich linear transport between two Gaussians (Pitié and Kokaram, 2007): of all linear
maps that give the photo the painting's colour mean and covariance, the one that moves colours least, so hues
are remapped onto their nearest counterparts instead of being rotated arbitrarily. Matrix square roots use
coupled Newton-Schulz iterations (matmuls only), so the same code runs on CPU and CUDA and exports to ONNX.
"""
from __future__ import annotations

import torch

COV_EPS = 1e-4
NEWTON_SCHULZ_STEPS = 20
COLOUR_STATS = 12  # mean (3) and covariance (9) per image


def colour_stats(rgb: torch.Tensor) -> torch.Tensor:
    """B×3×H×W images → B×12 (RGB mean, then the flattened 3×3 covariance), in fp32 under any autocast."""
    x = rgb.float().flatten(2)
    mean = x.mean(dim=2)
    centred = x - mean[:, :, None]
    with torch.autocast(rgb.device.type, enabled=False):
        cov = centred @ centred.transpose(1, 2) / x.shape[2]
    return torch.cat([mean, cov.flatten(1)], dim=1)


def _sqrt_and_inverse_sqrt(a: torch.Tensor, steps: int = NEWTON_SCHULZ_STEPS) -> tuple[torch.Tensor, torch.Tensor]:
    """Square root and inverse square root of B×3×3 symmetric positive definite matrices (Newton-Schulz)."""
    eye = torch.eye(3, dtype=a.dtype, device=a.device).expand_as(a)
    norm = a.flatten(1).norm(dim=1)[:, None, None]
    y, z = a / norm, eye
    for _ in range(steps):
        t = 0.5 * (3.0 * eye - z @ y)
        y, z = y @ t, t @ z
    return y * norm.sqrt(), z / norm.sqrt()


def transfer_matrix(photo_stats: torch.Tensor, painting_stats: torch.Tensor, eps: float = COV_EPS) -> torch.Tensor:
    """B×3×3 linear map taking the photo's colour covariance to the painting's with least colour displacement."""
    eye = torch.eye(3, dtype=torch.float32, device=photo_stats.device)
    cov_p = photo_stats[:, 3:].reshape(-1, 3, 3) + eps * eye
    cov_s = painting_stats[:, 3:].reshape(-1, 3, 3).expand_as(cov_p) + eps * eye
    root_p, inv_root_p = _sqrt_and_inverse_sqrt(cov_p)
    middle, _ = _sqrt_and_inverse_sqrt(root_p @ cov_s @ root_p)
    return inv_root_p @ middle @ inv_root_p


def match_colours(rgb: torch.Tensor, painting_stats: torch.Tensor) -> torch.Tensor:
    """B×3×H×W photos in [0, 1] recoloured to the painting's colour mean and covariance (B×12 or 1×12), clamped;
    in fp32 under any autocast (Newton-Schulz diverges in bfloat16)."""
    with torch.autocast(rgb.device.type, enabled=False):
        stats = colour_stats(rgb)
        m = transfer_matrix(stats, painting_stats.float())
        x = rgb.float().flatten(2) - stats[:, :3, None]
        out = m @ x + painting_stats[:, :3, None].float()
    return out.reshape(rgb.shape).clamp(0.0, 1.0).to(rgb.dtype)
