"""The two calls most users need: :func:`train` a model from its config, :func:`load` a trained one.

>>> run = train(VAEConfig(latent_dim=2), epochs=6, cache=True)     # doctest: +SKIP
>>> run.schedule.epochs, run.model.sample(4).shape                 # doctest: +SKIP
(6, torch.Size([4, 1, 28, 28]))
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

import torch

from .cache import RUNS_ENV, key, runs_root, source_fingerprint
from .checkpoint import CHECKPOINT, checkpoint_config, load_checkpoint
from .config import ModelConfig, RunConfig, Schedule, System, run_config
from .data import Dataset, load_dataset
from .models import MODELS, GenerativeModel, build_model
from .profiling import stage, timed
from .seed import seed_everything, select_device
from .snapshots import Snapshots
from .trainer import Callback, Trainer

if TYPE_CHECKING:
    from .priors import Prior

__all__ = ["train", "load", "cached_run_dir", "run_fingerprint", "runs_root"]


@timed("run setup")
def train(
    config: ModelConfig | RunConfig,
    out_dir: str | Path | None = None,
    *,
    schedule: Schedule | None = None,
    system: System | None = None,
    resume: bool = False,
    cache: bool = False,
    callbacks: Iterable[Callback] = (),
    validate: bool = True,
    data: Dataset | None = None,
    prior: "Prior | None" = None,
    snapshots: bool = True,
    **settings: Any,
) -> Trainer:
    """Seed, load the data, build the model and train it with the shared :class:`Trainer`.

    Args:
        config: the model, e.g. ``VAEConfig()`` (the book chapter's) or ``GANConfig(k=5)``; or a
            :class:`~thesis_lib.config.RunConfig` (model and schedule together).
        out_dir: folder for ``checkpoint.pt``, ``config.json`` and ``history.json``.
        schedule: how to train (default: the model's chapter schedule, e.g. ``VAESchedule()``).
        system: device, threads and progress bar (default ``System()``).
        resume: continue the run saved in ``out_dir``; the result equals an uninterrupted run.
            The model and schedule may differ from the saved ones only in ``epochs`` (to train longer).
        cache: reuse a finished run of the same model and schedule trained by the same library
            code (see :func:`cached_run_dir`): load it instead of training again. An unfinished
            one is resumed. The book's chapters use this, so re-running a chapter is fast and never stale.
            A second process asking for a run that one is training waits for it (:func:`run_lock`).
        callbacks: e.g. ``[SampleGrid(out_dir)]``.
        validate: evaluate on the validation split after every epoch.
        data: train on this dataset instead of the config's dataset's training split.
        prior: AAE only: a custom prior sampler ``prior(n, labels=None, generator=None)``.
        snapshots: record the model at snapshots of the run into ``out_dir``'s ``snapshots.pt``
            (:class:`~thesis_lib.snapshots.Snapshots`, the training replay's data; it never changes what is
            trained). Only a run with a folder (``out_dir`` or ``cache=True``) records them.
        **settings: changes to the schedule or the system by field name, e.g. ``epochs=6``,
            ``lr=1e-3``, ``device="cpu"``, ``progress=False``.

    Returns:
        The trainer: ``.model`` (in eval mode), ``.schedule``, ``.history``, ``.interrupted``.
    """
    system_changes = {k: settings.pop(k) for k in list(settings) if k in System.field_names()}
    run = run_config(config, schedule)
    unknown = sorted(set(settings) - set(run.schedule.field_names()))
    if unknown:
        raise ValueError(
            f"unknown setting {unknown[0]!r} for train(); the schedule has {', '.join(run.schedule.field_names())}, "
            f"the system {', '.join(System.field_names())} (model settings go into the {type(run.config).__name__})"
        )
    run = run.replace(**settings)
    system = (system or System()).replace(**system_changes)
    if out_dir is not None:
        check_out_dir(out_dir)
    state = None
    with contextlib.ExitStack() as held:  # the run cache's lock on this run, when cache=True
        if cache:
            if data is not None or prior is not None:
                raise ValueError(
                    "cache=True trains on the config's dataset with the configured prior; it cannot be combined with "
                    "data= or prior="
                )
            if out_dir is None:
                out_dir = cached_run_dir(run)
                check_out_dir(out_dir, what=f"the run cache's folder (${RUNS_ENV}={runs_root()})")
            # another process training this very run (two notebooks executed at once by scripts/build_book.py, two
            # kernels in JupyterLab): wait for it, then load its finished run instead of training it a second time
            held.enter_context(run_lock(out_dir))
            if (Path(out_dir) / CHECKPOINT).exists():
                state = load_checkpoint(out_dir)
                check_resumable(checkpoint_config(state), run)
        elif resume:
            if out_dir is None:
                raise ValueError("resume=True needs out_dir, the folder of the run to continue")
            state = load_checkpoint(out_dir)
            check_resumable(checkpoint_config(state), run)
        if system.threads is not None:
            torch.set_num_threads(system.threads)
        seed_everything(run.schedule.seed)
        device = select_device(system.device)
        if data is None:
            data = load_dataset(run.config.dataset, "train")
        val = load_dataset(run.config.dataset, "val") if validate else None
        kwargs = {"prior": prior} if prior is not None else {}
        model = build_model(run.config, **kwargs).to(device)
        callbacks = list(callbacks)
        if snapshots and out_dir is not None and not any(isinstance(cb, Snapshots) for cb in callbacks):
            callbacks.append(Snapshots())
        trainer = Trainer(
            model, data, run.schedule, val_data=val, out_dir=out_dir, callbacks=callbacks, progress=system.progress
        )
        if state is not None:
            trainer.load_state_dict(state)
        if trainer.epoch < run.schedule.epochs:
            with stage("train"):
                trainer.fit()
        else:
            model.eval()
            where = f"the run cache ({Path(out_dir).name})" if cache else str(out_dir)
            print(
                f"loaded the finished {run.model} run from {where}: {trainer.epoch} epochs, "
                f"{sum(trainer.history.train_seconds):.0f} s of training"
            )
        return trainer


def load(path: str | Path, *, device: str = "cpu", prior: "Prior | None" = None) -> GenerativeModel:
    """A trained model from a run folder (or its ``checkpoint.pt``), in eval mode."""
    state = load_checkpoint(path)
    config = checkpoint_config(state)
    kwargs = {"prior": prior} if prior is not None else {}
    model = build_model(config.config, **kwargs)
    model.load_state_dict(state["model"])
    return model.to(select_device(device)).eval()


def check_out_dir(out_dir: str | Path, *, what: str = "the run folder") -> None:
    """Refuse a run folder that cannot be one before any training: an existing file, a path through a
    file, or a folder that cannot be created or written to (``/proc/foo``, a read-only disk). The
    folder is created here (training would create it at the first checkpoint anyway)."""
    path = Path(out_dir)
    for p in (path, *path.parents):
        if p.exists():
            if not p.is_dir():
                where = "is a file" if p == path else f"goes through the file {p}"
                raise ValueError(f"{what} {path} {where}; give a folder (existing or new) for checkpoint.pt")
            break
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(
            f"{what} {path} cannot be created ({e.strerror or e.__class__.__name__}); give a folder you can write to"
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"{what} {path} is not writable; give a folder you can write to")


def check_resumable(
    saved: RunConfig,
    config: RunConfig,
    *,
    name: Callable[[str], str] = str,
    show: Callable[[Any], str] = repr,
    prefix: str = "cannot resume",
    subject: str = "the checkpoint",
) -> None:
    """Raise a one-line ``ValueError`` unless ``config`` may continue the run ``saved``: the same model
    and every setting but ``epochs`` the same. ``name`` and ``show`` spell a setting and a value (the
    CLI passes ``--flag`` names); ``prefix`` and ``subject`` frame the message."""
    if saved.model != config.model:
        raise ValueError(f"{prefix} a {saved.model!r} run with a {config.model!r} config")
    differ = [(field, mine, theirs) for field, mine, theirs in config.differences(saved) if field != "epochs"]
    if differ:
        what = "; ".join(
            f"{name(field)} is {show(mine)} but {subject} was trained with {show(theirs)}"
            for field, mine, theirs in differ
        )
        raise ValueError(f"{prefix}: {what} (only {name('epochs')} may change)")


# ----------------------------------------------------------------------------- the run cache
def run_fingerprint(model: str, library: Path | None = None) -> str:
    """A hash of the code a run of ``model`` imports: its model's module, the trainer and this
    module, and everything they import (:func:`~thesis_lib.cache.source_fingerprint`: docstrings,
    comments and formatting do not count), except the other models' modules (the registry that
    lists them all is the only place that imports them) and what is never in a key
    (:data:`~thesis_lib.cache.NEVER_IN_A_KEY`)."""
    modules = {name: cls.__module__.removeprefix("thesis_lib.") for name, cls in MODELS.items()}
    others = [m for name, m in modules.items() if name != model]
    kwargs = {"library": library} if library is not None else {}
    return source_fingerprint([modules[model], "trainer", "api"], blocked=others, **kwargs)


@contextlib.contextmanager
def run_lock(folder: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on a run folder (its file ``.lock``) while the block runs: a second process that asks
    the run cache for the same run waits until the first has trained it, then finds it finished. Nothing is locked
    where ``fcntl`` is missing (Windows); the lock ends with the process that holds it, even a killed one. (Here,
    not in :mod:`thesis_lib.cache`: that module's code is part of the stored judge's key.)"""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Linux or macOS
        yield
        return
    with open(Path(folder) / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cached_run_dir(config: RunConfig) -> Path:
    """The run folder for ``config`` under :func:`runs_root`, keyed by the model, the schedule and the code.

    Any change to a model or schedule setting, or to a library file the run imports (see
    :func:`run_fingerprint`), gives a new folder, so a cached result can never be stale. The
    :class:`~thesis_lib.config.System` (device, threads, progress bar) is not part of the key.
    """
    return (
        runs_root()
        / f"{config.model}-{key(json.dumps(config.to_dict(), sort_keys=True), run_fingerprint(config.model))}"
    )
