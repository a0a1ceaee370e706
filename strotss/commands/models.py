"""`strotss models`: the models shipped inside the package, and each one's model card."""

from __future__ import annotations

import argparse
import json

HELP = "list the bundled models (usable by name wherever a model file is accepted) or show one's card"
DESCRIPTION = """\
List the models that ship with strotss, or print one model's card (data, recipe, steps, hardware, wall
time, objective on held-out photos, licences). A bundled name works wherever a model file is accepted:

  strotss models
  strotss models wheat_field
  strotss stylize wheat_field photo.jpg -o out.png
  strotss stylize arbitrary photo.jpg --style painting.jpg -o out.png"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Optional model name."""
    parser.add_argument("name", nargs="?", help="show this model's card")
    parser.add_argument("--json", action="store_true", help="print the card(s) as JSON")


def run(args: argparse.Namespace) -> int:
    """Print the table or one card."""
    from strotss.errors import UserError
    from strotss.pretrained import bundled_models

    models = bundled_models()
    if args.name is not None:
        if args.name not in models:
            raise UserError(f"{args.name}: no such bundled model; bundled: {', '.join(models) or 'none'}")
        card = models[args.name].card
        print(json.dumps(card, indent=1, ensure_ascii=False) if args.json else _card_text(card))
        return 0
    if args.json:
        print(json.dumps({name: m.card for name, m in models.items()}, indent=1, ensure_ascii=False))
        return 0
    print(f"{'name':<14}{'kind':<11}{'preset':<7}{'params':>11}{'MB':>6}  {'held-out objective':<22}style")
    for name, m in models.items():
        c = m.card
        mb = sum(f.stat().st_size for f in m.path.parent.glob(f"{name}*.onnx")) / 1e6
        q = c.get("quality", {})
        score = f"{q['mean']:.3f} (photo {q['photo_mean']:.3f})" if "mean" in q else "–"
        print(f"{name:<14}{c.get('kind', ''):<11}{c.get('preset', ''):<7}{c.get('parameters', 0):>11,}{mb:>6.1f}  "
              f"{score:<22}{c.get('style', 'any painting')}")
    print("\n`strotss models NAME` shows a model's card; the objective is `strotss bench quality`'s mean on the "
          "bundled photos (lower is better).")
    return 0


def _card_text(card: dict) -> str:
    """A model card as indented `key: value` lines (nested sections indented)."""
    lines = []
    for key, value in card.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines += [f"  {k}: {v}" for k, v in value.items()]
        elif isinstance(value, list):
            lines.append(f"{key}:")
            lines += [f"  - {v}" for v in value]
        else:
            lines.append(f"{key}: {value}")
    return "\n".join(lines)
