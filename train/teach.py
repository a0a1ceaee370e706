"""Teacher runs: the per-image optimizer over many (content, style) pairs, sharded, resumable, as a data set.

The output folder is an `imagefolder` data set: one PNG per pair plus metadata.jsonl whose rows hold
`file_name`, `content`, `style` (paths relative to the folder) and the run's settings and final
objective. Each pair also leaves a sidecar in `.records/`, so that any rank can rebuild metadata.jsonl
from everything finished so far (under a file lock) without talking to the other ranks.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Iterable

from strotss.errors import UserError
from strotss.imageio import IMAGE_SUFFIXES, atomic_output, list_images, read_rgb, write_image
from strotss.outputs import check_plan
from strotss.textfiles import read_text

RECORDS = ".records"


def list_pairs(content: str, style: str, pairing: str = "product") -> list[tuple[Path, Path]]:
    """(content, style) pairs from files or folders: every combination ("product") or in order ("zip")."""
    def files(source: str) -> list[Path]:
        p = Path(source)
        if p.is_dir():
            found = list_images(p)
            if not found:
                raise UserError(f"{p}: no images in this folder; add JPEG/PNG files or pass a file")
            return found
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES:
            return [p]
        raise UserError(f"{p}: no such image file or folder; check the path")

    cs, ss = files(content), files(style)
    if pairing == "zip":
        if len(cs) != len(ss):
            raise UserError(f"--pairing zip needs as many content as style images ({len(cs)} vs {len(ss)}); "
                            "use --pairing product or a --pairs file")
        return list(zip(cs, ss))
    return [(c, s) for c in cs for s in ss]


def read_pairs(path: str) -> list[tuple[Path, Path]]:
    """(content, style) pairs from a CSV file with `content` and `style` columns (paths relative to the file)."""
    p = Path(path)
    reader = csv.DictReader(io.StringIO(read_text(p, "pairs file"), newline=""))
    try:
        if not {"content", "style"} <= set(reader.fieldnames or ()):
            raise UserError(f"{p}: expected a CSV with a header row `content,style` and one pair per line")
        pairs = [_pair(p, reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise UserError(f"{p}: not a readable CSV file ({exc}); expected a header row `content,style`") from None
    if not pairs:
        raise UserError(f"{p}: expected a CSV with a header row `content,style` and one pair per line")
    return pairs


def _pair(p: Path, line: int, row: dict) -> tuple[Path, Path]:
    """One CSV row as (content, style) paths relative to the file p; UserError naming its line when a path is
    missing or empty, or the line has more fields than the header."""
    if None in row or not row["content"] or not row["style"]:
        raise UserError(f"{p}:{line}: expected a content and a style path separated by a comma (content,style); "
                        "fix or remove this line")
    return p.parent / row["content"], p.parent / row["style"]


def output_name(content: Path, style: Path) -> str:
    """File name of a pair's teacher output."""
    return f"{content.stem}__{style.stem}.png"


def check_outputs(pairs: list[tuple[Path, Path]], out: Path) -> None:
    """Refuse pairs whose output would replace an input or another pair's output (the rule `stylize` follows)."""
    check_plan([((c, s), out / output_name(c, s)) for c, s in pairs],
               "give the images distinct file names, or list each pair once", flag="--out")


def shard(pairs: list[tuple[Path, Path]], rank: int, world: int) -> list[tuple[Path, Path]]:
    """This rank's pairs (every world-th)."""
    return pairs[rank::world]


def is_done(out: Path, content: Path, style: Path) -> bool:
    """A pair is finished when its image and its record both exist."""
    name = output_name(content, style)
    return (out / name).is_file() and (out / RECORDS / f"{name}.json").is_file()


def write_pair(out: Path, content: Path, style: Path, image, record: dict) -> None:
    """Write a pair's output image, then its record (the record marks the pair as finished)."""
    name = output_name(content, style)
    write_image(out / name, image)
    row = {"file_name": name, "content": os.path.relpath(content.resolve(), out.resolve()),
           "style": os.path.relpath(style.resolve(), out.resolve()), **record}
    with atomic_output(out / RECORDS / f"{name}.json", "w") as fh:
        json.dump(row, fh)


def rebuild_metadata(out: Path) -> int:
    """Rewrite metadata.jsonl from all records present, under a lock shared by every rank; returns the row count."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".metadata.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rows = [json.loads(p.read_text()) for p in sorted((out / RECORDS).glob("*.json"))
                if (out / p.name[:-len(".json")]).is_file()]
        with atomic_output(out / "metadata.jsonl", "w") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in rows)
    return len(rows)


def run_teacher(pairs: Iterable[tuple[Path, Path]], out: Path, config, *, rank: int = 0, world: int = 1,
                progress: bool = True) -> tuple[int, int]:
    """Optimize this rank's unfinished pairs and refresh metadata.jsonl; returns (done now, skipped as finished)."""
    from tqdm.auto import tqdm

    from strotss.losses import build_extractor
    from strotss.teacher.optimizer import optimize_image, resolve_device

    pairs = list(pairs)
    check_outputs(pairs, out)
    mine = shard(pairs, rank, world)
    todo = [(c, s) for c, s in mine if not is_done(out, c, s)]
    extractor = build_extractor(config.extractor, config.weights).to(resolve_device(config.device)) if todo else None
    settings = {k: v for k, v in asdict(config).items() if k in ("size", "alpha", "iters", "extractor", "weighting")}
    for content, style in tqdm(todo, desc=f"teacher rank {rank}", position=rank, disable=not progress, unit="pair"):
        result = optimize_image(read_rgb(content), read_rgb(style), config, extractor=extractor, progress=False,
                                names=(str(content), str(style)))
        final = result.history[-1]["total"] if result.history else None
        write_pair(out, content, style, result.image, {**settings, "objective": final,
                                                       "seconds": round(result.seconds, 2)})
    rebuild_metadata(out)
    return len(todo), len(mine) - len(todo)
