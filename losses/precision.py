"""The loss precision: which dtype the loss's auxiliary matmuls use (bfloat16 where the hardware multiplies it fast).

Only matmuls whose rounding cannot reach a reported value run in low precision: the nearest-neighbour
search of the relaxed EMD (values are then computed in fp32 on the chosen pairs) and the matmuls that
only form gradients (moment and self-similarity terms).
"""

from __future__ import annotations

import functools

import torch

from strotss.choices import LossPrecision, choices

CHOICES = choices(LossPrecision)


def fast_bf16(device: torch.device) -> bool:
    """Whether bfloat16 matmuls run natively here (CUDA with bf16, CPUs with AVX512-BF16 or AMX)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        cpu = torch.cpu
        return bool(getattr(cpu, "_is_avx512_bf16_supported", lambda: False)()
                    or getattr(cpu, "_is_amx_tile_supported", lambda: False)())
    return False


@functools.lru_cache(maxsize=None)
def loss_matmul_dtype(loss_precision: LossPrecision, device: torch.device) -> torch.dtype | None:
    """The dtype a loss precision (auto/fp32/bf16) gives the loss's auxiliary matmuls on device; None: exact fp32."""
    if loss_precision not in CHOICES:
        raise ValueError(f"loss_precision {loss_precision!r}: use auto, fp32 or bf16")
    if loss_precision == "auto":
        loss_precision = "bf16" if fast_bf16(device) else "fp32"
    return torch.bfloat16 if loss_precision == "bf16" else None


def low_precision_matmul(a: torch.Tensor, b: torch.Tensor, loss_precision: LossPrecision) -> torch.Tensor:
    """a @ b, computed in the loss precision's dtype (e.g. bfloat16) and returned in a's; for no-grad work only."""
    dtype = loss_matmul_dtype(loss_precision, a.device)
    if dtype is None or dtype == a.dtype:
        return a @ b
    return (a.to(dtype) @ b.to(dtype)).to(a.dtype)
