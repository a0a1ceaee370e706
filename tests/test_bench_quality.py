"""`strotss bench quality`'s [LABEL=]PATH arguments: a label is split off only when the whole text is no path."""

from __future__ import annotations

from pathlib import Path

from strotss.bench.quality import split_label


def test_split_label_keeps_existing_paths_whole(tmp_path: Path) -> None:
    """Lightning's `step=100.ckpt` is a path, not LABEL=PATH; a label splits off at the first '='."""
    ckpt = tmp_path / "step=100.ckpt"
    ckpt.write_bytes(b"x")
    assert split_label(str(ckpt)) == ("", str(ckpt))
    assert split_label(f"late={ckpt}") == ("late", str(ckpt))
    assert split_label("magenta=outputs/a=b") == ("magenta", "outputs/a=b")
    assert split_label("wheat_field") == ("", "wheat_field")


def test_bench_quality_scores_both_axes_and_compares_with_a_reference(tmp_path: Path, capsys) -> None:
    """A folder holding the photos themselves keeps everything (SSIM 1) and reaches no style: against a folder of
    photo-painting blends it wins on content only (✓ ✓ ✗ ✗); the plot and the contact sheet are written."""
    import numpy as np
    from PIL import Image

    from strotss import cli
    from strotss.assets import asset_path

    photo = asset_path("content/kodak_kodim16.jpg")
    small = Image.open(photo).convert("RGB")
    small.thumbnail((96, 96))
    painting = Image.open(asset_path("style/pnst_vg_wheat_field.jpg")).convert("RGB").resize(small.size)
    same, blend = tmp_path / "same", tmp_path / "blend"
    same.mkdir(), blend.mkdir()
    small.save(same / "kodak_kodim16.png")
    Image.blend(small, painting, 0.6).save(blend / "kodak_kodim16.png")
    sheet, plot = tmp_path / "sheet.png", tmp_path / "axes.png"
    code = cli.main(["bench", "quality", "--photos", str(photo), "--size", "96", "--repeats", "1",
                     "--images", f"same={same}", "--images", f"blend={blend}", "--reference", "blend",
                     "--sheet", str(sheet), "--plot", str(plot)])
    out = capsys.readouterr().out
    assert code == 0, out
    line = next(l for l in out.splitlines() if l.startswith("same ") and "✓" in l)
    assert line.split()[-4:] == ["✓", "✓", "✗", "✗"], line
    ssim = float(line.split()[3])
    assert ssim > 0.99
    assert np.asarray(Image.open(plot)).shape[-1] in (3, 4) and sheet.stat().st_size > 0


def test_contact_sheet_captions_wrap_to_narrow_images() -> None:
    """A caption wider than its picture (a portrait photo's) wraps onto more lines instead of being cut off."""
    import numpy as np

    from strotss.teacher.compare import labelled_row

    pictures = [np.full((64, 40, 3), 0.5), np.full((64, 200, 3), 0.5)]
    one_line = labelled_row(pictures, ["a", "b"], height=64)
    wrapped = labelled_row(pictures, ["starry_night α=4 SSIM 0.38 Gram 0.45", "b"], height=64)
    assert wrapped.shape[0] >= one_line.shape[0] + 3 * 18  # the 40 px tile's caption took four lines or more
    strip = wrapped[64:, :40]
    inked_rows = np.flatnonzero((strip < 128).any(axis=(1, 2)))
    assert inked_rows.max() - inked_rows.min() > 3 * 18  # and every line was drawn
