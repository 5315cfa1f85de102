"""Ready-made callbacks: :class:`SampleGrid`, :class:`StopAfter`, :class:`GAN1DSnapshots` (and, re-exported,
:class:`~thesis_lib.snapshots.Snapshots`, the training replay's recorder, which ``train()`` adds to every run
it makes into a folder).

The :class:`Callback` hooks themselves are part of the trainer (:class:`thesis_lib.trainer.Callback`,
re-exported here). Epoch-end hooks run on a forked, epoch-seeded RNG stream (see the trainer), so
a callback that draws random numbers never changes what is trained.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .snapshots import Snapshots
from .toy_models import gan_1d_curves
from .trainer import Callback, Trainer

__all__ = ["Callback", "SampleGrid", "StopAfter", "GAN1DSnapshots", "Snapshots"]


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


class GAN1DSnapshots(Callback):
    """Record a 1-D GAN's curves (p_data, p_g, D, the mapping z -> G(z)) at chosen iterations.

    For the ``toy-1d`` chapter figure in the style of Goodfellow et al. (2014), Figure 1: after
    each iteration in ``steps`` (counted from 1 over the whole run) and once more at the end of
    training, ``toy_models.gan_1d_curves(model, **curve_kwargs)`` is stored in :attr:`snapshots` as
    ``(iteration, curves)``; draw them with ``plots.gan_1d_snapshots(cb.snapshots)``. The curves
    use their own seeded generator and eval mode, so recording never changes what is trained.
    A cached run that is loaded rather than trained calls no callbacks, so train without cache.
    """

    def __init__(self, steps=(1, 100, 1000), **curve_kwargs):
        self.steps = set(int(s) for s in steps)
        self.curve_kwargs = curve_kwargs
        self.snapshots: list[tuple[int, dict]] = []

    def _record(self, trainer: "Trainer") -> None:
        if self.snapshots and self.snapshots[-1][0] == trainer.global_step:
            return
        self.snapshots.append((trainer.global_step, gan_1d_curves(trainer.model, **self.curve_kwargs)))

    def on_step_end(self, trainer: "Trainer", logs: dict[str, float]) -> None:
        if trainer.global_step in self.steps:
            self._record(trainer)

    def on_train_end(self, trainer: "Trainer") -> None:
        self._record(trainer)
