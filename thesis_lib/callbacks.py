"""Callbacks: hooks the trainer calls after every step, every epoch and at the end.

Epoch-end hooks run on a forked, epoch-seeded RNG stream (see the trainer), so a callback that
draws random numbers never changes what is trained.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from .trainer import Trainer


class Callback:
    """Base class; override the hooks you need."""

    def on_step_end(self, trainer: "Trainer", logs: dict[str, float]) -> None:
        """After each iteration, with the values it logged."""

    def on_epoch_end(self, trainer: "Trainer") -> None:
        """After each epoch (the model is in eval mode)."""

    def on_train_end(self, trainer: "Trainer") -> None:
        """After training stops (finished or interrupted)."""


class SampleGrid(Callback):
    """Save a grid of samples from the same fixed noise after every epoch: ``samples_epoch_001.png`` ...

    Args:
        out_dir: folder for the PNG files.
        n: number of samples (a square number makes a square grid).
        seed: seed of the fixed noise, so successive grids show the same z.
    """

    def __init__(self, out_dir: str | Path, n: int = 64, seed: int = 0):
        self.out_dir = Path(out_dir)
        self.n = n
        self.seed = seed
        self.paths: list[Path] = []

    def on_epoch_end(self, trainer: "Trainer") -> None:
        from torchvision.utils import save_image

        if not trainer.model.images:
            return
        g = torch.Generator().manual_seed(self.seed)
        with torch.no_grad():
            x = trainer.model.sample(self.n, generator=g)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / f"samples_epoch_{trainer.epoch:03d}.png"
        save_image(x.cpu(), path, nrow=int(self.n**0.5), padding=2, pad_value=1.0)
        self.paths.append(path)


class StopAfter(Callback):
    """Request a stop after ``n_steps`` iterations in all, as a Ctrl-C would (for tests and demos)."""

    def __init__(self, n_steps: int):
        self.n_steps = n_steps

    def on_step_end(self, trainer: "Trainer", logs: dict[str, float]) -> None:
        if trainer.global_step >= self.n_steps:
            trainer.request_stop()
