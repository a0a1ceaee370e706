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
