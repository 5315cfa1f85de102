"""The papers' MNIST results, re-measured: one registry entry per reported figure.

``thesis-lib reproduce NAME`` trains the entry's runs (resumable: Ctrl-C and run it again),
evaluates them with :mod:`thesis_lib.metrics` and writes ``thesis_lib/results/papers/NAME.json`` (and
a grid of samples per run, ``NAME-LABEL.png``), which the book's "papers" page reads. The results
are package data: the installed library carries them (the comparison and papers pages read them
on Colab too).
Re-running the command regenerates the file; the numbers in the book are never typed in.

    thesis-lib reproduce --list
    thesis-lib reproduce gan-parzen
"""

from __future__ import annotations

import json
import platform
import re
from pathlib import Path

import torch

from .config import AAEConfig, AEConfig, GANConfig, VAEConfig, run_config
from .experiment import STORED_SNAPSHOTS, STORED_STEPS, Experiment
from .failures import FAILURES, GALLERY, failing_runs
from .seed import select_device

__all__ = ["EXPERIMENTS", "FAILURES", "Experiment", "failing_runs", "reproduce", "load_result", "stored_results_dir"]

RUNS_DIR = Path("runs") / "papers"
RESULTS_DIR = Path(__file__).resolve().parent / "results" / "papers"  # package data, committed


EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in (
        Experiment(
            name="ae-latent-sizes",
            paper="This book, chapter 1.1, the exercise 'How big should the code be?'",
            reported={},
            note=(
                "The chapter's autoencoder (AEConfig(), AESchedule()) with codes of 2, 10 and 32 numbers; 'quality' "
                "scores 10,000 samples decoded from the Gaussian fitted to the codes."
            ),
            runs={f"latent_dim = {d}": run_config(AEConfig(latent_dim=d)) for d in (2, 10, 32)},
            metrics=("reconstruction", "quality"),
        ),
        Experiment(
            name="gan-parzen",
            paper="Goodfellow et al. (2014), Table 1: Parzen window log-likelihood of MNIST test images",
            reported={"parzen_ll": 225.0, "parzen_se": 2.0},
            note=(
                "The chapter's recipe (Algorithm 1 with k = 1 and the non-saturating loss, an MLP generator with "
                "batch normalisation whose output starts at the data's mean image, a leaky-ReLU MLP discriminator, "
                "Adam with beta1 = 0, sampling with a moving average of G) with the paper's 100-dimensional noise "
                "and minibatches of 100, for 30 epochs; the paper used a 1200-1200 generator (which scored no higher "
                "than the chapter's 256-512 in a 10-epoch trial run here), a maxout discriminator with dropout, SGD "
                "with momentum, and sampled with G itself."
            ),
            runs={"gan": run_config(GANConfig(latent_dim=100), epochs=30, batch_size=100)},
            metrics=("parzen", "quality"),
            real_data=True,
            diagnose=True,
        ),
        Experiment(
            name="gan-recipe",
            paper="This book, chapter 1.2: what each choice of the GAN chapter's recipe buys (an ablation)",
            reported={},
            note=(
                "The chapter's GAN (GANConfig(), GANSchedule()) and the same run with one choice undone at a time; "
                "every run is scored with the moving average of G (the chapter compares G itself with its average in "
                "the page)."
            ),
            runs={
                "the chapter's recipe": run_config(GANConfig()),
                "G starts from zero, not from the mean digit": run_config(GANConfig(data_init=False)),
                "Adam beta1 = 0.5 (instead of 0)": run_config(GANConfig(), adam_betas=(0.5, 0.999)),
                "Adam beta1 = 0.5, lr 3e-4 (the usual DCGAN setting)": run_config(
                    GANConfig(), adam_betas=(0.5, 0.999), lr=3e-4
                ),
                "dropout 0.5 in D (as in the paper)": run_config(GANConfig(dropout=0.5)),
            },
            metrics=("parzen", "quality"),
        ),
        Experiment(
            name="gan-seeds",
            paper="This book, chapter 1.2: how much the chapter's GAN varies from one training seed to another",
            reported={},
            note=(
                "The chapter's GAN (GANConfig(), GANSchedule()) trained with three seeds (initial weights, noise and "
                "minibatch order); the spread of their scores is the yardstick for the differences in the gan-recipe "
                "ablation."
            ),
            runs={f"seed {s}": run_config(GANConfig(), seed=s) for s in (0, 1, 2)},
            metrics=("parzen", "quality"),
        ),
        Experiment(
            name="gan-arch",
            paper=(
                "This book, chapter 1.2: a convolutional GAN (DCGAN) against the chapter's MLP GAN, per update and "
                "per second"
            ),
            reported={},
            note=(
                "One epoch of each (the same schedule, so the same number of updates of each player); the training "
                "seconds are measured in the same session on the same machine, so their ratio is meaningful where "
                "their values are not."
            ),
            runs={
                "convolutional, 1 epoch": run_config(GANConfig(arch="conv"), epochs=1),
                "MLP, 1 epoch": run_config(GANConfig(), epochs=1),
            },
            metrics=("parzen", "quality"),
        ),
        Experiment(
            name="gan-balance",
            paper=(
                "This book, chapter 1.2, the exercise 'The balance between D and G': k and the generator loss after "
                "one epoch"
            ),
            reported={},
            note=(
                "The chapter's GAN for one epoch with k = 1 or 5 discriminator steps per generator step and the "
                "non-saturating or the minimax generator loss of Algorithm 1."
            ),
            runs={
                "k = 1, non-saturating (the chapter's)": run_config(GANConfig(), epochs=1),
                "k = 5, non-saturating": run_config(GANConfig(k=5), epochs=1),
                "k = 1, minimax": run_config(GANConfig(generator_loss="minimax"), epochs=1),
                "k = 5, minimax": run_config(GANConfig(k=5, generator_loss="minimax"), epochs=1),
            },
            metrics=("quality",),
        ),
        Experiment(
            name="aae-parzen",
            paper="Makhzani et al. (2016), Table 1: Parzen window log-likelihood of MNIST test images",
            reported={"parzen_ll": 340.0, "parzen_se": 2.0},
            note=(
                "The paper's setting as a public reproduction ran it: encoder and decoder 2 x 1200 units and a 2 x "
                "1000 discriminator, dropout 0.2, latent dimension 8, prior N(0, 5^2 I), Adam with lr 2e-4 "
                "(reconstruction) and 1e-4 (regularisation); 25 epochs on 2 CPU cores, where the paper trained far "
                "longer."
            ),
            runs={
                "aae": run_config(
                    AAEConfig(
                        latent_dim=8, hidden_dims=(1200, 1200), d_hidden=(1000, 1000), dropout=0.2, prior_std=5.0
                    ),
                    epochs=25,
                    lr=2e-4,
                    reg_lr=1e-4,
                )
            },
            metrics=("parzen", "quality"),
            real_data=True,
        ),
        Experiment(
            name="aae-balance",
            paper="This book, chapter 1.4, the exercise 'The balance of the game': the regulariser's learning rate",
            reported={},
            note=(
                "The chapter's AAE for 3 epochs with the chapter's reg_lr, one ten times weaker and one ten times "
                "stronger; 'quality' scores 10,000 decoded prior samples."
            ),
            runs={
                "the chapter's reg_lr = 2e-4": run_config(AAEConfig(), epochs=3),
                "reg_lr = 2e-5 (ten times weaker)": run_config(AAEConfig(), epochs=3, reg_lr=2e-5),
                "reg_lr = 2e-3 (ten times stronger)": run_config(AAEConfig(), epochs=3, reg_lr=2e-3),
            },
            metrics=("quality", "reconstruction"),
            codes=True,
        ),
        Experiment(
            name="aae-encoders",
            paper="This book, chapter 1.4, the exercise 'Deterministic, Gaussian or universal encoder?'",
            reported={},
            note=(
                "The chapter's AAE (AAEConfig(), AAESchedule()) with each of the three kinds of encoder, for the "
                "chapter's 6 epochs."
            ),
            runs={
                "deterministic (the chapter's)": run_config(AAEConfig()),
                "Gaussian": run_config(AAEConfig(encoder="gaussian")),
                "universal approximator": run_config(AAEConfig(encoder="universal")),
            },
            metrics=("quality", "reconstruction"),
        ),
        Experiment(
            name="aae-vs-vae",
            paper=(
                "Makhzani et al. (2016), Section 2 and Figure 2: an AAE against a VAE with the same prior and the "
                "same networks"
            ),
            reported={},
            note=(
                "The VAE chapter's networks (encoder 784-512-256, the decoder mirroring it) for both models, in 2 "
                "and in 8 latent dimensions, and a Gaussian prior: N(0, I) for the VAE and the AAE chapter's N(0, "
                "5^2 I) for the AAE (the same family: a VAE with the prior N(0, 25 I) is the VAE with N(0, I) with "
                "its codes scaled by 5, which its encoder and decoder absorb, and its KL is the same; the AAE's game "
                "needs the broad prior to balance reconstruction and regularisation). The VAE with Adam at lr 1e-3, "
                "the deterministic AAE with its chapter's (Adam, lr 1e-3, betas (0.5, 0.999), reg_lr 2e-4), both for "
                "10 epochs on minibatches of 100. The paper used other networks, and a mixture and a swiss roll "
                "besides the Gaussian."
            ),
            runs={
                f"{model}, {d}-D": run_config(config, epochs=10, batch_size=100, lr=1e-3)
                for d in (2, 8)
                for model, config in (
                    ("VAE", VAEConfig(latent_dim=d, hidden_dims=(512, 256))),
                    ("AAE", AAEConfig(latent_dim=d, hidden_dims=(512, 256))),
                )
            },
            metrics=("reconstruction", "quality", "likelihood"),
            codes=True,
            proposal_scales=(0.03, 0.1, 0.3, 1.0),
        ),
        Experiment(
            name="vae-latent-sizes",
            paper="Kingma & Welling (2013), Figure 2: lower bound on MNIST for several latent sizes N_z",
            reported={},
            note=(
                "Algorithm 2 as in the paper (Adagrad, M = 100, L = 1, one hidden layer of 500 units, the N/M-scaled "
                "objective, dynamically binarised images) but for 30 epochs instead of up to 10^8 training samples; "
                "the test curve is the bound on the validation images train[50000:60000]."
            ),
            runs={
                f"N_z={n}": run_config(
                    VAEConfig(latent_dim=n, hidden_dims=(500,), objective="dataset"),
                    epochs=30,
                    batch_size=100,
                    optimizer="adagrad",
                    lr=0.02,
                    binarize=True,
                )
                for n in (3, 5, 10, 20)
            },
            metrics=("likelihood",),
        ),
        Experiment(
            name="vae-nll",
            paper=(
                "Burda et al. (2016, IWAE), Table 1: importance-sampled NLL (k = 5000) of a one-stochastic-layer VAE "
                "on dynamically binarised MNIST"
            ),
            reported={"test_nll": 86.76},
            note=(
                "The IWAE paper's architecture (two hidden layers of 200 units, 50 latent dimensions), ReLU instead "
                "of tanh, Adam, dynamic binarisation; trained for 60 epochs instead of 3,280 passes."
            ),
            runs={
                "vae": run_config(
                    VAEConfig(latent_dim=50, hidden_dims=(200, 200)), epochs=60, batch_size=100, lr=1e-3, binarize=True
                )
            },
            metrics=("likelihood",),
            evaluate={"k": 5000},
        ),
        *GALLERY,
    )
}
"""Every stored experiment: the papers' figures, the chapters' long experiments, then the gallery of failures."""


