"""Settings, split by owner: the model's config, the training schedule, and the system.

* :mod:`.models`: what a model is, one dataclass per model (``VAEConfig`` ...), each with its
  chapter's schedule (``VAESchedule`` ...); defaults are the book chapter's settings.
* :mod:`.schedule`: :class:`Schedule`, the trainer's settings (epochs, minibatches, optimiser).
* :mod:`.system`: :class:`System`, the machine (device, threads, progress bar): never in a run's key.
* :mod:`.run`: :class:`RunConfig` = model config + schedule, what a checkpoint's ``config.json`` holds.
* :mod:`.settings`: validation (``Literal`` choices in one place), dicts and ``replace``.
"""

from .models import (
    CONFIGS,
    AAEConfig,
    AAESchedule,
    AEConfig,
    AESchedule,
    GANConfig,
    GANSchedule,
    ModelConfig,
    VAEConfig,
    VAESchedule,
)
from .run import RunConfig, config_from_dict, load_config, run_config
from .schedule import Schedule
from .settings import Settings, choices, field_types
from .system import System

__all__ = [
    "AAEConfig",
    "AAESchedule",
    "AEConfig",
    "AESchedule",
    "CONFIGS",
    "GANConfig",
    "GANSchedule",
    "ModelConfig",
    "VAEConfig",
    "VAESchedule",
    "RunConfig",
    "config_from_dict",
    "load_config",
    "run_config",
    "Schedule",
    "Settings",
    "choices",
    "field_types",
    "System",
]
