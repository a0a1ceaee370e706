"""`strotss bench quality`: how much of the photo each method keeps, and how close it gets to the painting.

Every method stylizes the same (photo, painting) pairs at the same size (512 px long side by default, the
size people look at); every output is scored on two axes at once, since the STROTSS objective alone can be
won by painting the painting over the photo:
- content kept: luminance SSIM to the photo (higher is better; no loss network) and the VGG-19 relu4_2
  distance to the photo (lower is better);
- style distance: the objective's style part, relaxed EMD + moments + palette (lower is better), and
  Gatys' Gram distance to the painting (lower is better);
and with the objective itself (α = 1, fixed seeded draws) and its terms. Methods: models (bundled name, ONNX
file or checkpoint), the teacher at one or several α (outputs cached on disk), folders of images made by any
other tool, and always the unchanged photo. Prints the tables, writes a contact sheet and a content-vs-style
plot.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from strotss.method import TERMS

if TYPE_CHECKING:
    import torch

    from strotss.student import Student

HELP = "score models, the teacher and other tools' images on two axes (photo kept, style reached) on held-out photos"
DESCRIPTION = """\
Stylize content photos with each method and score every output on two axes at once (embedded VGG19):
content kept — luminance SSIM to the photo (↑) and relu4_2 distance to the photo (↓); style distance — the
STROTSS style part, relaxed EMD + moments + palette (↓), and Gatys' Gram distance to the painting (↓); plus
the STROTSS objective (α = 1, fixed seeds) and its terms. The unchanged photo is always scored as the baseline.

  strotss bench quality --model wheat_field                                 (bundled photos × Wheat Field)
  strotss bench quality --model wheat_field --model runs/x/last.ckpt --teacher
  strotss bench quality --model arbitrary --style a.jpg --style b.jpg       (every photo × every painting)
  strotss bench quality --images magenta_outputs/ --model wheat_field       (another tool's images)

--images DIR: images matched to the photos by file stem (DIR/<photo>.png); with several --style, one
subfolder per painting (DIR/<painting stem>/<photo>.png). The default photos are the bundled ones, which
no bundled model was trained on. Teacher outputs are cached in --cache (they take minutes each on a CPU).
--reference LABEL (e.g. a Magenta folder) adds a line per method: on which of the four measures its mean
beats the reference's."""

# (key, header, True when higher is better) of the two-axis summary: content kept, then style distance.
AXES = (("ssim", "SSIM↑", True), ("feature", "relu4_2↓", False), ("style", "style↓", False), ("gram", "Gram↓", False))
# Peak memory of scoring per pixel of a square photo and painting at --size (measured on a CPU: 2.4 GiB at 1024 px).
SCORE_BYTES_PER_PIXEL = 2500


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
    parser.add_argument("--alpha", type=float, nargs="+", metavar="A",
                        help="score models conditioned on α at each of these content weights, one column each "
                             "(default: each model's own α; models with one fixed trade-off ignore it)")
    parser.add_argument("--teacher", action="store_true", help="also score the per-image optimizer (cached)")
    parser.add_argument("--teacher-alpha", type=float, nargs="+", default=[StrotssConfig.alpha], metavar="A",
                        help="content weights α of the teacher runs, one column each (default %(default)s)")
    parser.add_argument("--teacher-iters", type=int, default=StrotssConfig.iters,
                        help="teacher iterations per scale (default %(default)s)")
    parser.add_argument("--photos", nargs="+", type=Path,
                        help="content photos or folders (default: the bundled photos, held out of all training)")
    parser.add_argument("--style", action="append", type=Path,
                        help="painting(s) (repeatable; default: the bundled Wheat Field with Cypresses)")
    parser.add_argument("--size", type=int, default=512,
                        help="long side of photos and paintings in px (default 512, the size people look at)")
    parser.add_argument("--repeats", type=int, default=4, help="seeded sample draws averaged per score (default 4)")
    parser.add_argument("--cache", type=Path, default=Path("outputs/teacher_cache"),
                        help="folder of cached teacher outputs (default outputs/teacher_cache)")
    parser.add_argument("--sheet", type=Path, default=Path("outputs/quality.png"),
                        help="contact sheet PNG (default outputs/quality.png)")
    parser.add_argument("--plot", type=Path, default=Path("outputs/quality_axes.png"),
                        help="content-kept vs style-distance plot PNG (default outputs/quality_axes.png; needs "
                             "matplotlib: pip install 'strotss[docs]')")
    parser.add_argument("--reference", metavar="LABEL",
                        help="column the others are compared with on each measure (e.g. magenta)")
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


def refuse_shared_stems(files: list[Path], flag: str) -> None:
    """UserError when two files share a file stem, the name that keys their scores and their --images lookups."""
    from strotss.errors import UserError

    seen: dict[str, Path] = {}
    for f in files:
        if f.stem in seen:
            raise UserError(f"{seen[f.stem]} and {f}: two {flag} files with the stem {f.stem!r}, which names their "
                            "scores, table rows and --images files; rename one, or give each file once")
        seen[f.stem] = f


def split_label(spec: str) -> tuple[str, str]:
    """[LABEL=]PATH → (label or "", path); an existing path is never split, so `step=100.ckpt` stays whole."""
    if Path(spec).exists():
        return "", spec
    label, sep, target = spec.partition("=")
    return (label, target) if sep else ("", spec)


def _model_methods(spec: str, size: int, alphas: list[float] | None) -> list[Method]:
    """A model ([LABEL=]MODEL) as a method, or one per --alpha for a model conditioned on α; a per-style model
    only answers pairs of the painting it learned."""
    student, rows = model_rows(spec, alphas)

    def at(alpha: float | None) -> Callable[[np.ndarray, np.ndarray, str, str], np.ndarray | None]:
        def make(content: np.ndarray, style: np.ndarray, photo: str, painting: str) -> np.ndarray | None:
            if student.style_name and student.style_name != painting:
                return None
            return student.stylize(content, style, size, alpha)

        return make

    return [Method(label, at(alpha)) for label, alpha in rows]


def model_rows(spec: str, alphas: list[float] | None) -> tuple[Student, list[tuple[str, float | None]]]:
    """A model ([LABEL=]MODEL) loaded, and the (row label, content weight) pairs a bench runs it at: one per --alpha
    for a model conditioned on α (a UserError outside its trained range), else its own α (None) under its label."""
    from strotss.errors import UserError
    from strotss.student import Student

    label, model = split_label(spec)
    student = Student(model)
    label = label or (Path(model).stem if Path(model).exists() else model)
    if not alphas or student.alpha_range is None:
        return student, [(label, None)]
    lo, hi = student.alpha_range
    if any(not lo <= a <= hi for a in alphas):
        raise UserError(f"--alpha: {label} was trained for α from {lo:g} to {hi:g}; give values in that range")
    return student, [(f"{label} α={a:g}", a) for a in alphas]


def _images_method(spec: str, photos: list[Path], paintings: list[str]) -> Method:
    """Another tool's outputs ([LABEL=]DIR), found by photo stem (in a per-painting subfolder when there are several);
    UserError now when the folder holds an output for none of the pairs."""
    from strotss.errors import UserError
    from strotss.imageio import read_rgb, resize_to, same_aspect

    label, where = split_label(spec)
    folder = Path(where)
    if not folder.is_dir():
        raise UserError(f"--images {folder}: not a folder")
    several = len(paintings) > 1
    if not any(_output_of(folder, photo.stem, painting, several) for painting in paintings for photo in photos):
        layout = "<painting stem>/<photo stem>.png" if several else "<photo stem>.png"
        examples = ", ".join(p.stem for p in photos[:3]) + (", …" if len(photos) > 3 else "")
        raise UserError(f"--images {folder}: no image named like one of the {len(photos)} photos ({examples}); "
                        f"name each output {layout}")

    def make(content: np.ndarray, style: np.ndarray, photo: str, painting: str) -> np.ndarray | None:
        hit = _output_of(folder, photo, painting, several)
        if hit is None:
            return None
        img = read_rgb(hit)
        if not same_aspect(img.shape[:2], content.shape[:2]):
            raise UserError(f"{hit}: {img.shape[1]}×{img.shape[0]} has another aspect ratio than the "
                            f"photo's {content.shape[1]}×{content.shape[0]}; give outputs of the whole photo")
        return resize_to(img, content.shape[:2])

    return Method(label or folder.name or str(folder), make)


def _output_of(folder: Path, photo: str, painting: str, several: bool) -> Path | None:
    """Another tool's image for (photo, painting): <folder>/[<painting>/]<photo>.<image suffix>, or None."""
    from strotss.imageio import IMAGE_SUFFIXES

    where = folder / painting if several else folder
    return next((p for p in sorted(where.glob(f"{photo}.*")) if p.suffix.lower() in IMAGE_SUFFIXES), None)


def _teacher_method(args: argparse.Namespace, extractor, device: str, alpha: float) -> Method:
    """The per-image optimizer at the benchmark size and α, its outputs cached as PNGs keyed by inputs and settings."""
    from strotss.imageio import read_rgb, write_image
    from strotss.teacher.config import StrotssConfig
    from strotss.teacher.optimizer import optimize_image

    config = StrotssConfig(size=args.size, iters=args.teacher_iters, device=device, alpha=alpha)

    def make(content: np.ndarray, style: np.ndarray, photo: str, painting: str) -> np.ndarray:
        key = hashlib.sha1(content.tobytes() + style.tobytes() + repr(config).encode()).hexdigest()[:12]
        cached = args.cache / f"{photo}__{painting}__{args.size}_{key}.png"
        if cached.is_file():
            return read_rgb(cached)
        result = optimize_image(content, style, config, extractor=extractor, progress=True)
        write_image(cached, result.image)
        return read_rgb(cached)

    return Method("teacher" if len(args.teacher_alpha) == 1 else f"teacher α={alpha:g}", make)


def run(args: argparse.Namespace) -> int:
    """Stylize, score on both axes, print the tables, write the contact sheet and the plot (and JSON)."""
    from tqdm import tqdm

    from strotss.assets import asset_path
    from strotss.errors import UserError
    from strotss.imageio import (atomic_output, check_image_output, check_writable, read_rgb, resize_long_side,
                                 write_image)
    from strotss.losses import FidelityScorer, PairScorer, build_extractor
    from strotss.outputs import refuse_overwriting_inputs, refuse_shared_outputs
    from strotss.teacher.compare import labelled_row, stack_rows
    from strotss.teacher.config import COARSEST
    from strotss.teacher.optimizer import resolve_device

    if args.size < COARSEST or args.repeats < 1 or args.teacher_iters < 1:
        raise UserError(f"--size must be ≥ {COARSEST}, --repeats and --teacher-iters ≥ 1")
    check_image_output(args.sheet)
    check_image_output(args.plot)
    if args.json:
        check_writable(args.json)
    device = resolve_device(args.device)
    check_size_fits(args.size, args.teacher, device)
    photos = photo_paths(args.photos)
    styles = args.style or [asset_path("style/pnst_vg_wheat_field.jpg")]
    refuse_shared_stems(photos, "--photos")
    refuse_shared_stems(styles, "--style")
    outputs = [("the contact sheet (--sheet)", args.sheet), ("the plot (--plot)", args.plot)]
    if args.json:
        outputs.append(("the scores (--json)", args.json))
    refuse_shared_outputs(outputs, "give each of --sheet, --plot and --json a file of its own")
    refuse_overwriting_inputs([out for _, out in outputs], [*photos, *styles], flag="--sheet, --plot, --json")
    methods = [Method("photo", lambda content, style, photo, painting: content)]
    methods += [_images_method(spec, photos, [p.stem for p in styles]) for spec in args.images]
    methods += [m for spec in args.model for m in _model_methods(spec, args.size, args.alpha)]
    extractor = build_extractor().to(device)
    if args.teacher:
        methods += [_teacher_method(args, extractor, str(device), alpha) for alpha in args.teacher_alpha]
    labels = [m.label for m in methods]
    if args.reference and args.reference not in labels:
        raise UserError(f"--reference {args.reference}: no such column; choose one of {', '.join(labels)}")
    paintings = {p.stem: read_rgb(p) for p in styles}
    pairs = [(photo, name) for name in paintings for photo in photos]
    rows = []
    for photo, name in tqdm(pairs, desc="quality", unit="pair"):
        content = resize_long_side(read_rgb(photo), args.size)
        full_style = paintings[name]
        style = resize_long_side(full_style, args.size)
        tiles, labels = [content, style], ["photo", name[:28]]
        scorer = PairScorer(content, style, extractor, repeats=args.repeats)
        fidelity = FidelityScorer(content, style, extractor)
        for m in methods:
            out = m.make(content, full_style, photo.stem, name)
            if out is None:
                continue
            terms = scorer(out)
            terms["style"] = terms["remd"] + terms["moment"] + terms["palette"]
            terms.update(fidelity(out))
            m.scores[(photo.stem, name)] = terms
            if m.label != "photo":
                tiles.append(out)
                labels.append(f"{m.label[:18]}  SSIM {terms['ssim']:.2f}  Gram {terms['gram']:.2f}")
        rows.append(labelled_row(tiles, labels, height=min(args.size, 192)))
    write_image(args.sheet, stack_rows(rows))
    _print_tables(methods, pairs)
    _print_axes(methods, args.reference)
    _plot_axes(methods, args.plot, args.size)
    if args.json:
        data = {m.label: {f"{p}|{s}": t for (p, s), t in m.scores.items()} for m in methods}
        with atomic_output(args.json, "w") as fh:
            json.dump(data, fh, indent=1)
    print(f"contact sheet: {args.sheet}\nplot: {args.plot}", file=sys.stderr)
    return 0


def check_size_fits(size: int, teacher: bool, device: torch.device) -> None:
    """UserError before any work when scoring (and the teacher) at --size would need more memory than is free."""
    import torch

    from strotss.memory import available_bytes, check_fits
    from strotss.teacher.optimizer import OUTPUT_BYTES_PER_PIXEL, STYLE_BYTES_PER_PIXEL

    per_pixel = max(SCORE_BYTES_PER_PIXEL, OUTPUT_BYTES_PER_PIXEL + STYLE_BYTES_PER_PIXEL if teacher else 0)
    free = torch.cuda.mem_get_info(device)[0] if device.type == "cuda" else available_bytes()
    largest = int(math.sqrt(free / per_pixel)) if free else 0
    check_fits(per_pixel * size * size, free, f"--size {size} (photos and paintings up to {size}×{size} px)",
               f"use --size {largest} or less")


def _print_tables(methods: list[Method], pairs: list[tuple[Path, str]]) -> None:
    """Per-pair totals, the mean (and ratio to the teacher) per method, and each method's mean terms."""
    scored = [m for m in methods if m.scores]
    teacher = next((m for m in scored if m.label.startswith("teacher")), None)
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


def _means(method: Method) -> dict[str, float]:
    """A method's mean of every score over the pairs it answered."""
    return {k: statistics.fmean(s[k] for s in method.scores.values()) for k in next(iter(method.scores.values()))}


def _print_axes(methods: list[Method], reference: str | None) -> None:
    """The two-axis summary: content kept (SSIM, relu4_2) and style distance (style part, Gram) per method.

    With a reference column, each method's line ends with the measures on which its mean beats the
    reference's over the pairs both answered (✓) or not (✗), in the column order.
    """
    scored = [m for m in methods if m.scores]
    ref = next((m for m in scored if m.label == reference), None)
    width = max(12, *(len(m.label) + 2 for m in scored))
    head = "".join(f"{h:>10}" for _, h, _ in AXES)
    print(f"\n{'method':<{width}}{'pairs':>6}{'objective':>10}{head}" + (f"   beats {reference}" if ref else ""))
    for m in scored:
        mean = _means(m)
        line = f"{m.label:<{width}}{len(m.scores):>6}{mean['total']:>10.3f}" + "".join(
            f"{mean[k]:>10.3f}" for k, _, _ in AXES)
        if ref is not None and m is not ref:
            line += "   " + _beats(m, ref)
        print(line)


def _beats(method: Method, ref: Method) -> str:
    """✓/✗ per axis measure: does the method's mean beat the reference's on the pairs both scored."""
    common = [k for k in method.scores if k in ref.scores]
    if not common:
        return "no common pairs"
    marks = []
    for key, _, higher_better in AXES:
        mine = statistics.fmean(method.scores[k][key] for k in common)
        theirs = statistics.fmean(ref.scores[k][key] for k in common)
        marks.append("✓" if (mine > theirs if higher_better else mine < theirs) else "✗")
    return " ".join(marks)


def _plot_axes(methods: list[Method], path: Path, size: int) -> None:
    """Content kept against style distance, one point per method (mean over pairs), in two panels."""
    from strotss.errors import UserError
    from strotss.imageio import atomic_output

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UserError("--plot needs matplotlib: pip install 'strotss[docs]'") from None
    scored = [m for m in methods if m.scores]
    fig, panels = plt.subplots(1, 2, figsize=(11, 4.6))
    for ax, (x, xlabel), (y, ylabel) in zip(
            panels, [("gram", "Gram distance to the painting ↓"), ("style", "STROTSS style part ↓")],
            [("ssim", "luminance SSIM to the photo ↑"), ("feature", "relu4_2 distance to the photo ↓")]):
        for curve in _curves(scored):
            ax.plot([_means(m)[x] for m in curve], [_means(m)[y] for m in curve], "-", color="0.7", zorder=0)
        for m in scored:
            mean = _means(m)
            ax.scatter(mean[x], mean[y], s=40)
            ax.annotate(m.label, (mean[x], mean[y]), textcoords="offset points", xytext=(5, 4), fontsize=8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    panels[1].invert_yaxis()
    fig.suptitle(f"content kept (up) against style distance (left), {size} px: better is up and to the left")
    fig.tight_layout()
    with atomic_output(path) as f:
        fig.savefig(f, format="png", dpi=110)
    plt.close(fig)


def _curves(methods: list[Method]) -> list[list[Method]]:
    """Methods that are one model (or the teacher) at several α, grouped in order: drawn as a line each."""
    groups: dict[str, list[Method]] = {}
    for m in methods:
        base, sep, _ = m.label.rpartition(" α=")
        if sep:
            groups.setdefault(base, []).append(m)
    return [g for g in groups.values() if len(g) > 1]


def _ratio(method: Method, teacher: Method) -> float:
    """Mean total of a method over the pairs the teacher also scored, divided by the teacher's mean there."""
    common = [k for k in method.scores if k in teacher.scores]
    if not common:
        return float("nan")
    return (statistics.fmean(method.scores[k]["total"] for k in common) /
            statistics.fmean(teacher.scores[k]["total"] for k in common))
