"""`strotss bench quality`: how close each method gets to the STROTSS objective on photos it never saw.

Every method stylizes the same (photo, painting) pairs at the same size; every output is scored with the
objective (embedded VGG19, α = 1, fixed seeded sample draws) and its terms. Methods: models (bundled name,
ONNX file or checkpoint), the teacher (the per-image optimizer; outputs cached on disk), folders of images
made by any other tool, and always the unchanged photo as the baseline. Prints a table per pair, the mean
and the ratio to the teacher, the mean terms, and writes a contact sheet.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

HELP = "score models, the teacher and other tools' images with the STROTSS objective on held-out photos"
DESCRIPTION = """\
Stylize content photos with each method and score every output with the STROTSS objective (embedded VGG19,
α = 1, fixed seeds, every term). Lower is better; the unchanged photo is always scored as the baseline.

  strotss bench quality --model wheat_field                                 (bundled photos × Wheat Field)
  strotss bench quality --model wheat_field --model runs/x/last.ckpt --teacher
  strotss bench quality --model arbitrary --style a.jpg --style b.jpg       (every photo × every painting)
  strotss bench quality --images magenta_outputs/ --model wheat_field       (another tool's images)

--images DIR: images matched to the photos by file stem (DIR/<photo>.png); with several --style, one
subfolder per painting (DIR/<painting stem>/<photo>.png). The default photos are the bundled ones, which
no bundled model was trained on. Teacher outputs are cached in --cache (they take minutes each on a CPU)."""

TERMS = ("content", "remd", "moment", "palette")


@dataclass
class Method:
    """A way to turn (photo, painting) into an image: `make` returns None when it has no output for a pair."""

    label: str
    make: Callable[[np.ndarray, np.ndarray, str, str], np.ndarray | None]
    scores: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)
    outputs: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `strotss bench quality`."""
    from strotss.teacher.config import StrotssConfig

    parser.add_argument("--model", action="append", default=[], metavar="[LABEL=]MODEL",
                        help="bundled model name, ONNX file or .pt/.ckpt checkpoint (repeatable; LABEL names its "
                             "column, default the name or file stem)")
    parser.add_argument("--images", action="append", default=[], metavar="[LABEL=]DIR",
                        help="folder of another tool's outputs, matched by photo file stem (repeatable; "
                             "LABEL names its column, default the folder name)")
    parser.add_argument("--teacher", action="store_true", help="also score the per-image optimizer (cached)")
    parser.add_argument("--teacher-iters", type=int, default=StrotssConfig.iters,
                        help="teacher iterations per scale (default %(default)s)")
    parser.add_argument("--photos", nargs="+", type=Path,
                        help="content photos or folders (default: the bundled photos, held out of all training)")
    parser.add_argument("--style", action="append", type=Path,
                        help="painting(s) (repeatable; default: the bundled Wheat Field with Cypresses)")
    parser.add_argument("--size", type=int, default=256, help="long side of photos and paintings (default 256)")
    parser.add_argument("--repeats", type=int, default=4, help="seeded sample draws averaged per score (default 4)")
    parser.add_argument("--cache", type=Path, default=Path("outputs/teacher_cache"),
                        help="folder of cached teacher outputs (default outputs/teacher_cache)")
    parser.add_argument("--sheet", type=Path, default=Path("outputs/quality.png"),
                        help="contact sheet PNG (default outputs/quality.png)")
    parser.add_argument("--json", type=Path, help="also write every score as JSON here")
    parser.add_argument("--device", help="torch device for scoring and the teacher (default cuda if available)")


def photo_paths(given: list[Path] | None) -> list[Path]:
    """The photos to score or cut clips from: given files and folders' images, or the bundled photos."""
    from strotss.assets import asset_path
    from strotss.errors import UserError
    from strotss.imageio import list_images

    if not given:
        return list_images(asset_path("content"))
    found: list[Path] = []
    for p in given:
        if not p.exists():
            raise UserError(f"{p}: not found; give photos or folders of photos")
        found += list_images(p) if p.is_dir() else [p]
    if not found:
        raise UserError(f"{', '.join(map(str, given))}: no images found")
    return found


def split_label(spec: str) -> tuple[str, str]:
    """[LABEL=]PATH → (label or "", path); an existing path is never split, so `step=100.ckpt` stays whole."""
    if Path(spec).exists():
        return "", spec
    label, sep, target = spec.partition("=")
    return (label, target) if sep else ("", spec)


def _model_method(spec: str, size: int) -> Method:
    """A model ([LABEL=]MODEL) as a method; a per-style model only answers pairs of the painting it learned."""
    from strotss.student import Student

    label, model = split_label(spec)
    student = Student(model)
    label = label or (Path(model).stem if Path(model).exists() else model)

    def make(content: np.ndarray, style: np.ndarray, photo: str, painting: str) -> np.ndarray | None:
        if student.style_name and student.style_name != painting:
            return None
        return student.stylize(content, style, size)

    return Method(label, make)


def _images_method(spec: str, several_styles: bool) -> Method:
    """Another tool's outputs ([LABEL=]DIR), found by photo stem (in a per-painting subfolder when there are several)."""
    from strotss.errors import UserError
    from strotss.imageio import IMAGE_SUFFIXES, read_rgb, resize_to

    label, where = split_label(spec)
    folder = Path(where)
    if not folder.is_dir():
        raise UserError(f"--images {folder}: not a folder")

    def make(content: np.ndarray, style: np.ndarray, photo: str, painting: str) -> np.ndarray | None:
        where = folder / painting if several_styles else folder
        hits = [p for p in where.glob(f"{photo}.*") if p.suffix.lower() in IMAGE_SUFFIXES]
        if not hits:
            return None
        img = read_rgb(hits[0])
        if img.shape[:2] != content.shape[:2]:
            if abs(img.shape[0] / img.shape[1] - content.shape[0] / content.shape[1]) > 0.02:
                raise UserError(f"{hits[0]}: {img.shape[1]}×{img.shape[0]} has another aspect ratio than the "
                                f"photo's {content.shape[1]}×{content.shape[0]}; give outputs of the whole photo")
        return resize_to(img, content.shape[:2])

    return Method(label or folder.name or str(folder), make)


def _teacher_method(args: argparse.Namespace, extractor, device: str) -> Method:
    """The per-image optimizer at the benchmark size, its outputs cached as PNGs keyed by inputs and settings."""
    from strotss.imageio import read_rgb, write_image
    from strotss.teacher.config import StrotssConfig
    from strotss.teacher.optimizer import optimize_image

    config = StrotssConfig(size=args.size, iters=args.teacher_iters, device=device)

    def make(content: np.ndarray, style: np.ndarray, photo: str, painting: str) -> np.ndarray:
        key = hashlib.sha1(content.tobytes() + style.tobytes() + repr(config).encode()).hexdigest()[:12]
        cached = args.cache / f"{photo}__{painting}__{args.size}_{key}.png"
        if cached.is_file():
            return read_rgb(cached)
        result = optimize_image(content, style, config, extractor=extractor, progress=True)
        write_image(cached, result.image)
        return read_rgb(cached)

    return Method("teacher", make)


def run(args: argparse.Namespace) -> int:
    """Stylize, score, print the tables, write the contact sheet (and JSON)."""
    import torch
    from tqdm import tqdm

    from strotss.assets import asset_path
    from strotss.errors import UserError
    from strotss.imageio import check_writable, read_rgb, resize_long_side, write_image
    from strotss.losses import PairScorer, build_extractor
    from strotss.teacher.compare import labelled_row, stack_rows
    from strotss.teacher.config import COARSEST

    if args.size < COARSEST or args.repeats < 1 or args.teacher_iters < 1:
        raise UserError(f"--size must be ≥ {COARSEST}, --repeats and --teacher-iters ≥ 1")
    check_writable(args.sheet)
    if args.json:
        check_writable(args.json)
    photos = photo_paths(args.photos)
    styles = args.style or [asset_path("style/pnst_vg_wheat_field.jpg")]
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    extractor = build_extractor("vgg19").to(device)
    methods = [Method("photo", lambda content, style, photo, painting: content)]
    methods += [_model_method(spec, args.size) for spec in args.model]
    methods += [_images_method(spec, len(styles) > 1) for spec in args.images]
    if args.teacher:
        methods.append(_teacher_method(args, extractor, device))
    paintings = {p.stem: read_rgb(p) for p in styles}
    pairs = [(photo, name) for name in paintings for photo in photos]
    rows = []
    for photo, name in tqdm(pairs, desc="quality", unit="pair"):
        content = resize_long_side(read_rgb(photo), args.size)
        full_style = paintings[name]
        style = resize_long_side(full_style, args.size)
        tiles, labels = [content, style], ["photo", name[:28]]
        scorer = PairScorer(content, style, extractor, repeats=args.repeats)
        for m in methods:
            out = m.make(content, full_style, photo.stem, name)
            if out is None:
                continue
            terms = scorer(out)
            m.scores[(photo.stem, name)] = terms
            if m.label != "photo":
                tiles.append(out)
                labels.append(f"{m.label[:20]}  {terms['total']:.3f}")
        rows.append(labelled_row(tiles, labels, height=min(args.size, 192)))
    write_image(args.sheet, stack_rows(rows))
    _print_tables(methods, pairs)
    if args.json:
        data = {m.label: {f"{p}|{s}": t for (p, s), t in m.scores.items()} for m in methods}
        args.json.write_text(json.dumps(data, indent=1))
    print(f"contact sheet: {args.sheet}", file=sys.stderr)
    return 0


def _print_tables(methods: list[Method], pairs: list[tuple[Path, str]]) -> None:
    """Per-pair totals, the mean (and ratio to the teacher) per method, and each method's mean terms."""
    scored = [m for m in methods if m.scores]
    teacher = next((m for m in scored if m.label == "teacher"), None)
    width = max(12, *(len(m.label) + 2 for m in scored))
    print(f"{'photo':<24}{'painting':<26}" + "".join(f"{m.label:>{width}}" for m in scored))
    for photo, name in pairs:
        cells = [m.scores.get((photo.stem, name), {}).get("total") for m in scored]
        print(f"{photo.stem[:23]:<24}{name[:25]:<26}" + "".join(
            f"{c:>{width}.3f}" if c is not None else f"{'–':>{width}}" for c in cells))
    means = {m.label: statistics.fmean(t["total"] for t in m.scores.values()) for m in scored}
    print(f"{'mean':<50}" + "".join(f"{means[m.label]:>{width}.3f}" for m in scored))
    if teacher is not None:
        print(f"{'ratio to teacher (same pairs)':<50}" + "".join(
            f"{_ratio(m, teacher):>{width}.2f}" for m in scored))
    print(f"\n{'method':<{width}}{'pairs':>6}{'total':>8}" + "".join(f"{t:>9}" for t in TERMS))
    for m in scored:
        terms = [statistics.fmean(s[t] for s in m.scores.values()) for t in TERMS]
        print(f"{m.label:<{width}}{len(m.scores):>6}{means[m.label]:>8.3f}" + "".join(f"{v:>9.3f}" for v in terms))


def _ratio(method: Method, teacher: Method) -> float:
    """Mean total of a method over the pairs the teacher also scored, divided by the teacher's mean there."""
    common = [k for k in method.scores if k in teacher.scores]
    if not common:
        return float("nan")
    return (statistics.fmean(method.scores[k]["total"] for k in common) /
            statistics.fmean(teacher.scores[k]["total"] for k in common))
