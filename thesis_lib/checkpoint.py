"""Checkpoint files: one ``checkpoint.pt`` holding model, optimisers, position, RNG states,
the run's config (model config + schedule) and history, plus ``config.json`` and ``history.json``
beside it for people and tools.

Writes are atomic (a temporary file, then a rename), so a Ctrl-C or crash during a save never
leaves a half-written checkpoint. Reads use ``torch.load(weights_only=True)``: a checkpoint is
plain tensors, numbers and strings, never pickled code.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from .cache import atomic_write
from .config import RunConfig, config_from_dict
from .errors import CheckpointError

CHECKPOINT = "checkpoint.pt"
CONFIG = "config.json"
HISTORY = "history.json"
FORMAT = 1  # the layout of checkpoint.pt; the config inside describes itself (see config_from_dict)


def save_checkpoint(out_dir: str | Path, config: RunConfig, state: dict) -> Path:
    """Save a trainer state (see :meth:`thesis_lib.trainer.Trainer.state_dict`) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "config": config.to_dict(), **state}
    path = out / CHECKPOINT
    atomic_write(path, lambda p: torch.save(payload, p))
    atomic_write(out / CONFIG, lambda p: config.to_json(p))
    atomic_write(out / HISTORY, lambda p: Path(p).write_text(json.dumps(state["history"]) + "\n"))
    return path


def checkpoint_path(path: str | Path) -> Path:
    """``path`` itself if it is a file, else ``path/checkpoint.pt``."""
    p = Path(path)
    return p / CHECKPOINT if p.is_dir() or p.suffix != ".pt" else p


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint (a run folder or the ``.pt`` file) with ``weights_only=True``.

    Raises :class:`~thesis_lib.errors.CheckpointError` with a one-line reason if the file is
    missing, corrupt or not a thesis_lib checkpoint.
    """
    p = checkpoint_path(path)
    if not p.exists():
        raise CheckpointError(
            f"no checkpoint at {p}: train into that folder first (thesis-lib train MODEL --out {p.parent})"
        )
    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises various errors for damaged zip/pickle data
        raise CheckpointError(
            f"{p} is not a readable checkpoint: the file is corrupt, truncated or not a PyTorch file "
            f"({e.__class__.__name__})"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT or "config" not in state:
        raise CheckpointError(f"{p} is not a thesis_lib checkpoint (format {FORMAT})")
    return state


def checkpoint_config(state: dict) -> RunConfig:
    """The run config (model config + schedule) stored in a checkpoint."""
    try:
        config = config_from_dict(state["config"])
    except ValueError as e:
        raise CheckpointError(f"the checkpoint's config is invalid: {e}") from None
    if not isinstance(config, RunConfig):
        raise CheckpointError("the checkpoint's config has no training schedule")
    return config
