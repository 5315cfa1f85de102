"""The two calls most users need: :func:`train` a model from its config, :func:`load` a trained one."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Iterable

from .callbacks import Callback
from .checkpoint import CHECKPOINT, checkpoint_config, load_checkpoint
from .config import TrainConfig
from .data import Dataset, load_dataset
from .models import GenerativeModel, build_model
from .priors import Prior
from .seed import seed_everything, select_device
from .trainer import Trainer


def train(
    config: TrainConfig,
    out_dir: str | Path | None = None,
    *,
    resume: bool = False,
    cache: bool = False,
    callbacks: Iterable[Callback] = (),
    progress: bool = True,
    validate: bool = True,
    data: Dataset | None = None,
    prior: Prior | None = None,
) -> Trainer:
    """Seed, load the data, build the model and train it with the shared :class:`Trainer`.

    Args:
        config: e.g. ``VAEConfig()`` (the book chapter's settings) or ``GANConfig(k=5)``.
        out_dir: folder for ``checkpoint.pt``, ``config.json`` and ``history.json``.
        resume: continue the run saved in ``out_dir``; the result equals an uninterrupted run.
            ``config`` may differ from the saved one only in ``epochs`` (to train longer).
        cache: reuse a finished run of the same config trained by the same library code (see
            :func:`cached_run_dir`): load it instead of training again. An unfinished one is
            resumed. The book's chapters use this, so re-running a chapter is fast and never stale.
        callbacks: e.g. ``[SampleGrid(out_dir)]``.
        progress: show the progress bar.
        validate: evaluate on the validation split after every epoch.
        data: train on this dataset instead of ``config.dataset``'s training split.
        prior: AAE only: a custom prior sampler ``prior(n, labels=None, generator=None)``.

    Returns:
        The trainer: ``.model`` (in eval mode), ``.history``, ``.interrupted``.
    """
    state = None
    if cache:
        if data is not None or prior is not None:
            raise ValueError("cache=True trains on config.dataset with the configured prior; it cannot be combined with data= or prior=")
        out_dir = out_dir or cached_run_dir(config)
        if (Path(out_dir) / CHECKPOINT).exists():
            state = load_checkpoint(out_dir)
            _check_resumable(checkpoint_config(state), config)
    elif resume:
        if out_dir is None:
            raise ValueError("resume=True needs out_dir, the folder of the run to continue")
        state = load_checkpoint(out_dir)
        saved = checkpoint_config(state)
        _check_resumable(saved, config)
    seed_everything(config.seed)
    device = select_device(config.device)
    if data is None:
        data = load_dataset(config.dataset, "train")
    val = load_dataset(config.dataset, "val") if validate else None
    kwargs = {"prior": prior} if prior is not None else {}
    model = build_model(config, **kwargs).to(device)
    trainer = Trainer(model, data, val_data=val, out_dir=out_dir, callbacks=callbacks, progress=progress)
    if state is not None:
        trainer.load_state_dict(state)
    if trainer.epoch < config.epochs:
        trainer.fit()
    else:
        model.eval()
        where = f"the run cache ({Path(out_dir).name})" if cache else str(out_dir)
        print(f"loaded the finished {config.model} run from {where}: {trainer.epoch} epochs, {sum(trainer.history.train_seconds):.0f} s of training")
    return trainer


def load(path: str | Path, *, device: str = "cpu", prior: Prior | None = None) -> GenerativeModel:
    """A trained model from a run folder (or its ``checkpoint.pt``), in eval mode."""
    state = load_checkpoint(path)
    config = checkpoint_config(state)
    kwargs = {"prior": prior} if prior is not None else {}
    model = build_model(config, **kwargs)
    model.load_state_dict(state["model"])
    return model.to(select_device(device)).eval()


def _check_resumable(saved: TrainConfig, config: TrainConfig) -> None:
    if type(saved) is not type(config):
        raise ValueError(f"cannot resume a {saved.model!r} run with a {config.model!r} config")
    for f in dataclasses.fields(config):
        if f.name != "epochs" and getattr(saved, f.name) != getattr(config, f.name):
            raise ValueError(
                f"cannot resume: {f.name} is {getattr(config, f.name)!r} but the checkpoint was trained with {getattr(saved, f.name)!r} (only epochs may change)"
            )


RUNS_ENV = "THESIS_LIB_RUNS"


def runs_root() -> Path:
    """Where cached runs live: ``$THESIS_LIB_RUNS``, else ``~/.cache/thesis_lib/runs``."""
    value = os.environ.get(RUNS_ENV)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "thesis_lib" / "runs"


# Parts of the library that never touch a training run: editing them keeps the cached runs.
NOT_TRAINING = ("cli.py", "__main__.py", "plots.py", "latent.py", "widgets.py", "papers.py", "classroom.py", "exercises/", "metrics/")


def library_fingerprint() -> str:
    """A hash of the torch version and of every library source file a training run depends on.

    Everything except :data:`NOT_TRAINING` counts, so a new module is part of the key until
    someone decides it cannot change a run.
    """
    import torch

    h = hashlib.sha256(torch.__version__.encode())
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        if path.relative_to(root).as_posix().startswith(NOT_TRAINING):
            continue
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def cached_run_dir(config: TrainConfig) -> Path:
    """The run folder for ``config`` under :func:`runs_root`, keyed by the config and the code.

    Any change to a setting, or to a library file that training uses (see
    :func:`library_fingerprint`), gives a new folder, so a cached result can never be stale.
    """
    key = hashlib.sha256((json.dumps(config.to_dict(), sort_keys=True) + library_fingerprint()).encode()).hexdigest()[:16]
    return runs_root() / f"{config.model}-{key}"
