"""ONNX Runtime inference for exported strotss models with numpy, onnxruntime and Pillow only (no torch)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import onnxruntime as ort

from strotss.errors import InputError, UserError
from strotss.models import metadata
from strotss.imageio import resize_long_side
from strotss.memory import available_bytes, check_fits

PROVIDER_ORDER = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
PROVIDER_ALIASES = {"tensorrt": "TensorrtExecutionProvider", "trt": "TensorrtExecutionProvider",
                    "cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider"}
GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")
ORT_DTYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}
BYTES_PER_PIXEL = 600  # peak host memory per input pixel of the default networks on the CPU provider (measured)
# The graph contract of each kind: input names with their ranks, and the rank of the first output.
INPUT_RANKS = {metadata.IMAGE: 4, metadata.STYLE: 4, metadata.CODE: 2, metadata.ALPHA: 1}
CONTRACT = {g.kind: ({name: INPUT_RANKS[name] for name in g.inputs}, 2 if g is metadata.STYLE_ENCODER else 4)
            for g in metadata.GRAPHS.values()}
IMAGE_TENSORS = (metadata.IMAGE, metadata.STYLE)
# Metadata numbers and their allowed range: anything else is not from `strotss export` (the networks' stride is 4).
NUMBERS = {"stride": (1, 64), "style_size": (16, 4096), "code_dim": (1, 65536)}


def available_providers() -> list[str]:
    """Execution providers this onnxruntime build offers, in strotss's preference order."""
    have = set(ort.get_available_providers())
    return [p for p in PROVIDER_ORDER if p in have]


def resolve_providers(provider: str | None = None) -> list[str]:
    """Default TensorRT → CUDA → CPU (those available); a named provider is forced, with CPU as fallback."""
    if provider is None:
        return available_providers()
    name = PROVIDER_ALIASES.get(provider.lower(), provider)
    if name not in ort.get_available_providers():
        raise UserError(f"--provider {provider}: not available in this onnxruntime build "
                        f"(available: {', '.join(available_providers())}); for GPUs: pip install 'strotss[gpu]'")
    return [name] if name == "CPUExecutionProvider" else [name, "CPUExecutionProvider"]


def open_session(path: str | os.PathLike, provider: str | None = None,
                 threads: int | None = None) -> tuple[ort.InferenceSession, dict[str, Any]]:
    """Create an InferenceSession and return it with its strotss metadata (UserError if not ONNX or not ours)."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: model file not found; export one with `strotss export CHECKPOINT -o {p.name}`")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    try:
        session = ort.InferenceSession(str(p), options, providers=resolve_providers(provider))
    except UserError:
        raise
    except Exception as exc:  # onnxruntime raises its own pybind types (InvalidProtobuf, Fail, ...)
        reason = str(exc).splitlines()[0][:160] if str(exc) else exc.__class__.__name__
        raise UserError(f"{p}: not a loadable ONNX model ({reason}); pass a file made by `strotss export`") from None
    meta = metadata.from_onnx(session.get_modelmeta().custom_metadata_map)
    if meta.get("kind") not in metadata.GRAPHS:
        raise UserError(f"{p}: ONNX model without strotss metadata; pass a file made by `strotss export`")
    problem = _graph_problem(session, meta["kind"]) or _metadata_problem(meta)
    if problem:
        raise UserError(f"{p}: carries strotss metadata but {problem}; pass a file made by `strotss export`")
    return session, meta


def _graph_problem(session: ort.InferenceSession, kind: str) -> str | None:
    """What breaks the contract of a graph of this kind (input names, ranks and types, output rank, RGB), or None."""
    ranks, output_rank = CONTRACT[kind]
    inputs = {i.name: i for i in session.get_inputs()}
    if set(inputs) != set(ranks):
        return f"its inputs are {sorted(inputs)}, where a {kind} graph takes {sorted(ranks)}"
    for name, rank in ranks.items():
        shape, kind_of = inputs[name].shape, inputs[name].type
        if kind_of not in ORT_DTYPES or len(shape) != rank:
            return f"input {name!r} is a rank-{len(shape)} {kind_of}, not a rank-{rank} float tensor"
        channels = shape[1] if name in IMAGE_TENSORS else 3
        if isinstance(channels, int) and channels != 3:
            return f"input {name!r} has {channels} channel(s), not 3 (RGB)"
    shape = session.get_outputs()[0].shape
    if len(shape) != output_rank:
        return f"its output is rank-{len(shape)}, not a rank-{output_rank} tensor"
    channels = shape[1]
    if output_rank == 4 and isinstance(channels, int) and channels != 3:
        return f"its output has {channels} channel(s), not 3 (RGB)"
    return None


def _metadata_problem(meta: dict[str, str]) -> str | None:
    """What is wrong with the metadata's numbers and companion file name, or None (empty values mean defaults)."""
    for key, (low, high) in NUMBERS.items():
        value = meta.get(key) or ""
        if value and not (value.isascii() and value.isdigit() and low <= int(value) <= high):
            return f"its {metadata.PREFIX}{key} is {value[:40]!r}, not a whole number from {low} to {high}"
    companion = meta.get("style_graph") or ""
    if companion and (Path(companion).name != companion or companion in (".", "..") or "\\" in companion):
        return (f"its {metadata.PREFIX}style_graph is {companion[:80]!r}, not a plain file name beside the model")
    return None


