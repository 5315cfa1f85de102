"""The shared trainer: repeatability, checkpoints, exact resuming, Ctrl-C, divergence, callbacks."""

from __future__ import annotations

import json
import os
import random
import re
import signal

import numpy as np
import pytest
import torch
from helpers import QUIET, assert_same, assert_same_run, params_differ, tiny_ae, tiny_gan, tiny_vae

from thesis_lib import VAESchedule, load, load_config, train
from thesis_lib.callbacks import Callback, SampleGrid, StopAfter
from thesis_lib.checkpoint import load_checkpoint
from thesis_lib.errors import CheckpointError, TrainingDiverged
from thesis_lib.models import GAN, VAE, Autoencoder


# ============================================================================ repeatability
@pytest.mark.parametrize("make", [tiny_vae, tiny_gan], ids=["vae", "gan"])
def test_seeded_runs_are_bit_for_bit_equal(make, mnist_small):
    a = train(make(), data=mnist_small, **QUIET)
    b = train(make(), data=mnist_small, **QUIET)
    assert_same_run(a, b)
    c = train(make(seed=1), data=mnist_small, **QUIET)
    assert params_differ(a, c) and a.history.steps != c.history.steps


# ============================================================================ checkpoints
def test_checkpoint_round_trip(mnist_small, tmp_path):
    cfg = tiny_vae()
    trainer = train(cfg, tmp_path, data=mnist_small, **QUIET)
    for name in ("checkpoint.pt", "config.json", "history.json"):
        assert (tmp_path / name).is_file()
    assert not list(tmp_path.glob("*.tmp"))
    for source in (tmp_path, tmp_path / "checkpoint.pt"):
        model = load(source)
        assert isinstance(model, VAE) and model.training is False
        assert_same(model.state_dict(), trainer.model.state_dict())
    assert load_config(tmp_path / "config.json") == cfg
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["train_seconds"]) == cfg.schedule.epochs and all(s > 0 for s in history["train_seconds"])
    assert history["steps"] == trainer.history.steps and history["epochs"] == trainer.history.epochs
    assert (
        len(history["steps"]["-elbo"]) == cfg.schedule.epochs * 8
        and len(history["epochs"]["-elbo"]) == cfg.schedule.epochs
    )


def test_checkpoint_loads_with_weights_only(mnist_small, tmp_path):
    train(tiny_gan(epochs=1), tmp_path, data=mnist_small, **QUIET)
    state = torch.load(tmp_path / "checkpoint.pt", map_location="cpu", weights_only=True)
    assert state["format"] == 1 and state["config"]["model"] == "gan"
    assert {"model", "optimizers", "rng", "history", "epoch", "iteration", "global_step"} <= set(state)
    assert set(state["optimizers"]) == {"discriminator", "generator"}
    assert (state["epoch"], state["iteration"], state["global_step"]) == (1, 0, 4)


def test_corrupt_checkpoint_raises_checkpoint_error(mnist_small, tmp_path):
    (tmp_path / "checkpoint.pt").write_bytes(b"\x00garbage\xff" * 100)
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load(tmp_path)
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        train(tiny_vae(), tmp_path, resume=True, data=mnist_small, **QUIET)


def test_truncated_checkpoint_raises_checkpoint_error(mnist_small, tmp_path):
    train(tiny_vae(epochs=1), tmp_path, data=mnist_small, **QUIET)
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=r"not a readable checkpoint.*truncated"):
        load(tmp_path)


def test_missing_or_foreign_checkpoint_raises_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load(tmp_path / "no_such_run")
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        train(tiny_vae(), tmp_path / "no_such_run", resume=True, **QUIET)
    torch.save({"weights": torch.zeros(3)}, tmp_path / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="not a thesis_lib checkpoint"):
        load(tmp_path)


# ============================================================================ resuming
@pytest.mark.parametrize("make, stop_at", [(tiny_gan, 2), (tiny_vae, 3), (tiny_ae, 5)], ids=["gan-k2", "vae", "ae"])
def test_resume_mid_epoch_equals_uninterrupted_run(make, stop_at, mnist_small, tmp_path):
    straight = train(make(), data=mnist_small, **QUIET)
    first = train(make(), tmp_path, callbacks=[StopAfter(stop_at)], data=mnist_small, **QUIET)
    assert first.interrupted
    assert (first.epoch, first.iteration, first.global_step) == (0, stop_at, stop_at)
    state = load_checkpoint(tmp_path)
    assert (state["epoch"], state["iteration"]) == (0, stop_at)
    assert params_differ(first, straight)
    resumed = train(make(), tmp_path, resume=True, data=mnist_small, **QUIET)
    assert not resumed.interrupted
    assert_same_run(resumed, straight)
    assert_same(load(tmp_path).state_dict(), straight.model.state_dict())


