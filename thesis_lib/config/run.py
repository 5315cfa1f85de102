"""One training run = a model config + its schedule: the run cache's key and every ``config.json``.

Settings are split by owner: the model's config (what is trained), the schedule (how; the
trainer's), and the :class:`~thesis_lib.config.system.System` (on which machine; never saved in a
run). :func:`run_config` takes settings of either of the first two owners by name and gives each
to its owner, so that callers can stay short::

    >>> run_config("vae", latent_dim=2, epochs=6)            # doctest: +ELLIPSIS
    RunConfig(config=VAEConfig(dataset='mnist', latent_dim=2, ...), schedule=VAESchedule(epochs=6, ...))

A run's ``config.json`` is its model config with the schedule as one more entry:
``{"model": "vae", "dataset": "mnist", "latent_dim": 32, ..., "schedule": {"epochs": ..., ...}}``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .models import CONFIGS, ModelConfig
from .schedule import Schedule
from .settings import check_choice, write_json


@dataclass
class RunConfig:
    """What a run trains (``config``) and how (``schedule``; default: the model's chapter schedule).

    Attributes:
        config: the model's settings, e.g. ``VAEConfig(latent_dim=2)``.
        schedule: the training schedule, e.g. ``VAESchedule(epochs=6)``; its class must be the
            model's (``config.schedule_class``).
    """

    config: ModelConfig
    schedule: Schedule | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.config, ModelConfig):
            raise ValueError(
                f"config must be a model config ({', '.join(c.__name__ for c in CONFIGS.values())}), got "
                f"{type(self.config).__name__}"
            )
        expected = type(self.config).schedule_class
        if self.schedule is None:
            self.schedule = expected()
        if type(self.schedule) is not expected:
            raise ValueError(
                f"a {self.model} run needs a {expected.__name__} as its schedule, got {type(self.schedule).__name__}"
            )

    @property
    def model(self) -> str:
        """The model's name (``"vae"`` ...)."""
        return self.config.model

    def replace(self, **changes: Any) -> "RunConfig":
        """A copy with settings changed, each given to its owner (model config or schedule)."""
        model_changes, schedule_changes = _route(type(self.config), changes)
        config = self.config.replace(**model_changes) if model_changes else self.config
        schedule = self.schedule.replace(**schedule_changes) if schedule_changes else self.schedule
        return RunConfig(config, schedule)

    def differences(self, other: "RunConfig") -> list[tuple[str, Any, Any]]:
        """``(field, value here, value in other)`` for every model or schedule field that differs."""
        if type(self.config) is not type(other.config):
            return [("model", self.model, other.model)]
        return [
            (f.name, getattr(mine, f.name), getattr(theirs, f.name))
            for mine, theirs in ((self.config, other.config), (self.schedule, other.schedule))
            for f in dataclasses.fields(mine)
            if getattr(mine, f.name) != getattr(theirs, f.name)
        ]

    def to_dict(self) -> dict[str, Any]:
        """The model config's dict (:meth:`ModelConfig.to_dict`) with ``"schedule": {...}`` added."""
        return {**self.config.to_dict(), "schedule": self.schedule.to_dict()}

    def to_json(self, path: str | Path) -> None:
        write_json(self.to_dict(), path)


def run_config(config: ModelConfig | RunConfig | str, schedule: Schedule | None = None, **changes: Any) -> RunConfig:
    """A :class:`RunConfig` from a model config (or a model's name, for its defaults) and settings of either owner.

    ``run_config(VAEConfig(latent_dim=2), epochs=6)`` and ``run_config("vae", latent_dim=2, epochs=6)``
    give the same run. ``schedule`` replaces the model's default schedule; ``changes`` are applied
    last. A name that no owner has is an error that lists what each owner allows.
    """
    if isinstance(config, RunConfig):
        base = config if schedule is None else RunConfig(config.config, schedule)
        return base.replace(**changes)
    if isinstance(config, str):
        check_choice("model", config, tuple(CONFIGS))
        model_changes, schedule_changes = _route(CONFIGS[config], changes)
        config = CONFIGS[config](**model_changes)
        changes = schedule_changes
    return RunConfig(config, schedule).replace(**changes)


def _route(cls: type[ModelConfig], changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    model_fields, schedule_fields = set(cls.field_names()), set(cls.schedule_class.field_names())
    unknown = sorted(set(changes) - model_fields - schedule_fields)
    if unknown:
        raise ValueError(
            f"unknown {cls.model} setting {unknown[0]!r}; model settings: {', '.join(sorted(model_fields))}; "
            f"schedule: {', '.join(sorted(schedule_fields))}"
        )
    return (
        {k: v for k, v in changes.items() if k in model_fields},
        {k: v for k, v in changes.items() if k in schedule_fields},
    )


# ----------------------------------------------------------------------------- JSON
def config_from_dict(d: dict[str, Any]) -> ModelConfig | RunConfig:
    """Rebuild (and validate) what :meth:`ModelConfig.to_dict` or :meth:`RunConfig.to_dict` wrote.

    A dict with a ``schedule`` is a run; one without is a model config (whose unknown fields, a
    schedule's among them, are refused with the field's name).
    """
    d = dict(d)
    name = d.pop("model", None)
    check_choice("model", name, tuple(CONFIGS))
    cls = CONFIGS[name]
    if "schedule" in d:
        schedule = d.pop("schedule")
        if not isinstance(schedule, dict):
            raise ValueError(f"schedule must be a JSON object, got {schedule!r}")
        return RunConfig(cls.from_dict(d), cls.schedule_class.from_dict(schedule))
    return cls.from_dict(d)


def load_config(path: str | Path) -> ModelConfig | RunConfig:
    """Read a ``config.json`` (a run's, or a model config's :meth:`~ModelConfig.to_json`)."""
    try:
        d = json.loads(Path(path).read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None
    if not isinstance(d, dict):
        raise ValueError(f"{path} must hold a JSON object, got {type(d).__name__}")
    return config_from_dict(d)
