"""`strotss bench train`: training images/s and where a step's time goes (student, extractor, loss)."""

from __future__ import annotations

import argparse
import time

from strotss.bench.timing import device_name, device_sync, median_seconds
from strotss.choices import ModelName, choices
from strotss.flags import add_flags
from strotss.models.presets import PresetName
from strotss.teacher.config import StrotssConfig

HELP = "training throughput and step-time shares: student vs loss extractor vs STROTSS loss"
DESCRIPTION = """\
Time training steps of StrotssModule on synthetic batches and split one step into its phases by
cutting the autograd graph between them (student fwd/bwd, extractor fwd/bwd, loss fwd/bwd, optimizer).

  strotss bench train                          (256 px, batch 8, per-style, vgg19 loss, cuda if present)
  strotss bench train --size 512 --batch 4 --model arbitrary --precision bf16"""

PHASES = ("student fwd", "extractor fwd", "loss fwd", "loss bwd", "extractor bwd", "student bwd", "optimizer")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the benchmark settings."""
    parser.add_argument("--size", type=int, default=256, help="crop side in px (default 256)")
    parser.add_argument("--batch", type=int, default=8, help="images per step (default 8)")
    parser.add_argument("--model", choices=choices(ModelName), default="per_style")
    parser.add_argument("--preset", choices=choices(PresetName), default="tiny",
                        help="network preset (strotss.models.presets; default tiny)")
    add_flags(parser, StrotssConfig, ("extractor", "n_positions", "n_style"))
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                        help="autocast for student and extractor (the loss stays fp32)")
    add_flags(parser, StrotssConfig, ("loss_precision",))
    parser.add_argument("--steps", type=int, default=10, help="timed steps (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    add_flags(parser, StrotssConfig, ("device",))


def _batch(size: int, batch: int, positions: int, device, seed: int = 0) -> dict:
    """A synthetic batch with the layout StyleData produces (smooth random images, one style)."""
    import torch
    import torch.nn.functional as F

    from strotss.losses import grid_positions, shuffled_subset

    g = torch.Generator().manual_seed(seed)
    content = F.interpolate(torch.rand(batch, 3, size // 16, size // 16, generator=g), size=(size, size),
                            mode="bilinear", align_corners=False)
    style = F.interpolate(torch.rand(1, 3, 8, 8, generator=g), size=(size, size), mode="bicubic",
                          align_corners=False).clamp(0, 1).expand(batch, -1, -1, -1)
    pos = torch.stack([shuffled_subset(grid_positions(size, size, generator=g), positions, generator=g)
                       for _ in range(batch)])
    return {"content": content.to(device), "style": style.contiguous().to(device), "positions": pos.to(device),
            "style_key": ["bench"] * batch}


def _phased_step(module, opt, batch: dict, autocast, sync) -> list[float]:
    """One training step, timed phase by phase: the graph is cut between student, extractor and loss."""
    import torch

    marks = []

    def mark() -> None:
        sync()
        marks.append(time.perf_counter())

    mark()
    with autocast():
        out = module(batch["content"], batch["style"])
    mark()
    leaf = out.detach().requires_grad_(True)
    with autocast():
        feats_out, feats_con = module.loss_features(batch, leaf)
    mark()
    cut = [f.detach().float().requires_grad_(True) for f in feats_out]
    total = module.objective_of_features(batch, leaf, cut, feats_con)[0]
    mark()
    total.backward()
    mark()
    torch.autograd.backward(feats_out, [c.grad.to(f.dtype) for f, c in zip(feats_out, cut)])
    mark()
    out.backward(leaf.grad)
    mark()
    opt.step()
    opt.zero_grad(set_to_none=True)
    mark()
    return [b - a for a, b in zip(marks, marks[1:])]


def _fused_step(module, opt, batch: dict, autocast) -> None:
    """One training step as Lightning runs it: forward, objective, backward, optimizer."""
    with autocast():
        total, _ = module.objective(batch, module(batch["content"], batch["style"]))
    total.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)


def run(args: argparse.Namespace) -> int:
    """Run warm-up and timed steps and print the phase table and images/s."""
    import contextlib

    import torch

    from strotss.losses.precision import loss_matmul_dtype
    from strotss.teacher.optimizer import resolve_device
    from strotss.train.module import StrotssModule

    device = resolve_device(args.device)
    module = StrotssModule(model=args.model, model_kwargs={"preset": args.preset}, extractor=args.extractor,
                           n_style=args.n_style, loss_precision=args.loss_precision).to(device)
    opt = module.configure_optimizers()
    batch = _batch(args.size, args.batch, args.n_positions, device)
    sync = device_sync(device)
    bf16 = args.precision == "bf16"

    def autocast():
        return torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()

    for _ in range(args.warmup):
        _phased_step(module, opt, batch, autocast, sync)
    mean = torch.tensor([_phased_step(module, opt, batch, autocast, sync) for _ in range(args.steps)]).mean(0)
    fused_s = median_seconds(lambda: _fused_step(module, opt, batch, autocast), args.steps, sync=sync)
    step = float(mean.sum())
    print(f"train bench: {args.model} {args.preset}, {args.size} px, batch {args.batch}, {args.extractor}, {args.precision}, "
          f"{args.n_positions} positions, {args.n_style} style samples, loss search/gradient matmuls in "
          f"{loss_matmul_dtype(args.loss_precision, device) or torch.float32}, {device_name(device)}")
    print(f"{'phase':<16}{'ms':>10}{'share':>9}")
    for label, t in zip(PHASES, mean.tolist()):
        print(f"{label:<16}{1e3 * t:>10.1f}{100 * t / step:>8.1f}%")
    groups = {"student": (0, 5), "extractor": (1, 4), "loss": (2, 3)}
    for label, (a, b) in groups.items():
        print(f"{label + ' total':<16}{1e3 * float(mean[a] + mean[b]):>10.1f}{100 * float(mean[a] + mean[b]) / step:>8.1f}%")
    print(f"phased step {1e3 * step:.1f} ms; fused step {1e3 * fused_s:.1f} ms = {args.batch / fused_s:.1f} images/s")
    return 0