def _slug(label: str) -> str:
    """A run's label as a file name: ``"N_z=3"`` -> ``"N_z3"``, ``"dropout 0.5 in D"`` -> ``"dropout-0.5-in-D"``."""
    return re.sub(r"[^\w.]+", "-", label.replace("=", "")).strip("-")


def _result_path(name: str, results_dir: Path) -> Path:
    return Path(results_dir) / f"{name}.json"


def reproduce(
    name: str, *, runs_dir: str | Path = RUNS_DIR, results_dir: str | Path = RESULTS_DIR, progress: bool = True
) -> dict:
    """Train (or resume) the runs of experiment ``name``, evaluate them and write its JSON file."""
    from .api import train
    from .cache import atomic_write
    from .checkpoint import CHECKPOINT
    from .data import load_dataset
    from .diagnosis import findings, measure_run
    from .metrics import evaluate_model, evaluate_real, parzen_diagnosis

    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; allowed: {', '.join(EXPERIMENTS)}")
    exp = EXPERIMENTS[name]
    rows = []
    for label, config in exp.runs.items():
        out = Path(runs_dir) / name / _slug(label)
        run = train(config, out, resume=(out / CHECKPOINT).exists(), progress=progress)
        if run.interrupted:
            raise KeyboardInterrupt
        row = {
            "label": label,
            "config": config.to_dict(),
            "epochs": run.epoch,
            "train_seconds": round(sum(run.history.train_seconds), 1),
        }
        if exp.metrics:
            row["metrics"] = evaluate_model(
                run.model, exp.metrics, progress=progress, **{"binarize": config.schedule.binarize, **exp.evaluate}
            )
        row["curves"] = dict(run.history.epochs)  # every per-epoch log: losses, D's outputs, val/...
        if exp.steps:
            row["steps"] = {k: run.history.steps[k][:STORED_STEPS] for k in exp.steps if k in run.history.steps}
        if exp.expect:
            row["evidence"] = measure_run(run)
            row["findings"] = [f.name for f in findings(row["evidence"])]
            if exp.fails(label):
                row["snapshots"] = _save_snapshots(out, Path(results_dir) / f"{name}-{_slug(label)}-snapshots.pt")
        if exp.diagnose:
            row["diagnosis"] = parzen_diagnosis(
                run.model.sample(10_000, generator=torch.Generator().manual_seed(0)).cpu()
            )
        save = _save_samples if run.model.images else _save_points
        row["samples"] = save(run.model, Path(results_dir) / f"{name}-{_slug(label)}.png")
        if exp.codes and run.model.has_encoder:
            row["codes"] = _save_codes(run.model, Path(results_dir) / f"{name}-{_slug(label)}-codes.png")
        if exp.proposal_scales and run.model.defines_likelihood and run.model.has_encoder:
            row["nll_by_proposal_scale"] = _proposal_scan(
                run.model, exp.proposal_scales, binarize=config.schedule.binarize
            )
        rows.append(row)
    result = {
        "name": name,
        "paper": exp.paper,
        "reported": exp.reported,
        "note": exp.note,
        "command": f"thesis-lib reproduce {name}",
        "runs": rows,
        "real_data": evaluate_real("mnist", exp.metrics, progress=progress) if exp.real_data else None,
        "real_diagnosis": parzen_diagnosis(load_dataset("mnist", "train").x[:10_000]) if exp.diagnose else None,
        "machine": {
            "torch": torch.__version__,
            "device": str(select_device("auto")),
            "threads": torch.get_num_threads(),
            "cpu": platform.machine(),
        },
    }
    path = _result_path(name, Path(results_dir))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda p: Path(p).write_text(json.dumps(result, indent=1) + "\n"))
    return result


