"""`strotss bench infer`: PyTorch inference latency and FPS of every network preset, per precision and image size.

The GPU counterpart of `strotss bench onnx` (which times ONNX Runtime): it measures the torch path that
onnxruntime-gpu's CUDA provider would be compared with. Networks are untrained: only shapes matter for speed.
"""

from __future__ import annotations

import argparse

from strotss.bench.timing import device_name, device_sync, median_ms, parse_sizes
from strotss.choices import ModelName, choices
from strotss.models.presets import PresetName

HELP = "PyTorch inference ms and FPS per network preset, precision and image size (cuda when present)"
DEFAULT_SIZES = "512,1920x1080"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `strotss bench infer`."""
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help=f"N (square) or WxH, comma separated ({DEFAULT_SIZES})")
    parser.add_argument("--presets", nargs="+", choices=choices(PresetName), default=list(choices(PresetName)),
                        help="network presets to time (default all)")
    parser.add_argument("--model", choices=choices(ModelName), default="per_style")
    parser.add_argument("--precisions", nargs="+", default=["fp32", "fp16", "bf16"], choices=("fp32", "fp16", "bf16"),
                        help="autocast dtypes to time (fp16/bf16 only on cuda)")
    parser.add_argument("--repeats", type=int, default=20, help="timed runs per cell; the median is reported")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first")
    parser.add_argument("--device", help="torch device (default cuda if available)")


def run(args: argparse.Namespace) -> int:
    """Time each (preset, precision, size) cell and print one table."""
    import torch

    from strotss.models import create_model
    from strotss.teacher.optimizer import resolve_device

    device = resolve_device(args.device)
    sync = device_sync(device)
    precisions = [p for p in args.precisions if p == "fp32" or device.type == "cuda"]
    dtypes = {"fp16": torch.float16, "bf16": torch.bfloat16}
    print(f"infer bench: {args.model}, torch {torch.__version__}, {device_name(device)}; "
          f"median of {args.repeats} runs, batch 1")
    print(f"{'preset':<7}{'params':>10}{'precision':>11}{'size':>11}{'ms':>9}{'FPS':>8}")
    for preset in args.presets:
        net = create_model(args.model, preset=preset).to(device).eval()
        params = sum(p.numel() for p in net.parameters() if p.requires_grad)
        for precision in precisions:
            for w, h in parse_sizes(args.sizes):
                x = torch.rand(1, 3, h, w, device=device)
                with torch.no_grad(), torch.autocast(device.type, dtype=dtypes.get(precision, torch.float32),
                                                     enabled=precision != "fp32"):
                    code = net.style_code(x[..., :256, :256])
                    ms = median_ms(lambda: net.stylize(x, code), args.repeats, args.warmup, sync)
                print(f"{preset:<7}{params:>10,}{precision:>11}{f'{w}x{h}':>11}{ms:>9.2f}{1e3 / ms:>8.1f}", flush=True)
    return 0