def style_weights(weights: Sequence[float], n: int) -> np.ndarray:
    """n finite non-negative weights, not all zero, normalized to sum 1 (scaled by their largest first, so that
    no sum overflows: 1e308 1e308 mixes like 1 1); UserError for anything else."""
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0) or not np.any(w):
        raise UserError(f"--weights {list(weights)}: give one finite non-negative number per --style, not all zero")
    w = w / w.max()
    return w / w.sum()


def mix_codes(codes: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Interpolate K style codes (K×D) with K weights (see `style_weights`) into one 1×D code."""
    return (style_weights(weights, len(codes)) @ codes.astype(np.float64))[None].astype(np.float32)


def preserve_color(content_rgb: np.ndarray, stylized_rgb: np.ndarray) -> np.ndarray:
    """Luminance-only transfer (Gatys et al. 2016): the stylized image's Y with the photo's Cb/Cr (uint8 H×W×3)."""
    from PIL import Image

    y = np.asarray(Image.fromarray(stylized_rgb).convert("YCbCr"))[..., :1]
    cbcr = np.asarray(Image.fromarray(content_rgb).convert("YCbCr"))[..., 1:]
    return np.asarray(Image.fromarray(np.concatenate([y, cbcr], axis=-1), "YCbCr").convert("RGB"))


def pad_to_multiple(x: np.ndarray, multiple: int) -> np.ndarray:
    """Pad the bottom/right of a B×C×H×W array as the torch network does (strotss.models.blocks.pad_to_multiple).

    H and W become multiples of `multiple` and at least 2 × `multiple` (thin and tiny images); reflect padding,
    or edge padding where a pad is as wide as the image.
    """
    h, w = x.shape[-2:]
    ph, pw = max(2 * multiple, h + (-h) % multiple) - h, max(2 * multiple, w + (-w) % multiple) - w
    if not ph and not pw:
        return x
    return np.pad(x, ((0, 0), (0, 0), (0, ph), (0, pw)), mode="reflect" if ph < h and pw < w else "edge")


def image_to_batch(rgb: np.ndarray) -> np.ndarray:
    """H×W×3 (or B×H×W×3) uint8 RGB → B×3×H×W float32 in [0, 1]."""
    x = rgb[None] if rgb.ndim == 3 else rgb
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2), dtype=np.float32) / np.float32(255.0)


def batch_to_images(x: np.ndarray) -> np.ndarray:
    """B×3×H×W float in [0, 1] → B×H×W×3 uint8."""
    return (np.clip(x.transpose(0, 2, 3, 1), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


class _Graph:
    """One InferenceSession plus IO binding on GPU providers."""

    def __init__(self, path: str | os.PathLike, provider: str | None, threads: int | None) -> None:
        self.path = Path(path)
        self.session, self.meta = open_session(path, provider, threads)
        self.inputs = {i.name: ORT_DTYPES.get(i.type, np.float32) for i in self.session.get_inputs()}
        self.output = self.session.get_outputs()[0].name
        self.provider = self.session.get_providers()[0]
        self.on_gpu = self.provider in GPU_PROVIDERS

    def run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """Run with feeds cast to the graph's input types; on CUDA/TensorRT inputs and outputs are bound on device."""
        feeds = {k: np.ascontiguousarray(v, dtype=self.inputs[k]) for k, v in feeds.items()}
        if not self.on_gpu:
            return self.session.run([self.output], feeds)[0].astype(np.float32, copy=False)
        binding = self.session.io_binding()
        for name, value in feeds.items():
            binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(value, "cuda", 0))
        binding.bind_output(self.output, "cuda", 0)
        self.session.run_with_iobinding(binding)
        return binding.copy_outputs_to_cpu()[0].astype(np.float32, copy=False)


