"""The per-image STROTSS optimizer: the slow, best-quality teacher and the fallback for guided edits.

Method note, "Per-image optimizer": the output is a Laplacian pyramid (5 bands + residual) optimized
with RMSprop, coarse to fine (long side 64, 128, … up to `size`), initialized from the style's mean
colour plus the content's finest band, with content weight α·16 halved after each scale.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from strotss.errors import UserError
from strotss.imageio import resize_long_side
from strotss.memory import available_bytes, check_fits
from strotss.losses import (FeatureExtractor, PointTargets, build_extractor, grid_positions, neighbourhood,
                            random_pixels, sample_hypercolumns, shuffled_subset, strotss_loss, style_target,
                            to_tensor)
from strotss.teacher.config import COARSEST, StrotssConfig
from strotss.teacher.guidance import RegionMasks, check_points
from strotss.teacher.pyramid import collapse_pyramid, finest_band, laplacian_pyramid

OUTPUT_BYTES_PER_PIXEL = 2500  # peak memory per result pixel at the last scale (measured on CPU: ~3.3 KB with
STYLE_BYTES_PER_PIXEL = 800    # the style's share, 512 and 1024 px runs)


@dataclass
class OptimizeResult:
    """The stylized image (H×W×3 float32 in [0, 1]), the per-iteration loss log and the wall time.

    Each history record: `level` (index in config.scales, 0 the coarsest), `size` (that level's long side in px),
    `iter`, `alpha`, `time` and the loss terms with their `total`.
    """

    image: np.ndarray
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    config: dict = field(default_factory=dict)


def resolve_device(device: str | None) -> torch.device:
    """The requested device, or CUDA when present, else CPU; UserError for a name torch does not know or lacks."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {device}: no CUDA GPU is visible; use --device cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise UserError(f"--device {device}: unknown device; use cpu, cuda or cuda:N") from None
    try:
        torch.empty(0, device=dev)
    except (RuntimeError, AssertionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise UserError(f"--device {device}: not available on this machine ({reason}); use cpu, cuda or cuda:N"
                        ) from None
    return dev


def _hw_at(hw: tuple[int, int], long_side: int) -> tuple[int, int]:
    """Height and width of an image of size hw resized to a long side, as resize_long_side rounds them."""
    scale = long_side / max(hw)
    return max(1, round(hw[0] * scale)), max(1, round(hw[1] * scale))


def check_memory(content_hw: tuple[int, int], style_hw: tuple[int, int], size: int, device: torch.device) -> None:
    """UserError before any work when the last scale would need more memory than the device has free."""
    ch, cw = _hw_at(content_hw, size)
    sh, sw = _hw_at(style_hw, size)
    need = OUTPUT_BYTES_PER_PIXEL * ch * cw + STYLE_BYTES_PER_PIXEL * sh * sw
    free = torch.cuda.mem_get_info(device)[0] if device.type == "cuda" else available_bytes()
    largest = int(size * math.sqrt(free / need)) if free else 0
    check_fits(need, free, f"--size {size} (a {cw}×{ch} px result)",
               f"use --size {largest} or less" if largest >= COARSEST else "free memory or use another machine")


def _check_thickness(img: np.ndarray, name: str, side: int, min_side: int) -> None:
    """Reject images so thin that their short side falls below what the extractor needs at the coarsest scale."""
    h, w = img.shape[:2]
    short = min(_hw_at((h, w), side))
    if short < min_side:
        raise UserError(f"{name}: {w}×{h} px is too thin: at the coarsest scale ({side} px long side) it is {short} "
                        f"px across, and the feature extractor needs {min_side}; crop it to at most "
                        f"{side // min_side}:1")


def _resized(img: np.ndarray, long_side: int, device: torch.device) -> torch.Tensor:
    """A uint8 image resized (Lanczos) to a long side, as a tensor."""
    return to_tensor(resize_long_side(img, long_side), device)


class _LevelObjective:
    """The objective at one level of the coarse-to-fine schedule: what stays fixed there (content features, style targets per region, masks,
    points), and the loss of the current image against it."""

    def __init__(self, extractor: FeatureExtractor, content: torch.Tensor, style: torch.Tensor,
                 regions: RegionMasks | None, points: np.ndarray | None, src_hw: tuple, style_src_hw: tuple,
                 config: StrotssConfig, generator: torch.Generator) -> None:
        self.content, self.extractor, self.config, self.g = content, extractor, config, generator
        self.hw = content.shape[-2:]
        s_hw = style.shape[-2:]
        with torch.no_grad():
            self.content_feats = extractor(content)
            style_feats = extractor(style)
        if regions is None:
            self.masks = [None]
            style_masks = [None]
        else:
            cm, sm = regions.at(tuple(self.hw), tuple(s_hw))
            self.masks, style_masks = list(cm), list(sm)
        self.out_points = self.style_points = None
        if points is not None:
            spacing = 0.01 * max(self.hw)
            sy, sx = s_hw[0] / style_src_hw[0], s_hw[1] / style_src_hw[1]
            cy, cx = self.hw[0] / src_hw[0], self.hw[1] / src_hw[1]
            self.out_points = neighbourhood(torch.from_numpy(points[:, [1, 0]] * [cy, cx]), spacing)
            style_pts = neighbourhood(torch.from_numpy(points[:, [3, 2]] * [sy, sx]), 0.01 * max(s_hw))
            with torch.no_grad():
                self.style_points = sample_hypercolumns(style, style_feats, style_pts.reshape(1, -1, 2),
                                                        extractor.strides).view(1, *style_pts.shape[:2], -1)
        self.targets = []
        for m in style_masks:
            pos = random_pixels(s_hw[0], s_hw[1], config.n_style, mask=m, generator=generator)
            with torch.no_grad():
                hc = sample_hypercolumns(style, style_feats, pos, extractor.strides)
            self.targets.append(style_target(hc, self.style_points))

    def loss(self, x: torch.Tensor, alpha: float) -> tuple[torch.Tensor, dict[str, float]]:
        """The objective of the current image, averaged over region pairs, with its terms for logging."""
        strides = self.extractor.strides
        region_pos = [shuffled_subset(grid_positions(*self.hw, mask=m, generator=self.g), self.config.n_positions, self.g)
                      for m in self.masks]
        read_pos = region_pos + ([self.out_points.reshape(-1, 2)] if self.out_points is not None else [])
        reads = self.extractor.hypercolumns(x, torch.cat(read_pos)).split([len(p) for p in read_pos], dim=1)
        points = None
        if self.out_points is not None:
            points = PointTargets(reads[-1].reshape(1, *self.out_points.shape[:2], -1), self.style_points)
        totals, logs = [], {}
        for pos, out_hc, target in zip(region_pos, reads, self.targets):
            total, terms = strotss_loss(out_hc, sample_hypercolumns(self.content, self.content_feats, pos, strides),
                                        target, alpha, self.config.weighting, points, self.config.loss_precision)
            totals.append(total)
            for k, v in terms.items():
                logs[k] = logs.get(k, 0.0) + float(v.detach()) / len(self.masks)
        total = torch.stack(totals).mean()
        logs["total"] = float(total.detach())
        return total, logs


def _check_image(img: np.ndarray, name: str) -> None:
    """Reject images smaller than the coarsest scale, which the schedule cannot start from."""
    if max(img.shape[:2]) < COARSEST:
        raise UserError(f"{name}: {img.shape[1]}×{img.shape[0]} px is smaller than the coarsest scale "
                        f"({COARSEST} px long side); use a larger image")


def _refuse_not_finite(value: float, what: str, names: tuple[str, str]) -> None:
    """UserError once the objective or the image (`what`) is not finite: later steps stay nan, no image is left."""
    if not math.isfinite(value):
        raise UserError(f"{names[0]} with {names[1]}: {what} became {value}, so there is no image to write; "
                        "lower --lr and --last-lr (or --alpha) and run again")


def optimize_image(content: np.ndarray, style: np.ndarray, config: StrotssConfig | None = None, *,
                   regions: tuple[np.ndarray, np.ndarray] | RegionMasks | None = None,
                   points: np.ndarray | None = None, init: np.ndarray | None = None,
                   extractor: FeatureExtractor | None = None, progress: bool = True,
                   names: tuple[str, str] = ("content", "style"),
                   callback: Callable[[dict, torch.Tensor], None] | None = None) -> OptimizeResult:
    """Stylize one content image (H×W×3 uint8) with one style image by optimizing the STROTSS objective.

    regions: two colour masks (content, style) or prepared RegionMasks; points: P×4 array of
    (content_x, content_y, style_x, style_y) in original pixels; init: warm-start image (e.g. a student's
    output) — then only the last `config.init_scales` scales run, the first of them at `config.lr` even when it
    is the last scale (a student's output lies further from the optimum than an upsampled coarser result;
    measured in benchmarks/studies/warm_start.py). callback(record, image) is called after
    every iteration with the loss record and the current 1×3×h×w image (e.g. to stream previews); it may
    raise to cancel.
    """
    from strotss.teacher.guidance import region_masks

    config = config or StrotssConfig()
    _check_image(content, names[0])
    _check_image(style, names[1])
    device = resolve_device(config.device)
    scales = config.scales
    check_memory(content.shape[:2], style.shape[:2], config.size, device)
    first = config.first_level(warm_start=init is not None)
    torch.manual_seed(config.seed)
    g = torch.Generator().manual_seed(config.seed)
    extractor = (extractor or build_extractor(config.extractor, config.weights)).to(device)
    for img, name in zip((content, style), names):
        _check_thickness(img, name, scales[first], max(extractor.strides))
    if isinstance(regions, tuple):
        regions = region_masks(regions[0], regions[1], content.shape[:2], style.shape[:2])
    if points is not None:
        check_points(points, content.shape[:2], style.shape[:2], "points")
    history: list[dict] = []
    start = time.perf_counter()
    x = None
    bar = tqdm(total=config.total_iters(warm_start=init is not None), disable=not progress, unit="it", dynamic_ncols=True)
    try:
        for k in range(first, len(scales)):
            side, last = scales[k], k == len(scales) - 1
            c = _resized(content, side, device)
            s = _resized(style, side, device)
            objective = _LevelObjective(extractor, c, s, regions, points, content.shape[:2], style.shape[:2], config, g)
            if x is None:
                x = (_resized(init, side, device) if init is not None
                     else s.mean(dim=(2, 3), keepdim=True) + finest_band(c))
                if init is not None:
                    x = F.interpolate(x, size=c.shape[-2:], mode="bilinear", align_corners=False)
            else:
                x = F.interpolate(x, size=c.shape[-2:], mode="bilinear", align_corners=False)
                if not last:
                    x = x + finest_band(c)
            pyramid = [p.detach().clone().requires_grad_(True) for p in laplacian_pyramid(x, config.pyramid_levels)]
            warm_first = init is not None and k == first
            opt = torch.optim.RMSprop(pyramid, lr=config.last_lr if last and not warm_first else config.lr)
            alpha = config.alpha * 16.0 / 2 ** k
            bar.set_description(f"scale {k + 1}/{len(scales)} ({side} px)")
            for it in range(config.iters):
                opt.zero_grad(set_to_none=True)
                current = collapse_pyramid(pyramid)
                loss, logs = objective.loss(current, alpha)
                _refuse_not_finite(logs["total"], f"the objective at scale {k + 1} ({side} px), iteration {it + 1}",
                                   names)
                loss.backward()
                opt.step()
                history.append({"level": k, "size": side, "iter": it, "alpha": alpha,
                                "time": time.perf_counter() - start, **logs})
                if callback is not None:
                    callback(history[-1], current.detach())
                bar.set_postfix(loss=f"{logs['total']:.4f}", refresh=False)
                bar.update(1)
            with torch.no_grad():
                x = collapse_pyramid(pyramid).detach()
    finally:
        bar.close()
    _refuse_not_finite(float(x.abs().max()), "the image after the last step", names)
    image = x.clamp(0, 1)[0].permute(1, 2, 0).cpu().numpy().astype(np.float32)
    return OptimizeResult(image, history, time.perf_counter() - start, asdict(config))
