"""The one trainer all four models share.

A model declares its optimisers and its phases (:mod:`thesis_lib.models.base`); the trainer
runs, for every iteration and every phase in order, ``repeats`` times::

    x, y = next minibatch          (if the phase asks for a fresh one)
    model.zero_grad()
    out = phase.step(x, y)         {"loss": per-example loss, ("objective": what to descend,) ...}
    out.get("objective", out["loss"]).backward()
    optimizers[phase.optimizer].step()
    phase.after_step()             (if the phase has one: the GAN's moving average of G)

The schedule (epochs, minibatch size, seed, binarisation; the optimisers' settings go to
``model.configure_optimizers(schedule)``) is given to the trainer, never read from the model.
Everything else here is bookkeeping: the shuffled in-memory minibatches, the history, the
progress bar, callbacks (:class:`Callback`, the hooks the trainer calls), validation,
checkpoints, Ctrl-C and resuming.

While it trains, the CPU flushes subnormal floats to zero (:func:`flush_denormals`): Adam's
moving averages of units whose gradient is exactly zero (dead ReLUs) decay geometrically into the
subnormal range, where every arithmetic operation on them is many times slower, and a run could
take twice as long for nothing.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from pathlib import Path
from typing import Iterable

import torch

from .checkpoint import save_checkpoint
from .config import RunConfig, Schedule
from .data import Dataset, binarize, minibatch_indices
from .errors import TrainingDiverged
from .history import History
from .models.base import GenerativeModel
from .progress import RunProgress
from .seed import get_rng_state, set_rng_state

EVAL_BATCH = 1000
POSTFIX_SECONDS = 0.5  # how often the progress bar's loss display is refreshed


class Callback:
    """Hooks the trainer calls after every step, every epoch and at the end; override the ones you need.

    Epoch-end hooks run on a forked, epoch-seeded RNG stream, so a callback that draws random
    numbers never changes what is trained. Ready-made ones are in :mod:`thesis_lib.callbacks`.
    """

    def on_train_begin(self, trainer: "Trainer") -> None:
        """Before the first iteration of :meth:`Trainer.fit` (also of a resumed run; the model is in training mode)."""

    def on_step_end(self, trainer: "Trainer", logs: dict[str, float]) -> None:
        """After each iteration, with the values it logged."""

    def on_epoch_end(self, trainer: "Trainer") -> None:
        """After each epoch (the model is in eval mode)."""

    def on_train_end(self, trainer: "Trainer") -> None:
        """After training stops (finished or interrupted)."""


@contextlib.contextmanager
def flush_denormals():
    """Flush subnormal floats to zero on the CPU inside the block (also a decorator), then restore the default.

    Subnormal numbers (below about 1.2e-38 in float32) take a slow path in the CPU's arithmetic.
    They arise in Adam's moving averages for parameters whose gradient is exactly zero: with
    beta1 = 0.5 (the AAE chapter's) the first moment halves every step and is subnormal within
    about a hundred steps. Treating them as zero changes no update measurably (the update of such
    a parameter is zero either way); ``benchmarks/bench_training.py`` measures what it saves.
    """
    changed = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if changed:
            torch.set_flush_denormal(False)


class Trainer:
    """Trains a :class:`~thesis_lib.models.base.GenerativeModel` on an in-memory dataset.

    Args:
        model: the model (already on its device).
        data: the training split.
        schedule: epochs, minibatch size, seed, binarisation and the optimisers' settings; its
            class is the model's (e.g. :class:`~thesis_lib.config.VAESchedule`).
        val_data: evaluated with ``model.evaluate`` after every epoch (logged as ``val/<name>``).
        out_dir: where ``checkpoint.pt``, ``config.json`` and ``history.json`` go (after every
            epoch, at the end, and on Ctrl-C). ``None`` keeps everything in memory.
        callbacks: objects with ``on_step_end`` / ``on_epoch_end`` / ``on_train_end`` hooks.
        progress: show a tqdm progress bar with the live losses.
    """

    def __init__(
        self,
        model: GenerativeModel,
        data: Dataset,
        schedule: Schedule,
        *,
        val_data: Dataset | None = None,
        out_dir: str | Path | None = None,
        callbacks: Iterable[Callback] = (),
        progress: bool = True,
    ):
        self.model = model
        self.schedule = schedule
        self.run_config = RunConfig(model.config, schedule)  # validates that the schedule is the model's kind
        self.device = model.device
        self.data = data.to(self.device)
        self.val_data = val_data.to(self.device) if val_data is not None else None
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.callbacks = list(callbacks)
        self.progress = progress
        self.optimizers = model.configure_optimizers(schedule)
        self.phases = model.phases()
        self.history = History()
        self.epoch = 0  # completed epochs
        self.iteration = 0  # completed iterations of the current epoch
        self.global_step = 0  # completed iterations in all
        self.interrupted = False
        self._stop_requested = False
        self._epoch_sums: dict[str, list[float]] = {}  # name -> [sum, count] over the current epoch
        self._epoch_seconds = 0.0
        per_iteration = sum(p.repeats for p in self.phases if p.new_batch)
        self.batches_per_iteration = max(per_iteration, 1)

    # ------------------------------------------------------------------ the loop
    @flush_denormals()
    def fit(self) -> History:
        """Train until ``schedule.epochs`` epochs are done (or Ctrl-C); return the history.

        The first Ctrl-C finishes the current iteration, saves a checkpoint and returns (with
        ``self.interrupted`` set); a second one stops at once.
        """
        self.model.train()
        self.model.setup(self.data)
        start_step = self.global_step
        self._progress = RunProgress(
            self.progress,
            self.model.config.model,
            self.schedule.epochs,
            self.iterations_per_epoch(),
            self.epoch,
            self.iteration,
        )
        for cb in self.callbacks:
            cb.on_train_begin(self)
        with self._deferred_sigint():
            try:
                while self.epoch < self.schedule.epochs and not self._stop_requested:
                    self._train_epoch()
                    if self._stop_requested:
                        break
                    self._end_epoch()
            except KeyboardInterrupt:
                self._stop_requested = True
            if self._stop_requested:
                self.interrupted = True
            self.save()
        last = (
            {k: v[-1] for k, v in self.history.epochs.items() if not k.startswith("val/")}
            if self.history.epochs
            else {}
        )
        summary = self._progress.close(self.epoch, self.global_step - start_step, last, self.interrupted)
        if self.interrupted:
            print(
                f"{summary}; interrupted at epoch {self.epoch + 1}, iteration {self.iteration}"
                + (f"; checkpoint saved in {self.out_dir}" if self.out_dir else "")
            )
        for cb in self.callbacks:
            cb.on_train_end(self)
        self.model.eval()
        return self.history

    def iterations_per_epoch(self) -> int:
        """Iterations in one pass over the data (each takes ``batches_per_iteration`` minibatches)."""
        n_batches = math.ceil(len(self.data) / self.schedule.batch_size)
        return max(n_batches // self.batches_per_iteration, 1)

    def _train_epoch(self) -> None:
        cfg, model, data = self.schedule, self.model, self.data
        batches = minibatch_indices(len(data), cfg.batch_size, cfg.seed, self.epoch, self.device)
        n_iter = self.iterations_per_epoch()
        self._progress.start_epoch(self.epoch, self.iteration)
        last_postfix = 0.0
        start = time.perf_counter()
        while self.iteration < n_iter and not self._stop_requested:
            cursor = self.iteration * self.batches_per_iteration
            x = y = None
            logs: dict[str, float] = {}
            for phase in self.phases:
                for _ in range(phase.repeats):
                    if phase.new_batch or x is None:
                        idx = batches[cursor % len(batches)]
                        cursor += 1
                        x, y = data.x[idx], data.y[idx]
                        if cfg.binarize:
                            x = binarize(x)
                    model.zero_grad(set_to_none=True)
                    out = phase.step(x, y)
                    out.get("objective", out["loss"]).backward()
                    self.optimizers[phase.optimizer].step()
                    if phase.after_step is not None:
                        phase.after_step()
                    self._log(phase.name, out, logs)
            self.iteration += 1
            self.global_step += 1
            for cb in self.callbacks:
                cb.on_step_end(self, logs)
            now = time.perf_counter()
            show = self.progress and now - last_postfix > POSTFIX_SECONDS
            self._progress.update(logs if show else None)
            if show:
                last_postfix = now
        self._epoch_seconds += time.perf_counter() - start
        self._progress.end_epoch({k: s / n for k, (s, n) in self._epoch_sums.items()})

    def _log(self, phase: str, out: dict[str, torch.Tensor], logs: dict[str, float]) -> None:
        """Log the loss as ``phase``, the objective (if any) as ``"<phase> objective"``, the rest by their keys."""
        ordered = [k for k in ("loss", "objective") if k in out] + [k for k in out if k not in ("loss", "objective")]
        for key in ordered:  # the phase's loss first, then what it descends, then the rest as returned
            name = phase if key == "loss" else f"{phase} objective" if key == "objective" else key
            value = out[key].item()
            if key in ("loss", "objective") and not math.isfinite(value):
                raise TrainingDiverged(
                    (
                        f"the {name!r} loss is {value} at epoch {self.epoch + 1}, step {self.global_step + 1} "
                        f"(iteration {self.iteration + 1} of the epoch); lower the learning rate "
                        f"(lr={self.schedule.lr})"
                    )
                )
            self.history.log_step(name, value)
            acc = self._epoch_sums.setdefault(name, [0.0, 0])
            acc[0] += value
            acc[1] += 1
            logs[name] = value

    def _end_epoch(self) -> None:
        """Epoch means, timing, the model's hook, validation, callbacks, checkpoint."""
        for name, (total, count) in self._epoch_sums.items():
            self.history.log_epoch(name, total / count)
        self.history.train_seconds.append(self._epoch_seconds)
        self._epoch_sums, self._epoch_seconds = {}, 0.0
        self.epoch += 1
        self.iteration = 0
        # Epoch-end work runs on a forked RNG stream seeded by the epoch: it is repeatable and
        # leaves the training stream untouched (so callbacks never change what is trained).
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            torch.manual_seed(self.schedule.seed + 7919 * self.epoch)
            self.model.eval()
            self.model.after_epoch(self.data)
            if self.val_data is not None:
                for name, value in self.evaluate(self.val_data).items():
                    self.history.log_epoch(f"val/{name}", value)
            for cb in self.callbacks:
                cb.on_epoch_end(self)
            self.model.train()
        self.save()

    @torch.no_grad()
    def evaluate(self, data: Dataset) -> dict[str, float]:
        """``model.evaluate`` over a whole split in batches, averaged per example."""
        totals: dict[str, float] = {}
        for start in range(0, len(data), EVAL_BATCH):
            x, y = data.x[start : start + EVAL_BATCH], data.y[start : start + EVAL_BATCH]
            for name, value in self.model.evaluate(x, y).items():
                totals[name] = totals.get(name, 0.0) + value * x.shape[0]
        return {name: total / len(data) for name, total in totals.items()}

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """Everything needed to continue exactly where training stands."""
        return {
            "model": self.model.state_dict(),
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "epoch": self.epoch,
            "iteration": self.iteration,
            "global_step": self.global_step,
            "epoch_sums": {k: [float(s), int(n)] for k, (s, n) in self._epoch_sums.items()},
            "epoch_seconds": self._epoch_seconds,
            "rng": get_rng_state(),
            "history": self.history.to_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        self.epoch, self.iteration, self.global_step = state["epoch"], state["iteration"], state["global_step"]
        self._epoch_sums = {k: [s, n] for k, (s, n) in state["epoch_sums"].items()}
        self._epoch_seconds = state["epoch_seconds"]
        self.history = History.from_dict(state["history"])
        set_rng_state(state["rng"])

    def save(self) -> None:
        """Write ``checkpoint.pt``, ``config.json`` and ``history.json`` to ``out_dir`` (if any)."""
        if self.out_dir is not None:
            save_checkpoint(self.out_dir, self.run_config, self.state_dict())

    def request_stop(self) -> None:
        """Stop after the current iteration, as the first Ctrl-C does."""
        self._stop_requested = True

    @contextlib.contextmanager
    def _deferred_sigint(self):
        """Turn the first Ctrl-C into :meth:`request_stop`; a second one interrupts at once."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum, frame):
            if self._stop_requested:
                raise KeyboardInterrupt
            self._stop_requested = True

        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