class StyleModel:
    """An exported strotss model (per-style or arbitrary stylizer) that stylizes numpy batches of any size."""

    def __init__(self, path: str | os.PathLike, provider: str | None = None, threads: int | None = None) -> None:
        self.graph = _Graph(path, provider, threads)
        self.meta = self.graph.meta
        role = metadata.GRAPHS[self.meta["kind"]]
        if role.link_key is not None:
            raise UserError(f"{path}: this is the {role.kind} graph written beside a stylizer; pass the stylizer "
                            f"{Path(path).name.replace(role.suffix, '.onnx')} instead")
        self.kind, self.needs_style = role.kind, role.needs_style
        self.stride = int(self.meta.get("stride") or 1)
        self.alpha_range = self._alpha_range()
        self.alpha = float(self.meta["alpha"]) if self.alpha_range else None
        self.provider, self.threads = provider, threads
        self._style: _Graph | None = None
        self.code: np.ndarray | None = None

    def _alpha_range(self) -> tuple[float, float] | None:
        """(low, high) content weights of a graph conditioned on α, None for a graph without the input."""
        if metadata.ALPHA not in self.graph.inputs:
            return None
        try:
            lo, hi = (float(a) for a in json.loads(self.meta.get("alpha_range", "")))
            float(self.meta["alpha"])
        except (ValueError, TypeError, KeyError):
            raise UserError(f"{self.graph.path}: takes a content weight α but its metadata gives no valid "
                            "alpha_range and alpha; re-export it with `strotss export`") from None
        return lo, hi

    def check_alpha(self, alpha: float | None) -> None:
        """UserError unless α is None (the model's default) or a number inside a conditioned model's range."""
        if alpha is None:
            return
        if self.alpha_range is None:
            raise UserError(f"{self.graph.path}: --alpha needs a model trained across content weights "
                            "(model_kwargs alpha_range); this one has one fixed trade-off")
        lo, hi = self.alpha_range
        if not lo <= alpha <= hi:
            raise UserError(f"--alpha {alpha:g}: {self.graph.path.name} was trained for α from {lo:g} to {hi:g}; "
                            "give a value in that range")

    def encode_style(self, style_rgb: np.ndarray, long_side: int | None = None) -> np.ndarray:
        """Encode an H×W×3 uint8 style image (long side scaled down to the trained size) into a 1×D code."""
        if not self.needs_style:
            raise UserError(f"{self.graph.path}: per-style model; --style only works with arbitrary-style models")
        if self._style is None:
            encoder = metadata.STYLE_ENCODER
            style_path = self.graph.path.with_name(self.meta.get(encoder.link_key) or
                                                   encoder.path_beside(self.graph.path.name))
            if not style_path.is_file():
                raise UserError(f"{style_path}: style-encoder graph missing; keep it beside {self.graph.path.name} "
                                "(strotss export writes both)")
            style = _Graph(style_path, self.provider, self.threads)
            if style.meta["kind"] != metadata.STYLE_ENCODER.kind:
                raise UserError(f"{style_path}: not a style-encoder graph (kind {style.meta['kind']}); keep the "
                                f"encoder that `strotss export` wrote beside {self.graph.path.name}")
            self._style = style
        side = long_side or int(self.meta.get("style_size") or metadata.STYLE_LONG_SIDE)
        if max(style_rgb.shape[:2]) > side:
            style_rgb = resize_long_side(style_rgb, side)
        return self._style.run({metadata.STYLE: image_to_batch(style_rgb)})

    def set_style(self, style_rgb: np.ndarray) -> None:
        """Encode a style image once and use its code for every following call."""
        self.code = self.encode_style(style_rgb)

    def set_styles(self, styles_rgb: Sequence[np.ndarray], weights: Sequence[float] | None = None) -> None:
        """Mix several style images: their codes weighted by `weights` (normalized to sum 1; default equal)."""
        codes = np.concatenate([self.encode_style(s) for s in styles_rgb])
        self.code = mix_codes(codes, weights if weights is not None else [1.0] * len(codes))

    def check_fits(self, height: int, width: int, batch: int = 1, what: str | None = None,
                   error: type[UserError] = UserError) -> None:
        """Raise `error` when stylizing `batch` images of height×width would need more host memory than is free;
        it advises a smaller --batch when one image would fit, else a smaller --size."""
        if not self.graph.on_gpu:
            free = available_bytes()
            one = BYTES_PER_PIXEL * height * width
            advice = "use a smaller --batch" if free is not None and one <= free else "use a smaller --size"
            check_fits(one * batch, free, what or f"stylizing {batch}×{width}×{height} px", advice, error)

    def __call__(self, batch: np.ndarray, strength: float = 1.0, code: np.ndarray | None = None,
                 alpha: float | None = None) -> np.ndarray:
        """Stylize B×3×H×W float32 in [0, 1]; pads to the stride, crops back, blends with `strength` in pixel space.

        A model conditioned on α runs at `alpha` (default: its card's α); higher keeps more of the photo.
        """
        h, w = batch.shape[-2:]
        frames = f"{batch.shape[0]} frames of {w}×{h} px at once" if batch.shape[0] > 1 else f"a {w}×{h} px image"
        self.check_fits(h, w, batch.shape[0], frames, InputError)
        feeds = {metadata.IMAGE: pad_to_multiple(batch, self.stride)}
        if self.needs_style:
            code = self.code if code is None else code
            if code is None:
                raise UserError(f"{self.graph.path}: arbitrary-style model; give a style image with --style IMAGE")
            feeds[metadata.CODE] = np.broadcast_to(code, (batch.shape[0], code.shape[-1]))
        if self.alpha_range is not None:
            self.check_alpha(alpha)
            feeds[metadata.ALPHA] = np.full(batch.shape[0], self.alpha if alpha is None else alpha, np.float32)
        elif alpha is not None:
            self.check_alpha(alpha)
        out = self.graph.run(feeds)[..., :h, :w]
        if not np.isfinite(out).all():
            raise UserError(f"{self.graph.path}: its output for a {w}×{h} px image is not finite (nan or inf), which "
                            "would be written black; the model is broken: export it again from a checkpoint with "
                            "finite weights (without --fp16 if it was fp16)")
        return out if strength == 1.0 else batch + np.float32(strength) * (out - batch)

    def stylize_images(self, images: Sequence[np.ndarray] | np.ndarray, strength: float = 1.0,
                       alpha: float | None = None) -> np.ndarray:
        """Stylize same-sized H×W×3 uint8 images (a list or B×H×W×3 array) into B×H×W×3 uint8."""
        return batch_to_images(self(image_to_batch(np.stack(list(images))), strength, alpha=alpha))
