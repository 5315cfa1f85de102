"""The command line: an end-to-end smoke run, and one-line errors (never a traceback) for bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_one_line_error, run_cli
from PIL import Image

from thesis_lib import VAESchedule, cli, data

TINY_VAE = ["--epochs", "1", "--hidden-dims", "32", "--latent-dim", "2", "--no-progress"]


@pytest.mark.slow
@pytest.mark.usefixtures("require_mnist")
def test_end_to_end_train_sample_evaluate_resume(tmp_path: Path):
    out = tmp_path / "vae"
    r = run_cli("train", "vae", *TINY_VAE, "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert {"checkpoint.pt", "config.json", "history.json"} <= {p.name for p in out.iterdir()}
    history = json.loads((out / "history.json").read_text())
    assert len(history["train_seconds"]) == 1 and history["train_seconds"][0] > 0
    assert json.loads((out / "config.json").read_text())["latent_dim"] == 2

    r = run_cli("sample", str(out), "--n", "10", "--out", str(tmp_path / "s.npy"))
    assert r.returncode == 0, r.stderr
    arr = np.load(tmp_path / "s.npy")
    assert arr.shape == (10, 28, 28) and arr.dtype == np.float32 and 0 <= arr.min() and arr.max() <= 1

    r = run_cli("sample", str(out), "--n", "16", "--out", str(tmp_path / "s.png"))
    assert r.returncode == 0, r.stderr
    assert Image.open(tmp_path / "s.png").size[0] > 28 * 4

    r = run_cli("evaluate", str(out), "--metrics", "likelihood", "reconstruction", "--n", "200", "--k", "5")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["model"] == "vae" and result["n_test"] == 200
    assert result["test_neg_elbo"] > 0 and result["test_recon_bce"] > 0
    # the importance-sampled bound is tighter than the ELBO (up to Monte Carlo noise)
    assert result["test_nll"] < result["test_neg_elbo"] + 1.0

    r = run_cli("train", "vae", "--epochs", "2", "--no-progress", "--out", str(out), "--resume")
    assert r.returncode == 0, r.stderr
    assert len(json.loads((out / "history.json").read_text())["train_seconds"]) == 2


def test_every_config_field_is_an_option():
    parser = cli.build_parser()
    for model, flags in {
        "gan": ["--k", "3", "--generator-loss", "minimax", "--conditional"],
        "vae": ["--estimator", "A", "--n-samples", "5"],
        "aae": ["--encoder", "universal", "--prior", "gaussian"],
    }.items():
        args = parser.parse_args(["train", model, *flags])
        assert args.model == model
    args = parser.parse_args(["train", "gan", "--k", "3", "--no-conditional"])
    assert args.k == 3 and args.conditional is False


@pytest.mark.parametrize(
    "argv, needles",
    [
        (["train", "foo"], ["invalid choice", "'foo'"]),
        (["train", "vae", "--latent-dim", "0"], ["latent_dim", "0", ">= 1"]),
        (["train", "gan", "--k", "0"], ["k", ">= 1"]),
        (["train", "vae", "--lr", "-1"], ["lr", "-1", "> 0"]),
        (["train", "vae", "--optimizer", "rmsprop"], ["optimizer", "rmsprop", "adam"]),
        (["train", "vae", "--estimator", "C"], ["estimator", "'C'"]),
        (["train", "aae", "--prior", "laplace"], ["prior", "laplace", "swiss-roll"]),
        (["train", "vae", "--epochs", "two"], ["epochs", "two"]),
    ],
)
def test_bad_values_give_one_line(argv, needles, capsys):
    with pytest.raises(SystemExit) as exit_info:
        code = cli.main(argv)
        raise SystemExit(code)
    assert exit_info.value.code == 2
    assert_one_line_error(capsys.readouterr().err, *needles)


def test_missing_and_corrupt_checkpoints(tmp_path: Path, capsys):
    assert cli.main(["sample", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.png")]) == 2
    assert_one_line_error(capsys.readouterr().err, "no checkpoint", "nowhere")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "checkpoint.pt").write_bytes(b"not a checkpoint at all")
    assert cli.main(["evaluate", str(bad)]) == 2
    assert_one_line_error(capsys.readouterr().err, "checkpoint.pt", "corrupt")


def test_sample_rejects_bad_output(tmp_path: Path, capsys):
    assert cli.main(["sample", str(tmp_path), "--out", str(tmp_path / "x.jpg")]) == 2
    assert_one_line_error(capsys.readouterr().err, ".npy", ".png", "x.jpg")


def test_missing_data_offline(tmp_path: Path, monkeypatch, capsys):
    """With no data and no network: one line naming the variable, the folder and the files."""
    from torchvision import datasets

    def no_network(self, *args, **kwargs):
        raise RuntimeError("Error downloading: no network")

    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    monkeypatch.setattr(datasets.MNIST, "download", no_network)
    data._load_idx.cache_clear()
    code = cli.main(["train", "vae", *TINY_VAE, "--out", str(tmp_path / "run")])
    data._load_idx.cache_clear()
    assert code == 2
    assert_one_line_error(
        capsys.readouterr().err, "THESIS_LIB_DATA", str(tmp_path / "MNIST" / "raw"), "train-images-idx3-ubyte"
    )
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


@pytest.mark.slow
def test_resume_refuses_other_settings(tmp_path: Path, capsys, require_mnist):
    out = tmp_path / "vae"
    assert cli.main(["train", "vae", *TINY_VAE, "--out", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["train", "vae", "--out", str(out), "--resume", "--lr", "0.1"]) == 2
    assert_one_line_error(capsys.readouterr().err, "--lr", "--epochs")


@pytest.mark.slow
def test_console_script_is_installed():
    script = shutil.which("thesis-lib", path=str(Path(sys.executable).parent)) or shutil.which("thesis-lib")
    assert script is not None
    r = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "train" in r.stdout


@pytest.mark.slow
def test_resume_accepts_the_options_it_was_trained_with(tmp_path: Path, capsys, require_mnist):
    """Re-running the same command with --resume (after Ctrl-C) continues the run; --epochs may grow."""
    out = tmp_path / "vae"
    same = ["--hidden-dims", "32", "--latent-dim", "2", "--no-progress", "--device", "cpu", "--out", str(out)]
    assert cli.main(["train", "vae", "--epochs", "1", *same]) == 0
    assert cli.main(["train", "vae", "--epochs", "1", *same, "--resume"]) == 0  # finished: nothing to do
    assert cli.main(["train", "vae", "--epochs", "2", *same, "--resume", "--threads", "1"]) == 0
    assert len(json.loads((out / "history.json").read_text())["train_seconds"]) == 2
    capsys.readouterr()
    assert cli.main(["train", "vae", *same, "--resume", "--lr", "0.1", "--seed", "3", "--hidden-dims", "16"]) == 2
    assert_one_line_error(
        capsys.readouterr().err,
        f"--lr is 0.1 but the run was trained with {VAESchedule().lr}",
        "--seed is 3 but the run was trained with 0",
        "--hidden-dims is 16 but the run was trained with 32",
        "--epochs",
    )


def test_train_out_pointing_at_a_file_is_refused_before_training(tmp_path: Path, monkeypatch, capsys):
    from thesis_lib import api

    def no_training(*args, **kwargs):
        raise AssertionError("the data was loaded: training started")

    monkeypatch.setattr(api, "load_dataset", no_training)
    file = tmp_path / "runs.txt"
    file.write_text("a file")
    for out in (file, file / "vae"):
        assert cli.main(["train", "vae", *TINY_VAE, "--out", str(out)]) == 2
        assert_one_line_error(
            capsys.readouterr().err, str(out), "is a file" if out == file else f"goes through the file {file}"
        )
        assert cli.main(["train", "vae", *TINY_VAE, "--out", str(out), "--resume"]) == 2
        assert_one_line_error(capsys.readouterr().err, str(out))


def test_train_out_that_cannot_be_created_is_refused_before_training(tmp_path: Path, monkeypatch, capsys):
    """``--out /proc/foo`` (a folder the system will not create) and a read-only parent get the usual
    one-line error before the data is loaded, not an [Errno 2] after an epoch of training."""
    from thesis_lib import api

    def no_training(*args, **kwargs):
        raise AssertionError("the data was loaded: training started")

    monkeypatch.setattr(api, "load_dataset", no_training)
    assert cli.main(["train", "vae", *TINY_VAE, "--out", "/proc/foo"]) == 2
    assert_one_line_error(
        capsys.readouterr().err, "the run folder /proc/foo cannot be created", "give a folder you can write to"
    )
    assert not Path("/proc/foo").exists()
    # a bad setting is reported before any folder is made for it
    assert cli.main(["train", "vae", *TINY_VAE, "--out", str(tmp_path / "new"), "--lr", "-1"]) == 2
    assert_one_line_error(capsys.readouterr().err, "lr must be a number > 0")
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("model", ["ae", "gan", "vae", "aae"])
def test_every_option_has_the_help_its_field_declares(model, capsys):
    """The help of every field of the model's config, its schedule and the System is the field's own
    (``setting(default, help)``), not parsed from a docstring, and each appears in ``--help``."""
    from thesis_lib.config.settings import field_help, field_types

    classes = (cli.CONFIGS[model], cli.CONFIGS[model].schedule_class, cli.System)
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["train", model, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for cls in classes:
        helps = field_help(cls)
        assert set(helps) == set(field_types(cls)), (
            f"{cls.__name__}: fields without help: {set(field_types(cls)) - set(helps)}"
        )
        for name, help_text in helps.items():
            assert help_text.strip(), (cls.__name__, name)
            assert " ".join(help_text.replace("``", "'").split())[:40] in text, (cls.__name__, name)


def test_options_come_in_three_groups_with_literal_choices(capsys):
    parser = cli.build_parser()
    args = parser.parse_args(
        ["train", "aae", "--reg-lr", "1e-3", "--latent-dim", "8", "--device", "cpu", "--threads", "2", "--no-progress"]
    )
    assert (args.reg_lr, args.latent_dim, args.device, args.threads, args.progress) == (1e-3, 8, "cpu", 2, False)
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "aae", "--help"])
    text = capsys.readouterr().out
    for group in ("model (AAEConfig)", "training schedule (AAESchedule)", "system (not part of the run)"):
        assert group in text, group
    assert "{deterministic,gaussian,universal}" in text and "{auto,cpu,cuda,mps}" in text
