"""Where results are written and how: the plan checked before any work (never write over an input, never two
results to one file), then each input's result written as an image or a video, unusable inputs skipped."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

from strotss.errors import InputError, UserError

if TYPE_CHECKING:
    import numpy as np
    from tqdm import tqdm


def _file_id(path: Path) -> tuple[int, int] | None:
    """(device, inode) of an existing file, so that links and `..` spellings of one file compare equal; else None."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def refuse_overwriting_inputs(outputs: Iterable[str | os.PathLike], inputs: Iterable[str | os.PathLike | None],
                              flag: str = "-o") -> None:
    """UserError when an output path names one of the input files, which the run would replace; `flag` sets it."""
    sources = {fid: Path(i) for i in inputs if i is not None and (fid := _file_id(Path(i))) is not None}
    for out in map(Path, outputs):
        src = sources.get(_file_id(out))
        if src is not None:
            spelled = "" if src == out else f" ({src})"
            raise UserError(f"{out}: is also an input{spelled}; writing it would replace the original; "
                            f"choose another output path ({flag})")


def refuse_shared_outputs(writers: Iterable[tuple[str, str | os.PathLike]], advice: str) -> None:
    """UserError when two writers, each named by what it writes, would write one file; `advice` says what to do."""
    seen: dict[object, str] = {}
    for name, out in writers:
        key = _file_id(Path(out)) or Path(out).resolve()
        if key in seen:
            raise UserError(f"{seen[key]} and {name} would both be written to {out}; {advice}")
        seen[key] = name


def check_plan(plan: Sequence[tuple[Sequence[Path], Path]], advice: str, flag: str = "-o") -> None:
    """Refuse an (inputs, output) plan where an output replaces any input or two entries share one output;
    `flag` sets the outputs, `advice` says what to do about a shared one."""
    refuse_overwriting_inputs([dst for _, dst in plan], [src for sources, _ in plan for src in sources], flag)
    refuse_shared_outputs([(" with ".join(map(str, sources)), dst) for sources, dst in plan], advice)


def plan_outputs(inputs: list[Path], output: Path) -> list[tuple[Path, Path]]:
    """Pair every input file with its output path; folders expand to their images and videos and keep names.

    Checked before any work: no output replaces an input, no two inputs share an output, and every output
    can be written (image formats, folders; a video's output is a video).
    """
    from strotss.export.video import is_video
    from strotss.imageio import image_format

    for p in inputs:
        if not p.exists():
            raise UserError(f"{p}: not found; check the path")
    single = len(inputs) == 1 and inputs[0].is_file()
    if single and output.suffix and not output.is_dir():
        pairs = [(inputs[0], output)]
    else:
        _check_output_folder(output, single)
        pairs = [(f, output / f.name) for p in inputs for f in (_media_files(p) if p.is_dir() else [p])]
    if not pairs:
        raise UserError(f"{', '.join(map(str, inputs))}: no images or videos found")
    for src, dst in pairs:
        if is_video(src) and not is_video(dst):
            raise UserError(f"{dst}: {src.name} is a video, so its output must be a video file too; use -o "
                            f"{dst.with_suffix('.mp4')}")
        if not is_video(src):
            image_format(dst)
    check_plan([((src,), dst) for src, dst in pairs], "stylize them into different output folders (-o), or rename one")
    return pairs


def _check_output_folder(output: Path, single: bool) -> None:
    """UserError when -o, which names a folder here, exists as something else."""
    if output.exists() and not output.is_dir():
        if single:
            raise UserError(f"{output}: has no file suffix, so it would be the output folder, but it exists and is "
                            "not a folder; give an output file such as out.png, or a folder")
        raise UserError(f"{output}: exists and is a file; give a folder for several inputs or a folder of inputs")


def _media_files(folder: Path) -> list[Path]:
    """The images and videos directly inside a folder, sorted by name."""
    from strotss.export.video import is_video
    from strotss.imageio import IMAGE_SUFFIXES

    return sorted(f for f in folder.iterdir() if f.is_file() and (f.suffix.lower() in IMAGE_SUFFIXES or is_video(f)))


def write_outputs(pairs: list[tuple[Path, Path]], stylize: Callable[[list[np.ndarray]], list[np.ndarray]], *,
                  batch: int = 1, video_done: Callable[[int, str, float], None] | None = None) -> None:
    """Write each planned (input, output) pair: an image through `stylize` (strotss.imageio.write_image), or a video
    frame by frame, `batch` frames a call, audio kept (strotss.export.video.stylize_video), with a frames-per-second
    bar and `video_done(frames, name, seconds)` after each. Unusable inputs (InputError) are skipped and listed at
    the end; none usable is a UserError."""
    import time

    from tqdm import tqdm

    from strotss.export.video import is_video, stylize_video
    from strotss.imageio import read_rgb, write_image

    skipped: list[InputError] = []
    with tqdm(total=len(pairs), unit="file", desc="stylize") as files_bar:
        for src, dst in pairs:
            try:
                if is_video(src):
                    start = time.perf_counter()
                    with frames_bar(src.name, leave=False) as bar:
                        n = stylize_video(src, dst, stylize, batch=batch, progress=bar.update)
                    if video_done is not None:
                        video_done(n, src.name, time.perf_counter() - start)
                else:
                    write_image(dst, stylize([read_rgb(src)])[0])
            except InputError as exc:
                skipped.append(exc if str(src) in str(exc) else InputError(f"{src}: {exc}"))
            files_bar.update(1)
    _report_skipped(skipped, len(pairs))


def frames_bar(desc: str, leave: bool = True) -> "tqdm":
    """A progress bar counting frames that always shows frames per second (tqdm would flip to s/frame)."""
    from tqdm import tqdm

    return tqdm(desc=desc, unit=" frames", leave=leave,
                bar_format="{desc}: {n_fmt} frames [{elapsed}, {rate_noinv_fmt}]")


def _report_skipped(skipped: list[Exception], total: int) -> None:
    """Print one line per skipped input with its reason; fail when nothing could be stylized."""
    if len(skipped) == total == 1:
        raise skipped[0]
    for exc in skipped:
        print(f"skipped {exc}", file=sys.stderr)
    if skipped and len(skipped) == total:
        raise UserError(f"none of the {total} inputs could be stylized; see the reasons above")


@contextlib.contextmanager
def folders_removed_on_failure(root: str | os.PathLike) -> Iterator[None]:
    """When the block fails, remove the folders it created under root (root and its parents included) if empty."""
    root = Path(root)
    existed = {p for p in root.rglob("*") if p.is_dir()} if root.is_dir() else set()
    outer = [q for q in (root, *root.parents) if not q.exists()]
    try:
        yield
    except BaseException:
        created = [p for p in root.rglob("*") if p.is_dir() and p not in existed] if root.is_dir() else []
        for folder in sorted(created, key=lambda p: len(p.parts), reverse=True) + outer:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def check_output_folder(path: str | os.PathLike, flag: str) -> Path:
    """UserError before any work when `flag path` cannot be a folder to write in: it, or a path above it, is a file,
    or it cannot be written; creates nothing."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UserError(f"{flag} {p}: is a file, not a folder; give a folder (it is created if missing)")
    from strotss.imageio import check_creatable_under

    check_creatable_under((p, *p.parents), f"{flag} {p}", "folder")
    return p