def test_resume_at_epoch_boundary_equals_uninterrupted_run(mnist_small, tmp_path):
    """Stopped after the last iteration of epoch 1, before its end-of-epoch work."""
    straight = train(tiny_vae(), data=mnist_small, validate=True, progress=False)
    first = train(tiny_vae(), tmp_path, callbacks=[StopAfter(8)], data=mnist_small, validate=True, progress=False)
    assert first.interrupted and (first.epoch, first.iteration) == (0, 8)
    assert "-elbo" not in first.history.epochs  # the epoch was not closed
    resumed = train(tiny_vae(), tmp_path, resume=True, data=mnist_small, validate=True, progress=False)
    assert_same_run(resumed, straight)
    assert len(resumed.history.epochs["val/-elbo"]) == 2


@pytest.mark.parametrize("make", [tiny_vae, tiny_gan], ids=["vae", "gan"])
def test_resume_to_more_epochs_continues_the_run(make, mnist_small, tmp_path):
    straight = train(make(epochs=3), data=mnist_small, **QUIET)
    one = train(make(epochs=1), tmp_path, data=mnist_small, **QUIET)
    assert one.epoch == 1 and not one.interrupted
    more = train(make(epochs=3), tmp_path, resume=True, data=mnist_small, **QUIET)
    assert more.epoch == 3 and len(more.history.epochs[next(iter(more.history.epochs))]) == 3
    assert_same_run(more, straight)
    assert load_config(tmp_path / "config.json").schedule.epochs == 3


def test_resume_of_a_finished_run_trains_nothing(mnist_small, tmp_path):
    done = train(tiny_vae(epochs=1), tmp_path, data=mnist_small, **QUIET)
    again = train(tiny_vae(epochs=1), tmp_path, resume=True, data=mnist_small, **QUIET)
    assert_same_run(again, done)


def test_resume_with_a_different_config_is_refused(mnist_small, tmp_path):
    train(tiny_vae(epochs=1), tmp_path, data=mnist_small, **QUIET)
    with pytest.raises(ValueError, match="cannot resume: lr is 0.004 but the checkpoint was trained with 0.002"):
        train(tiny_vae(epochs=1, lr=4e-3), tmp_path, resume=True, data=mnist_small, **QUIET)
    with pytest.raises(ValueError, match="cannot resume: hidden_dims"):
        train(tiny_vae(epochs=1, hidden_dims=(8,)), tmp_path, resume=True, data=mnist_small, **QUIET)
    with pytest.raises(ValueError, match="cannot resume a 'vae' run with a 'ae' config"):
        train(tiny_ae(epochs=1), tmp_path, resume=True, data=mnist_small, **QUIET)
    with pytest.raises(ValueError, match="resume=True needs out_dir"):
        train(tiny_vae(), resume=True, data=mnist_small, **QUIET)


# ============================================================================ Ctrl-C
class SigintAt(Callback):
    """Sends this process a real SIGINT after the given iteration."""

    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, trainer, logs):
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGINT)


def test_sigint_stops_after_the_iteration_and_saves(mnist_small, tmp_path):
    handler_before = signal.getsignal(signal.SIGINT)
    trainer = train(tiny_ae(), tmp_path, callbacks=[SigintAt(3)], data=mnist_small, **QUIET)
    assert trainer.interrupted
    assert (trainer.epoch, trainer.iteration, trainer.global_step) == (0, 3, 3)
    assert len(trainer.history.steps["recon"]) == 3
    assert signal.getsignal(signal.SIGINT) is handler_before  # the trainer's handler is removed
    state = load_checkpoint(tmp_path)
    assert (state["epoch"], state["iteration"], state["global_step"]) == (0, 3, 3)
    # The checkpoint continues into exactly the uninterrupted run.
    resumed = train(tiny_ae(), tmp_path, resume=True, data=mnist_small, **QUIET)
    assert_same_run(resumed, train(tiny_ae(), data=mnist_small, **QUIET))


def test_second_sigint_stops_at_once(mnist_small, tmp_path, monkeypatch):
    step = Autoencoder.reconstruction_step
    calls = []

    def interrupting_step(self, x, y):
        calls.append(1)
        if len(calls) == 3:  # in the middle of iteration 3: two Ctrl-C in a row
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
        return step(self, x, y)

    monkeypatch.setattr(Autoencoder, "reconstruction_step", interrupting_step)
    trainer = train(tiny_ae(), tmp_path, data=mnist_small, **QUIET)
    assert trainer.interrupted
    assert trainer.global_step == 2 and len(calls) == 3  # iteration 3 was abandoned
    assert load_checkpoint(tmp_path)["global_step"] == 2


