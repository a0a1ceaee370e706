"""Bundled models: the registry, name resolution, `strotss models`, and the stylize options peers' users expect."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from strotss.cli import main
from strotss.errors import UserError
from strotss.export.runtime import StyleModel, mix_codes, preserve_color
from strotss.pretrained import bundled_models, resolve_model

BUNDLED = bundled_models()
needs_models = pytest.mark.skipif(not {"wheat_field", "starry_night", "arbitrary"} <= BUNDLED.keys(),
                                  reason="bundled models not installed")


def test_resolve_model_paths_names_and_errors(tmp_path: Path) -> None:
    """An existing path wins; a bundled name gives its ONNX file; anything else is one clear error."""
    f = tmp_path / "m.onnx"
    f.write_bytes(b"x")
    assert resolve_model(f) == f
    with pytest.raises(UserError, match="model file not found"):
        resolve_model(tmp_path / "missing.onnx")
    with pytest.raises(UserError, match="no such bundled model"):
        resolve_model("no_such_painting")


@needs_models
def test_every_bundled_model_has_a_complete_card_and_its_files() -> None:
    """Each card names data, config, steps, hardware, wall time, held-out objective and licences; files exist ≤ 16 MB."""
    for name, m in BUNDLED.items():
        card = m.card
        assert m.path.is_file() and m.path.stat().st_size <= 16_000_000
        for key in ("data", "held_out", "config", "commands", "steps", "hardware", "wall_time"):
            assert card["training"][key], (name, key)
        assert card["quality"]["mean"] < card["quality"]["photo_mean"], name
        assert card["licences"] and card["parameters"] > 0
        for fname, info in card["files"].items():
            if fname.endswith(".onnx"):
                assert (m.path.parent / fname).stat().st_size == info["bytes"]
        assert StyleModel(m.path).needs_style == (card["kind"] == "arbitrary")


@needs_models
def test_files_written_before_the_preset_rename_read_as_presets(tmp_path: Path) -> None:
    """Cards and ONNX files written before the rename say `size` for the network preset; they are read as `preset`."""
    import onnx

    from strotss.models import PerStyleNet, onnx_state_dict

    raw = json.loads(BUNDLED["arbitrary"].path.with_suffix(".json").read_text())
    assert raw["model_kwargs"]["size"] == "base"  # as shipped, not rewritten
    card = BUNDLED["arbitrary"].card
    assert card["preset"] == "base" and card["model_kwargs"]["preset"] == "base" and "size" not in card["model_kwargs"]
    assert card["quality"]["size"] == 256  # pixels stay `size`
    legacy = onnx.load(str(BUNDLED["wheat_field"].path))  # its metadata as an export before the rename wrote it
    for prop in legacy.metadata_props:
        if prop.key == "strotss.model_kwargs":
            prop.value = prop.value.replace('"preset"', '"size"')
    onnx.save(legacy, str(tmp_path / "legacy.onnx"))
    kwargs = BUNDLED["wheat_field"].card["model_kwargs"]
    _, meta = onnx_state_dict(tmp_path / "legacy.onnx", PerStyleNet(**kwargs))
    assert meta["model_kwargs"] == kwargs and "size" not in meta["model_kwargs"]


@needs_models
def test_models_verb_lists_and_shows_cards(capsys) -> None:
    """`strotss models` lists every bundled model; `strotss models NAME --json` prints its card."""
    assert main(["models"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in BUNDLED)
    assert main(["models", "wheat_field", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "wheat_field"
    assert main(["models", "nope"]) == 2


def _photo(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    img = np.clip(np.linspace(0, 255, 96)[None, :, None] + rng.normal(0, 20, (64, 96, 3)), 0, 255).astype(np.uint8)
    img[..., 0] = np.clip(img[..., 0].astype(int) + 60, 0, 255)  # reddish: a colour the style must not keep
    path = tmp_path / "photo.png"
    Image.fromarray(img).save(path)
    return path


@needs_models
def test_stylize_by_bundled_name_and_preserve_color(tmp_path: Path) -> None:
    """A bundled name stylizes; --preserve-color keeps the photo's chroma and the stylized luminance."""
    photo = _photo(tmp_path)
    assert main(["stylize", "wheat_field", str(photo), "-o", str(tmp_path / "a.png")]) == 0
    assert main(["stylize", "wheat_field", str(photo), "-o", str(tmp_path / "b.png"), "--preserve-color"]) == 0
    src, styl, kept = (np.asarray(Image.open(p).convert("YCbCr"), dtype=float)
                       for p in (photo, tmp_path / "a.png", tmp_path / "b.png"))
    styl_err, kept_err = np.abs(styl[..., 1:] - src[..., 1:]), np.abs(kept[..., 1:] - src[..., 1:])
    assert styl_err.mean() > 5  # the style changed the colours ...
    # ... preserve-color keeps the photo's; where the stylized luminance is near black or white the photo's
    # chroma lies outside the RGB gamut and is clipped, so the typical pixel is exact and the mean is small
    assert np.median(kept_err) <= 1 and kept_err.mean() < styl_err.mean() / 4
    assert np.median(np.abs(kept[..., 0] - styl[..., 0])) <= 1  # and the stylized luminance


@needs_models
def test_weighted_styles_mix_codes(tmp_path: Path) -> None:
    """--weights 1 0 equals the first style alone, 0.5 0.5 lies between; a count mismatch is one clear error."""
    photo = _photo(tmp_path)
    from strotss.assets import asset_path

    a, b = asset_path("style/pnst_vg_starry_night.jpg"), asset_path("style/adain_mondrian.jpg")
    run = ["stylize", "arbitrary", str(photo), "--style", str(a), "--style", str(b)]
    assert main([*run, "--weights", "1", "0", "-o", str(tmp_path / "w10.png")]) == 0
    assert main(["stylize", "arbitrary", str(photo), "--style", str(a), "-o", str(tmp_path / "a.png")]) == 0
    assert main([*run, "--weights", "0", "1", "-o", str(tmp_path / "w01.png")]) == 0
    assert main([*run, "--weights", "0.5", "0.5", "-o", str(tmp_path / "mix.png")]) == 0
    w10, only_a, w01, mix = (np.asarray(Image.open(tmp_path / f), dtype=float)
                             for f in ("w10.png", "a.png", "w01.png", "mix.png"))
    assert np.abs(w10 - only_a).max() <= 1
    assert 0 < np.abs(mix - w10).mean() < np.abs(w01 - w10).mean()
    assert main([*run, "--weights", "1", "-o", str(tmp_path / "bad.png")]) == 2
    assert not (tmp_path / "bad.png").exists()


def test_mix_codes_and_preserve_color_units() -> None:
    """mix_codes normalizes weights and refuses negative or all-zero ones; preserve_color keeps shape and type."""
    codes = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    assert np.allclose(mix_codes(codes, [3, 1]), [[0.75, 0.25]])
    for bad in ([1, -1], [0, 0], [1.0, float("nan")], [1.0]):
        with pytest.raises(UserError, match="weights"):
            mix_codes(codes, bad)
    a = np.zeros((5, 7, 3), np.uint8)
    assert preserve_color(a, a).shape == (5, 7, 3)