def _save_samples(model, path: Path) -> str:
    """A grid of 100 samples (seed 0) beside the JSON, so the page can show what was scored."""
    from torchvision.utils import save_image

    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(
        model.sample(100, generator=torch.Generator().manual_seed(0)).cpu(), path, nrow=10, padding=2, pad_value=1.0
    )
    return path.name


def _save_points(model, path: Path) -> str:
    """2,000 samples (seed 0) of a 2-D model over 2,000 points of its data, beside the JSON, in the same frame for
    every run of the data (2.5 times the data's extent), so that runs compare side by side."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .data import load_dataset

    data = load_dataset(model.config.dataset, "test").x[:2000]
    x = model.sample(2000, generator=torch.Generator().manual_seed(0)).cpu()
    fig, ax = plt.subplots(figsize=(3.2, 3.2))
    ax.scatter(data[:, 0], data[:, 1], s=2, c="0.75", label="data")
    ax.scatter(x[:, 0], x[:, 1], s=2, c="C3", label="samples")
    limit = 2.5 * data.abs().max().item()
    ax.set(xlim=(-limit, limit), ylim=(-limit, limit), aspect="equal")
    ax.set_axis_off()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path.name


def _save_snapshots(run_dir: Path, path: Path) -> str:
    """The run's training snapshots, at most :data:`STORED_SNAPSHOTS` of them, beside the JSON (for its replay)."""
    from .snapshots import load_snapshots, save_snapshots, thin

    save_snapshots(thin(load_snapshots(run_dir), STORED_SNAPSHOTS), path)
    return path.name


def _save_codes(model, path: Path) -> str:
    """``plots.prior_vs_posterior`` of 5,000 test images, beside the JSON."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .data import load_dataset
    from .plots import prior_vs_posterior

    fig = prior_vs_posterior(model, load_dataset("mnist", "test"), n=5000)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path.name


def _proposal_scan(model, scales: tuple[float, ...], binarize: bool) -> dict[str, float]:
    """-log p(x) of the first 1,000 test images by importance sampling around the codes, per proposal width."""
    from .data import load_dataset
    from .metrics import binarized, importance_sampled_nll

    test = load_dataset("mnist", "test").subset(1000)
    test = binarized(test) if binarize else test
    return {str(s): importance_sampled_nll(model, test, k=100, proposal_scale=s)["nll"] for s in scales}


def stored_results_dir() -> Path:
    """The package's ``results/papers`` folder (absolute), where the committed results live."""
    return RESULTS_DIR


def load_result(name: str, results_dir: str | Path | None = None) -> dict:
    """The stored result of experiment ``name`` (what the book's page reads)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; allowed: {', '.join(EXPERIMENTS)}")
    path = _result_path(name, Path(results_dir) if results_dir is not None else stored_results_dir())
    if not path.exists():
        raise FileNotFoundError(f"no stored result at {path}: run 'thesis-lib reproduce {name}'")
    return json.loads(path.read_text())
