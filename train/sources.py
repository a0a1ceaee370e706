"""Open image collections as Hugging Face data sets: local folders (`imagefolder`), single files, hub names.

Images are kept undecoded (`Image(decode=False)`) so that a corrupt file fails in `decode_image`,
where the caller can skip and count it, instead of inside `datasets` where it would end the run.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from lightning.pytorch.utilities import rank_zero_info

from strotss.assets import asset_path
from strotss.errors import InputError, UserError
from strotss.imageio import IMAGE_SUFFIXES, decode_rgb, read_rgb

REPO_ROOT = Path(__file__).resolve().parent.parent  # the checkout, in a development install


SAMPLE_PREFIX = "sample:"


def resolve_source(source: str) -> str:
    """Expand "sample:<relative path>" to the bundled samples (strotss/assets, else ../shared/data beside the repo)."""
    if not source.startswith(SAMPLE_PREFIX):
        return source
    rel = source[len(SAMPLE_PREFIX):]
    for root in (asset_path(""), REPO_ROOT.parent / "shared" / "data"):
        if (root / rel).exists():
            return str(root / rel)
    raise UserError(f"{source}: no bundled sample images at strotss/assets/{rel} or ../shared/data/{rel}; "
                    "pass a folder or file of your own images instead")


def image_column(ds: Any) -> str:
    """Name of the first image column of a data set (imagefolder calls it `image`, hub sets vary)."""
    from datasets import Image as ImageFeature

    for name, feature in (ds.features or {}).items():
        if isinstance(feature, ImageFeature):
            return name
    raise UserError(f"data set has no image column (columns: {list(ds.features or {})}); "
                    "pick a data set of images")


def open_images(source: str | Path, *, split: str = "train", streaming: bool = False) -> Any:
    """A `datasets` data set of undecoded images from a folder, one image file, or a hub data set name."""
    import datasets

    source = resolve_source(str(source))
    path = Path(source).expanduser()
    if path.is_file() and path.suffix.lower() not in IMAGE_SUFFIXES:
        read_rgb(path)  # an image without an image suffix is used; anything else is refused as "not an image"
    if path.is_file():
        ds = datasets.Dataset.from_dict({"image": [str(path.resolve())]}, features=datasets.Features(
            {"image": datasets.Image(decode=False)}))
        return ds.to_iterable_dataset() if streaming else ds
    if path.is_dir():
        ds = _load(source, "imagefolder", data_dir=str(path.resolve()), split=split, streaming=streaming)
    elif str(source).startswith((".", "/", "~")) or path.suffix:
        raise UserError(f"{source}: no such image file or folder; check the path")
    else:
        ds = _load(source, str(source), split=split, streaming=streaming)
    return ds.cast_column(image_column(ds), datasets.Image(decode=False))


def image_names(ds: Any) -> set[str]:
    """File names of an undecoded image data set's rows (rows without a path, e.g. hub bytes, have none)."""
    column = image_column(ds)
    return {Path(item["path"]).name for item in ds[column] if item.get("path")}


def without_names(ds: Any, names: set[str], source: str) -> Any:
    """The rows of ds whose file name is not in names: keeps validation images out of training, and says so."""
    column = image_column(ds)
    keep = [i for i, item in enumerate(ds[column]) if not item.get("path") or Path(item["path"]).name not in names]
    dropped = len(ds) - len(keep)
    if dropped:
        rank_zero_info("%s: %d image(s) named like validation images left out of training", source, dropped)
    if not keep:
        raise UserError(f"{source}: every image is also a validation image; point the training set elsewhere")
    return ds.select(keep) if dropped else ds


def _load(source: str | Path, name: str, **kwargs: Any) -> Any:
    """datasets.load_dataset with every failure turned into a one-line UserError."""
    import datasets

    try:
        return datasets.load_dataset(name, **kwargs)
    except (ConnectionError, OSError, datasets.exceptions.DatasetNotFoundError) as exc:
        raise UserError(f"{source}: could not open the data set ({exc.__class__.__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''}); check the name and the network "
                        "connection, or pass a local folder of images") from None
    except ValueError as exc:
        raise UserError(f"{source}: {str(exc).splitlines()[0]}; pass a folder of images or a hub "
                        "image data set name") from None


def decode_image(item: dict[str, Any], min_size: int) -> np.ndarray:
    """Decode one undecoded image ({"bytes", "path"}) to H×W×3 uint8 RGB; InputError says why it is unusable.

    InputError is what the data sets catch to skip and count an image; any other exception is a bug.
    """
    name = item.get("path") or "<bytes>"
    rgb = read_rgb(item["path"]) if item.get("bytes") is None else decode_rgb(io.BytesIO(item["bytes"]), name)
    if min(rgb.shape[:2]) < min_size:
        raise InputError(f"{name}: {rgb.shape[1]}×{rgb.shape[0]} px is smaller than min_size={min_size}")
    return rgb
