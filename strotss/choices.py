"""The named choices several layers share (Literal types, torch-free), and their check for Python callers.

LightningCLI and jsonargparse validate Literal-typed arguments of configs; `check_choices` gives code that
constructs the same objects from Python the same guarantee, with an error that lists the allowed values.
"""

from __future__ import annotations

import typing
from typing import Any, Callable, Literal, Mapping

from strotss.models.kinds import ModelName  # noqa: F401  (the network kinds, declared with them)

Weighting = Literal["code", "paper"]
LossPrecision = Literal["auto", "fp32", "bf16"]
Trainable = Literal["all", "norms"]


def choices(kind: Any) -> tuple[str, ...]:
    """The values of a Literal type, e.g. for argparse `choices=`."""
    return typing.get_args(kind)


def check_choices(fn: Callable[..., Any], arguments: Mapping[str, Any]) -> None:
    """ValueError for the first argument of fn typed as a Literal whose value is not one of its choices."""
    hints = typing.get_type_hints(fn)
    for name, value in arguments.items():
        hint = hints.get(name)
        if typing.get_origin(hint) is Literal and value not in typing.get_args(hint):
            allowed = ", ".join(map(repr, typing.get_args(hint)))
            raise ValueError(f"{name}={value!r}: use one of {allowed}")
