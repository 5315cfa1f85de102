"""Training replays' data: the model at snapshots of its own run, recorded by a callback while it trains.

:class:`Snapshots` is a :class:`~thesis_lib.trainer.Callback`. At the steps of :func:`snapshot_steps`
(step 0 before the first update, steps spaced geometrically and every 50 through the first few
hundred, where a GAN's game is decided, then a few per epoch: about 40-60 in all) it records what
:func:`thesis_lib.widgets.replay.replay` shows, using only the models' shared vocabulary:

* ``samples``: ``model.sample(n, generator=...)`` from the same seeded noise at every snapshot;
  images as ``uint8`` (``round(255 x)``), 2-D toy data as ``float16`` points;
* for a model with an encoder on images, ``reconstructions`` ``decode(embed(x))`` of 8 fixed
  validation images (``inputs``, stored once);
* for a 2-D code, ``codes``: ``embed(x)`` of 1,000 fixed validation images (``float16``), with their
  ``labels`` (stored once).

**Recording never changes training.** Each snapshot runs in eval mode (restored afterwards), under
``no_grad``, on a forked global RNG (:func:`torch.random.fork_rng`) with its own seeded
``torch.Generator`` for the noise, so the weights after a run are bit-identical with and without the
recorder (``tests/test_replay.py``).

**The file.** With a run folder (the trainer's ``out_dir``), the recorder writes ``snapshots.pt`` there
at every epoch's end and when training stops (atomically; plain tensors, lists and numbers, so
``torch.load(weights_only=True)`` reads it: :func:`load_snapshots`). A resumed run starts from the
file's snapshots up to the checkpoint's step, so it ends with the same snapshots as an
uninterrupted run. :func:`thesis_lib.api.train` adds a recorder to every run it makes into a folder,
so a chapter's cached run serves its replay without a second training.

The dict (:meth:`Snapshots.to_dict`, :data:`FORMAT`)::

    format, model, dataset, images, iterations_per_epoch, seed,
    steps: [int], epochs: [float]                       one entry per snapshot, in order
    samples: uint8 (S, n, *data_shape) | float16 (S, n, 2)
    inputs: uint8 (8, *data_shape), reconstructions: uint8 (S, 8, *data_shape)    (encoder, images)
    codes: float16 (S, 1000, 2), labels: int64 (1000,)                            (2-D code)
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import Tensor

from .cache import atomic_write
from .data import load_dataset
from .trainer import Callback, Trainer

__all__ = ["Snapshots", "snapshot_steps", "load_snapshots", "save_snapshots", "thin", "SNAPSHOTS", "FORMAT"]

SNAPSHOTS = "snapshots.pt"
"""The file in a run folder."""
FORMAT = 1
EARLY = 300
"""Through this step the snapshots are dense (geometric, ratio √2, and every 50 steps)."""
PER_RUN = 32
"""Snapshots spread over the epochs after the first ones (at least every epoch's end)."""


def snapshot_steps(iterations_per_epoch: int, epochs: int, early: int = EARLY, per_run: int = PER_RUN) -> list[int]:
    """The steps (completed iterations, 0 = before training) at which a run of ``epochs`` epochs is recorded.

    Step 0; ``round(2 ** (k / 2))`` and every multiple of 50 up to ``early``; ``max(1, ceil(per_run / epochs))``
    evenly spaced steps in every epoch (its last step included, at most one per iteration); and the last step.
    """
    if iterations_per_epoch < 1 or epochs < 0:
        raise ValueError(
            f"snapshot_steps: iterations_per_epoch={iterations_per_epoch}, epochs={epochs}; "
            "expected at least 1 iteration per epoch and epochs >= 0"
        )
    total = iterations_per_epoch * epochs
    steps = {0, total}
    k = 0
    while (s := round(2 ** (k / 2))) <= early:
        steps.add(s)
        k += 1
    steps.update(range(50, early + 1, 50))
    per_epoch = min(max(1, math.ceil(per_run / max(epochs, 1))), iterations_per_epoch)
    for e in range(epochs):
        steps.update(
            e * iterations_per_epoch + round(j * iterations_per_epoch / per_epoch) for j in range(1, per_epoch + 1)
        )
    return sorted(s for s in steps if s <= total)


def _uint8(x: Tensor) -> Tensor:
    return (x.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu()


class Snapshots(Callback):
    """Record the model at the steps of :func:`snapshot_steps` (see the module's docstring).

    Args:
        path: the file to write (default: ``snapshots.pt`` in the trainer's ``out_dir``; none without one:
            the snapshots stay in memory, :meth:`to_dict`).
        n_samples: samples from fixed noise per snapshot (images; 2-D toy data gets 500 points).
        n_reconstructions: fixed validation images reconstructed per snapshot (models with an encoder).
        n_codes: fixed validation images whose 2-D codes are recorded per snapshot.
        seed: seed of the noise (the same at every snapshot).
        steps: the steps to record (default :func:`snapshot_steps` of the run).
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        n_samples: int = 16,
        n_reconstructions: int = 8,
        n_codes: int = 1000,
        seed: int = 0,
        steps: list[int] | None = None,
    ):
        for name, value in (("n_samples", n_samples), ("n_reconstructions", n_reconstructions), ("n_codes", n_codes)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"Snapshots: {name}={value!r}; expected a positive integer")
        self.path = Path(path) if path is not None else None
        self.n_samples, self.n_reconstructions, self.n_codes, self.seed = n_samples, n_reconstructions, n_codes, seed
        self.fixed_steps = None if steps is None else sorted(int(s) for s in steps)
        self.steps: set[int] = set()
        self.records: list[dict] = []  # one per snapshot: step, epoch, samples[, reconstructions][, codes]
        self.meta: dict = {}
        self._val = None

    # -- the trainer's hooks -------------------------------------------------------------------------------
    def on_train_begin(self, trainer: Trainer) -> None:
        model = trainer.model
        ipe = trainer.iterations_per_epoch()
        self.steps = set(self.fixed_steps or snapshot_steps(ipe, trainer.schedule.epochs))
        self.meta = {
            "format": FORMAT,
            "model": model.config.model,
            "dataset": model.config.dataset,
            "images": bool(model.images),
            "iterations_per_epoch": ipe,
            "seed": self.seed,
        }
        target = self._file(trainer)
        if target is not None and target.exists() and not self.records and trainer.global_step > 0:
            # a resumed run: the file's snapshots up to the checkpoint's step (a fresh run overwrites the file)
            saved = load_snapshots(target)
            if all(saved.get(k) == v for k, v in self.meta.items()):
                self.records = _records(saved)
        self.records = [r for r in self.records if r["step"] <= trainer.global_step]
        val = trainer.val_data if trainer.val_data is not None else load_dataset(model.config.dataset, "val")
        n = max(self.n_reconstructions, self.n_codes if self._codes(model) else 0)
        self._val = (val.x[:n].to(model.device), val.y[:n].to(model.device))
        if trainer.global_step in self.steps:
            self.record(trainer)

    def on_step_end(self, trainer: Trainer, logs: dict[str, float]) -> None:
        # an epoch's last step is recorded at the epoch's end, after the model's epoch-end hook (the AE fits its
        # Gaussian there, the GAN recalibrates its average generator): as the trained model will be
        if trainer.global_step in self.steps and trainer.iteration < trainer.iterations_per_epoch():
            self.record(trainer)

    def on_epoch_end(self, trainer: Trainer) -> None:
        if trainer.global_step in self.steps:
            self.record(trainer)
        self.save(trainer)

    def on_train_end(self, trainer: Trainer) -> None:
        self.save(trainer)

    # -- recording -----------------------------------------------------------------------------------------
    @staticmethod
    def _codes(model) -> bool:
        return model.has_encoder and model.latent_dim == 2

    def record(self, trainer: Trainer) -> None:
        """Record the model now (once per step), in eval mode, without touching the training's RNG."""
        step = trainer.global_step
        if self.records and self.records[-1]["step"] >= step:
            return
        model = trainer.model
        was_training = model.training
        devices = [model.device] if model.device.type == "cuda" else []
        try:
            with torch.random.fork_rng(devices=devices), torch.no_grad():
                model.eval()
                self.records.append({"step": step, "epoch": step / trainer.iterations_per_epoch(), **self.look(model)})
        finally:
            model.train(was_training)

    def look(self, model) -> dict[str, Tensor]:
        """What one snapshot holds of ``model`` (already in eval mode, under ``no_grad``)."""
        g = torch.Generator().manual_seed(self.seed)  # on the CPU, as the priors draw (the models move the noise)
        out: dict[str, Tensor] = {}
        if model.images:
            out["samples"] = _uint8(model.sample(self.n_samples, generator=g))
        else:
            out["samples"] = model.sample(500, generator=g).reshape(500, -1)[:, :2].to(torch.float16).cpu()
        x, y = self._val
        if model.has_encoder and model.images:
            xs, ys = x[: self.n_reconstructions], y[: self.n_reconstructions]
            out["reconstructions"] = _uint8(model.decode(model.embed(xs), ys if model.needs_labels else None))
        if self._codes(model):
            out["codes"] = model.embed(x[: self.n_codes]).to(torch.float16).cpu()
        return out

    # -- the file ------------------------------------------------------------------------------------------
    def _file(self, trainer: Trainer) -> Path | None:
        if self.path is not None:
            return self.path
        return trainer.out_dir / SNAPSHOTS if trainer.out_dir is not None else None

    def to_dict(self) -> dict:
        """The snapshots recorded so far as one dict of plain tensors, lists and numbers (the module's format)."""
        if not self.records:
            return {**self.meta, "steps": [], "epochs": []}
        d = {**self.meta, "steps": [r["step"] for r in self.records], "epochs": [r["epoch"] for r in self.records]}
        for name in ("samples", "reconstructions", "codes"):
            if name in self.records[0]:
                d[name] = torch.stack([r[name] for r in self.records])
        x, y = self._val if self._val is not None else (None, None)
        if "reconstructions" in d and x is not None:
            d["inputs"] = _uint8(x[: self.n_reconstructions])
        if "codes" in d and y is not None:
            d["labels"] = y[: self.n_codes].long().cpu()
        return d

    def save(self, trainer: Trainer) -> None:
        """Write the snapshots to the file (if there is one)."""
        target = self._file(trainer)
        if target is not None:
            save_snapshots(self.to_dict(), target)


def _records(d: dict) -> list[dict]:
    """A snapshots dict back into one record per snapshot."""
    names = [n for n in ("samples", "reconstructions", "codes") if n in d]
    return [
        {"step": s, "epoch": e, **{n: d[n][i] for n in names}} for i, (s, e) in enumerate(zip(d["steps"], d["epochs"]))
    ]


def thin(snapshots: dict, n: int) -> dict:
    """At most ``n`` (>= 2) of the snapshots, evenly spaced in recorded order, the first and the last kept: what a
    stored result carries (the dense early snapshots stay dense). The other keys are kept as they are."""
    if n < 2:
        raise ValueError(f"thin keeps at least the first and the last snapshot, got n {n}")
    count = len(snapshots["steps"])
    if count <= n:
        return dict(snapshots)
    keep = sorted({round(i * (count - 1) / (n - 1)) for i in range(n)})
    out = dict(snapshots)
    out["steps"] = [snapshots["steps"][i] for i in keep]
    out["epochs"] = [snapshots["epochs"][i] for i in keep]
    for name in ("samples", "reconstructions", "codes"):
        if name in out:
            out[name] = snapshots[name][keep].clone()
    return out


def save_snapshots(snapshots: dict, path: str | Path) -> Path:
    """Write a snapshots dict to ``path`` atomically (``torch.save``; :func:`load_snapshots` reads it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda p: torch.save(snapshots, p))
    return path


def load_snapshots(path: str | Path) -> dict:
    """The snapshots dict in ``path`` (a run folder or the file), read with ``torch.load(weights_only=True)``."""
    p = Path(path)
    if p.is_dir():
        p = p / SNAPSHOTS
    if not p.is_file():
        raise FileNotFoundError(
            f"no training snapshots at {p}: train into that folder with thesis_lib.train (it records them), "
            "or pass callbacks=[Snapshots(path)]"
        )
    d = torch.load(p, map_location="cpu", weights_only=True)
    if not isinstance(d, dict) or d.get("format") != FORMAT or "steps" not in d:
        raise ValueError(f"{p} is not a thesis_lib snapshots file (format {FORMAT})")
    return d
