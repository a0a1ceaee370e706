"""Settings dataclasses whose fields carry their help line, and the argparse flags built from them.

A field declared with `setting(default, help)` is the one place its default and help live: every verb that
exposes it adds the flag with `add_flags` and reads it back with `from_flags`, so they cannot drift.
Help lines may use `%(default)s`, which argparse fills in. Torch-free: verbs' --help stays fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any, Literal, Mapping, Sequence, TypeVar

T = TypeVar("T")


def setting(default: Any, help: str, *, flag: str | None = None) -> Any:
    """A dataclass field with its default, its help line and, when it is not --field-name, its flag."""
    return dataclasses.field(default=default, metadata={"help": help, "flag": flag})


def flag_of(cls: type, name: str) -> str:
    """The command-line flag of a settings field: its declared flag, else --field-name."""
    field = next(f for f in dataclasses.fields(cls) if f.name == name)
    return field.metadata.get("flag") or "--" + name.replace("_", "-")


def _value_type(hint: Any) -> type:
    """The type argparse converts a flag's text to: int, float or str (`X | None` counts as X)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


def add_flags(parser: argparse.ArgumentParser | argparse._ArgumentGroup, cls: type, names: Sequence[str],
              help: Mapping[str, str] | None = None) -> None:
    """Add a flag per named field of a settings dataclass: its default, type or Literal choices, and help line."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name in names:
        field, hint, flag = fields[name], hints[name], flag_of(cls, name)
        kwargs: dict[str, Any] = {"dest": name, "default": field.default,
                                  "help": (help or {}).get(name, field.metadata["help"])}
        if typing.get_origin(hint) is Literal:
            kwargs["choices"] = typing.get_args(hint)
        else:
            kwargs.update(type=_value_type(hint), metavar=flag.lstrip("-").replace("-", "_").upper())
        parser.add_argument(flag, **kwargs)


def from_flags(cls: type[T], args: argparse.Namespace, names: Sequence[str], **overrides: Any) -> T:
    """An instance of the settings dataclass from the named flags' values (other fields keep their defaults)."""
    return cls(**{**{name: getattr(args, name) for name in names}, **overrides})
