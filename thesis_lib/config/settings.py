"""What every settings dataclass shares: validation on construction, a dict/JSON form, ``replace``.

A field typed ``Literal[...]`` lists its allowed values; they are checked here for every class,
and the CLI builds its ``choices`` from the same type (:func:`field_types`), so the allowed values
are written in one place. Numeric ranges are checked by each class's ``__post_init__`` with the
helpers below. Every message names the field, the value and what is allowed, on one line::

    >>> from thesis_lib import VAESchedule
    >>> VAESchedule(optimizer="rmsprop")
    Traceback (most recent call last):
    ...
    ValueError: optimizer must be one of 'sgd', 'adagrad', 'adam', got 'rmsprop'
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import types
import typing
from pathlib import Path
from typing import Any, ClassVar, Literal


# ----------------------------------------------------------------------------- checks
def check_int(name: str, value: Any, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a number > 0, got {value!r}")


def check_range(name: str, value: Any, low: float, high: float, *, high_open: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and low <= value and (value < high if high_open else value <= high)
    if not ok:
        bracket = ")" if high_open else "]"
        raise ValueError(f"{name} must be a number in [{low}, {high}{bracket}, got {value!r}")


def check_choice(name: str, value: Any, choices: tuple) -> None:
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


def check_sizes(name: str, value: Any, *, allow_empty: bool = False) -> None:
    ok = isinstance(value, tuple) and all(not isinstance(v, bool) and isinstance(v, int) and v >= 1 for v in value)
    if not ok or (not value and not allow_empty):
        what = "a (possibly empty) list" if allow_empty else "a non-empty list"
        raise ValueError(
            f"{name} must be {what} of integers >= 1, got {list(value) if isinstance(value, tuple) else value!r}"
        )


# ----------------------------------------------------------------------------- types
@functools.cache
def setting(default: Any, help: str) -> Any:
    """A settings field: its default and its one-line documentation, which is also the CLI's
    ``--help`` text for the field (:func:`field_help`)."""
    return dataclasses.field(default=default, metadata={"help": help})


def field_help(cls: type) -> dict[str, str]:
    """Each field's help, from the class or the nearest base that documents it (a subclass may
    override a default with a plain ``name: type = value``)."""
    helps: dict[str, str] = {}
    for name in field_types(cls):
        for klass in cls.__mro__:
            f = getattr(klass, "__dataclass_fields__", {}).get(name)
            if f is not None and "help" in f.metadata:
                helps[name] = f.metadata["help"]
                break
    return helps


def field_types(cls: type) -> dict[str, Any]:
    """Resolved type hints of a settings class's fields, in field order (the CLI builds its options from them)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def choices(tp: Any) -> tuple | None:
    """The allowed values of a ``Literal[...]`` type (``None`` for any other type)."""
    return typing.get_args(tp) if typing.get_origin(tp) is Literal else None


def optional_type(tp: Any) -> Any:
    """``X`` for ``X | None``, else ``tp`` itself."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


# ----------------------------------------------------------------------------- the base class
@dataclasses.dataclass
class Settings:
    """Base class of the settings dataclasses (model configs, schedules, the system).

    Subclasses extend ``__post_init__`` with their range checks (call ``super().__post_init__()``
    first). ``what`` names the kind of settings in error messages.
    """

    what: ClassVar[str] = "settings"

    def __post_init__(self) -> None:
        # JSON and argparse give lists; store tuples, so that settings compare equal after a JSON round trip.
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                setattr(self, f.name, tuple(value))
        for name, tp in field_types(type(self)).items():
            value = getattr(self, name)
            allowed = choices(tp)
            if allowed is not None:
                check_choice(name, value, allowed)
            elif tp is bool and not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false, got {value!r}")

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON-ready values (tuples become lists)."""
        return {
            f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in dataclasses.fields(self)
        }

    @classmethod
    def describe(cls) -> str:
        """What these settings are, for messages (``"schedule"``, ``"vae config"`` ...)."""
        return cls.what

    @classmethod
    def from_dict(cls, d: dict[str, Any]):
        """Rebuild from :meth:`to_dict` output (validated); an unknown field is an error naming the allowed ones."""
        unknown = sorted(set(d) - set(cls.field_names()))
        if unknown:
            raise ValueError(
                f"unknown {cls.describe()} field {unknown[0]!r}; allowed: {', '.join(sorted(cls.field_names()))}"
            )
        return cls(**d)

    def replace(self, **changes: Any):
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def write_json(d: dict[str, Any], path: str | Path) -> None:
    """``d`` as indented JSON (how every ``config.json`` looks)."""
    Path(path).write_text(json.dumps(d, indent=2) + "\n")