# ============================================================================ divergence
def _nan_on_call(original, n: int):
    calls = []

    def step(self, x, y):
        calls.append(1)
        out = original(self, x, y)
        if len(calls) == n:
            out["loss"] = out["loss"] * float("nan")
        return out

    return step


def test_nan_loss_raises_training_diverged_naming_phase_epoch_and_step(mnist_small, monkeypatch):
    monkeypatch.setattr(VAE, "elbo_step", _nan_on_call(VAE.elbo_step, 8 + 3))  # epoch 2, its 3rd step
    handler_before = signal.getsignal(signal.SIGINT)
    with pytest.raises(TrainingDiverged) as info:
        train(tiny_vae(), data=mnist_small, **QUIET)
    message = str(info.value)
    assert "'-elbo' loss is nan" in message
    assert "epoch 2" in message and "step 11" in message and "iteration 3 of the epoch" in message
    assert f"lr={VAESchedule().lr}" in message
    assert signal.getsignal(signal.SIGINT) is handler_before


def test_nan_in_a_gan_phase_names_that_phase(mnist_small, monkeypatch):
    monkeypatch.setattr(GAN, "generator_step", _nan_on_call(GAN.generator_step, 2))
    with pytest.raises(TrainingDiverged, match=r"the 'G' loss is nan at epoch 1, step 2 "):
        train(tiny_gan(), data=mnist_small, **QUIET)


def test_huge_learning_rate_diverges(mnist_small):
    with pytest.raises(TrainingDiverged, match=r"loss is (nan|inf|-inf) at epoch \d+, step \d+.*lr=1e\+30"):
        train(tiny_ae(lr=1e30, optimizer="sgd", corruption="none"), data=mnist_small, **QUIET)


# ============================================================================ callbacks and epoch-end isolation
class GreedyRandomness(Callback):
    """Draws from every global RNG at the end of each epoch."""

    def on_epoch_end(self, trainer):
        torch.randn(1000)
        random.random()
        np.random.rand(10)


def test_sample_grid_writes_pngs_and_changes_nothing(mnist_small, tmp_path):
    plain = train(tiny_vae(), data=mnist_small, **QUIET)
    grid = SampleGrid(tmp_path / "grids", n=16)
    with_cb = train(tiny_vae(), data=mnist_small, callbacks=[grid, GreedyRandomness()], **QUIET)
    assert_same_run(with_cb, plain)
    assert [p.name for p in grid.paths] == ["samples_epoch_001.png", "samples_epoch_002.png"]
    from PIL import Image

    for p in grid.paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(p) as im:
            assert im.size == (4 * (28 + 2) + 2,) * 2  # 4x4 grid with 2-pixel padding
    # Same fixed noise each epoch, different weights: the two grids differ.
    assert grid.paths[0].read_bytes() != grid.paths[1].read_bytes()


def test_validation_does_not_change_training(mnist_small):
    """VAE validation samples z from the global RNG; it runs on a forked stream."""
    plain = train(tiny_vae(), data=mnist_small, **QUIET)
    validated = train(tiny_vae(), data=mnist_small, progress=False, validate=True)
    assert_same(validated.model.state_dict(), plain.model.state_dict())
    assert validated.history.steps == plain.history.steps
    assert {"val/-elbo", "val/kl", "val/recon"} <= set(validated.history.epochs)
    assert all(len(v) == 2 for v in validated.history.epochs.values())


def test_callbacks_see_every_step_and_epoch(mnist_small):
    class Recorder(Callback):
        def __init__(self):
            self.steps, self.epochs, self.ended = [], [], 0

        def on_step_end(self, trainer, logs):
            self.steps.append((trainer.global_step, dict(logs)))

        def on_epoch_end(self, trainer):
            self.epochs.append((trainer.epoch, trainer.model.training))

        def on_train_end(self, trainer):
            self.ended += 1

    rec = Recorder()
    trainer = train(tiny_gan(), data=mnist_small, callbacks=[rec], **QUIET)
    assert [s for s, _ in rec.steps] == list(range(1, 9))
    assert set(rec.steps[0][1]) == {"D", "D(x)", "D(G(z))", "G"}
    assert rec.steps[-1][1]["G"] == trainer.history.steps["G"][-1]
    assert rec.steps[-1][1]["D"] == trainer.history.steps["D"][-1]  # the last of the k D steps
    assert rec.epochs == [(1, False), (2, False)] and rec.ended == 1


# ============================================================================ run cache key
def _library_copy(tmp_path):
    import shutil
    from pathlib import Path

    import thesis_lib

    copy = tmp_path / "thesis_lib"
    shutil.copytree(Path(thesis_lib.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _edit(path) -> None:
    """A change to the code (not only to a comment or a docstring)."""
    path.write_text(path.read_text() + "\n_EDITED = 1\n")


def test_run_cache_key_follows_training_code_only(tmp_path):
    """Editing a plot or a metric keeps the cached runs; editing a model or the trainer does not."""
    from thesis_lib.api import run_fingerprint

    copy = _library_copy(tmp_path)
    before = {m: run_fingerprint(m, copy) for m in ("ae", "gan", "vae", "aae")}
    _edit(copy / "plots" / "images.py")
    _edit(copy / "metrics" / "parzen.py")
    _edit(copy / "widgets" / "static.py")
    assert {m: run_fingerprint(m, copy) for m in before} == before
    _edit(copy / "models" / "gan.py")
    assert run_fingerprint("gan", copy) != before["gan"]
    _edit(copy / "trainer.py")
    assert all(run_fingerprint(m, copy) != before[m] for m in before)


def test_one_models_source_is_not_in_another_models_key(tmp_path):
    """A code edit in gan.py retrains the GAN but not the VAE; the modules a run imports are its key."""
    from thesis_lib import cache
    from thesis_lib.api import run_fingerprint

    copy = _library_copy(tmp_path)
    before = {m: run_fingerprint(m, copy) for m in ("ae", "gan", "vae", "aae")}
    _edit(copy / "models" / "gan.py")
    after = {m: run_fingerprint(m, copy) for m in before}
    assert after["gan"] != before["gan"]
    assert {m: after[m] for m in ("ae", "vae", "aae")} == {m: before[m] for m in ("ae", "vae", "aae")}
    # what the VAE's run imports: its model, the shared core, never another model or an outer module
    modules = cache.import_closure(["models.vae", "trainer", "api"], ["models.ae", "models.gan", "models.aae"])
    assert {
        "models.vae",
        "models.base",
        "losses",
        "nets",
        "trainer",
        "data",
        "config.models",
        "checkpoint",
        "seed",
    } <= set(modules)
    assert not [
        m
        for m in modules
        if m.split(".")[0] in ("plots", "widgets", "metrics", "latent", "cli", "papers", "exercises", "callbacks")
    ]
    assert not {"models.gan", "models.ae", "models.aae", "priors", "toy_models"} & set(modules)


def _replace(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


def test_run_cache_key_ignores_what_cannot_change_the_weights(tmp_path):
    """Docstrings, comments, formatting, the progress display and the error messages never retrain a
    run; a change to a loss (one character of arithmetic) retrains every model that uses it."""
    from thesis_lib.api import run_fingerprint

    copy = _library_copy(tmp_path)
    models = ("ae", "gan", "vae", "aae")
    before = {m: run_fingerprint(m, copy) for m in models}
    losses = copy / "losses.py"
    _replace(losses, '"""The thesis', '"""  The thesis, reworded:')  # the module docstring
    _replace(copy / "models" / "vae.py", "def elbo(", "def elbo(  # a comment\n        ")  # a comment and a line break
    _replace(copy / "config" / "models.py", '"size of the code', '"the size of the code')  # a field's CLI help
    _edit(copy / "progress.py")  # the display
    _edit(copy / "errors.py")  # the messages
    (copy / "trainer.py").write_text((copy / "trainer.py").read_text().replace("    ", "\t"))  # re-indented with tabs
    assert {m: run_fingerprint(m, copy) for m in models} == before
    # the Gaussian KL's factor of one half, which only the VAE and the Gaussian-encoder AAE use
    _replace(losses, "-0.5 * (1 + logvar", "-0.49 * (1 + logvar")
    after = {m: run_fingerprint(m, copy) for m in models}
    assert after["vae"] != before["vae"] and after["aae"] != before["aae"]
    # a field's default is code: the AE's latent_dim (the help beside it is not)
    _replace(
        copy / "config" / "models.py",
        "latent_dim: int = setting(\n        10,",
        "latent_dim: int = setting(\n        11,",
    )
    assert run_fingerprint("ae", copy) != after["ae"]


@pytest.mark.slow
def test_system_settings_are_not_part_of_the_run(mnist_small, tmp_path, monkeypatch):
    """device, threads and the progress bar never change the run-cache key, so a cached run is reused."""
    from thesis_lib import api

    monkeypatch.setenv("THESIS_LIB_RUNS", str(tmp_path))
    first = train(tiny_vae(epochs=1), cache=True, validate=False, progress=False)
    again = train(tiny_vae(epochs=1), cache=True, validate=False, progress=True, device="cpu", threads=1)
    assert first.out_dir == again.out_dir == api.cached_run_dir(tiny_vae(epochs=1))
    assert_same(again.model.state_dict(), first.model.state_dict())
    assert len(list(tmp_path.glob("vae-*"))) == 1


TRAIN_THE_TINY_VAE = """
import sys
sys.path.insert(0, sys.argv[1])
from helpers import tiny_vae
from thesis_lib import train
train(tiny_vae(epochs=1), cache=True, validate=False, progress=False, device="cpu")
"""


@pytest.mark.slow
def test_two_processes_asking_for_one_run_train_it_once(tmp_path):
    """Two kernels (scripts/build_book.py executes two notebooks at once) ask the run cache for the same run at the
    same moment: one trains it, the other waits for the run's lock and loads the finished run."""
    import subprocess
    import sys

    env = {**os.environ, "THESIS_LIB_RUNS": str(tmp_path), "OMP_NUM_THREADS": "1"}
    here = os.path.dirname(os.path.abspath(__file__))
    both = [
        subprocess.Popen(
            [sys.executable, "-c", TRAIN_THE_TINY_VAE, here], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600)[0].decode() for p in both]
    assert [p.returncode for p in both] == [0, 0], outputs
    assert sum("loaded the finished vae run" in out for out in outputs) == 1, outputs
    assert len(list(tmp_path.glob("vae-*/checkpoint.pt"))) == 1


def test_vae_logs_nats_per_example_and_its_objective_apart(mnist_small):
    trainer = train(tiny_vae(epochs=1, objective="sum"), data=mnist_small, **QUIET)
    steps = trainer.history.steps
    assert set(steps) == {"-elbo", "-elbo objective", "kl", "recon"}
    # the minibatch sum over 32 images is 32 times the per-example value (up to float rounding)
    assert all(abs(o - 32 * e) < 1e-3 * abs(o) for o, e in zip(steps["-elbo objective"], steps["-elbo"]))
    assert all(abs(e - (k + r)) < 1e-3 * abs(e) for e, k, r in zip(steps["-elbo"], steps["kl"], steps["recon"]))
    mean = train(tiny_vae(epochs=1, objective="mean"), data=mnist_small, **QUIET)
    assert "-elbo objective" not in mean.history.steps  # what is descended is the logged loss itself


def test_a_run_cache_that_is_a_file_is_one_clear_error_before_training(mnist_small, tmp_path, monkeypatch):
    """``$THESIS_LIB_RUNS`` pointing at a file (or through one): the library's RunCacheError naming the
    variable and the path, before any data is loaded, instead of a NotADirectoryError traceback."""
    from thesis_lib import api
    from thesis_lib.errors import RunCacheError

    def no_training(*args, **kwargs):
        raise AssertionError("the data was loaded: training started")

    monkeypatch.setattr(api, "load_dataset", no_training)
    file = tmp_path / "runs.txt"
    file.write_text("not a folder")
    for root, where in ((file, "is a file"), (file / "cache", f"goes through the file {file}")):
        monkeypatch.setenv("THESIS_LIB_RUNS", str(root))
        with pytest.raises(RunCacheError, match=re.escape(f"$THESIS_LIB_RUNS={root}: {root} {where}, not a folder")):
            train(tiny_vae(), cache=True, **QUIET)
    monkeypatch.setenv("THESIS_LIB_RUNS", "/proc/runs")  # a folder the system will not create
    with pytest.raises(
        ValueError,
        match=re.escape("the run cache's folder ($THESIS_LIB_RUNS=/proc/runs) /proc/runs/vae-")
        + ".* cannot be created",
    ):
        train(tiny_vae(), cache=True, **QUIET)


def test_train_rejects_an_existing_file_as_out_dir_before_training(mnist_small, tmp_path):
    file = tmp_path / "a-file"
    file.write_text("not a folder")
    for out in (file, file / "run"):
        with pytest.raises(ValueError, match=f"the run folder {out} (is a file|goes through the file {file})"):
            train(tiny_vae(), out, data=mnist_small, callbacks=[StopAfter(0)], **QUIET)
    with pytest.raises(ValueError, match="unknown setting 'latent_dim' for train"):
        train(tiny_vae(), data=mnist_small, latent_dim=3, **QUIET)
