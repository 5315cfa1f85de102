"""The gallery of failures: the stored experiments of the page "When training goes wrong" (book/failures.ipynb).

Each is an :class:`~thesis_lib.experiment.Experiment` named ``failure-<signature>`` whose ``expect`` says which
failure signatures of :mod:`thesis_lib.diagnosis` each of its runs must show (``()`` for a cure); the registry
(:data:`thesis_lib.papers.EXPERIMENTS`) holds them beside the papers' figures, and ``thesis-lib reproduce NAME``
re-makes them (about 3 minutes for all seven on two CPU cores).
"""

from __future__ import annotations

import dataclasses

from .config import AAEConfig, GANConfig, VAEConfig, run_config
from .experiment import Experiment

GAN_2014 = GANConfig(data_init=False, ema=0.0)
"""The GAN of Goodfellow et al. (2014) in the chapter's networks, without the chapter recipe's later tricks: G starts
from zero, not from the mean digit, and is sampled itself, not its moving average (with :data:`ADAM_2014`)."""
ADAM_2014 = {"adam_betas": (0.5, 0.999), "lr": 2e-4}
"""The usual Adam setting of the GAN papers of 2014-2016 (Radford et al. 2016), in place of the chapter's (0, 0.99)
and 2e-3."""
ADAM_2014_FAST = {**ADAM_2014, "lr": 2e-3}
"""The same Adam at the chapter's learning rate, where the mode-collapse runs start."""
RING_2014 = dataclasses.replace(GAN_2014, dataset="mixture-2d")
"""The GAN of 2014 on the ring of ten Gaussians."""


GALLERY: tuple[Experiment, ...] = (
    Experiment(
        name="failure-mode-collapse-ring",
        paper="This book, 'When training goes wrong': mode collapse on the ring of ten Gaussians",
        reported={},
        note=(
            "The GAN of 2014 (G starts from zero and is sampled itself; Adam (0.5, 0.999)) at lr 2e-3 on the "
            "ring of ten Gaussians (mixture-2d), for 3 epochs: with D's learning rate a tenth of G's it fails; "
            "with one rate for both it is cured."
        ),
        runs={
            "fails": run_config(
                RING_2014,
                epochs=3,
                **ADAM_2014_FAST,
                d_lr_factor=0.1,
            ),
            "cured": run_config(RING_2014, epochs=3, **ADAM_2014_FAST),
        },
        metrics=(),
        expect={"fails": ("mode-collapse",), "cured": ()},
    ),
    Experiment(
        name="failure-mode-collapse",
        paper="This book, 'When training goes wrong': mode collapse on MNIST",
        reported={},
        note=(
            "The GAN of 2014 (G starts from zero and is sampled itself; Adam (0.5, 0.999)) at lr 2e-3 with D's "
            "learning rate a tenth of G's, for one epoch, fails; the chapter's recipe with the same slow D is "
            "cured, and so, less well, is the failing run with Adam's momentum off (beta1 = 0, as the recipe's)."
        ),
        runs={
            "fails": run_config(GAN_2014, epochs=1, **ADAM_2014_FAST, d_lr_factor=0.1),
            "cured": run_config(GANConfig(), epochs=1, d_lr_factor=0.1),
            "momentum off": run_config(GAN_2014, epochs=1, lr=2e-3, adam_betas=(0.0, 0.99), d_lr_factor=0.1),
        },
        metrics=(),
        expect={"fails": ("mode-collapse",), "cured": (), "momentum off": ()},
    ),
    Experiment(
        name="failure-saturating-generator",
        paper="This book, 'When training goes wrong': the minimax generator loss saturates",
        reported={},
        note=(
            "The GAN of 2014 (G starts from zero and is sampled itself; Adam (0.5, 0.999), lr 2e-4) with D's "
            "learning rate ten times G's, for one epoch: with the minimax generator loss of Algorithm 1 it "
            "fails; the non-saturating loss cures the saturation (D, ten times faster, still leads: "
            "discriminator-wins, a failure of its own)."
        ),
        runs={
            "fails": run_config(
                dataclasses.replace(GAN_2014, generator_loss="minimax"), epochs=1, **ADAM_2014, d_lr_factor=10.0
            ),
            "cured": run_config(GAN_2014, epochs=1, **ADAM_2014, d_lr_factor=10.0),
        },
        metrics=(),
        expect={"fails": ("saturating-generator",), "cured": ("discriminator-wins",)},
        steps=("D(x)", "D(G(z))"),
    ),
    Experiment(
        name="failure-discriminator-wins",
        paper="This book, 'When training goes wrong': a discriminator that overpowers the generator",
        reported={},
        note=(
            "The chapter's GAN for one epoch with k = 5 discriminator steps per generator step fails; k = 1 cures it."
        ),
        runs={
            "fails": run_config(GANConfig(k=5), epochs=1),
            "cured": run_config(GANConfig(), epochs=1),
        },
        metrics=(),
        expect={"fails": ("discriminator-wins",), "cured": ()},
        steps=("D(x)", "D(G(z))"),
    ),
    Experiment(
        name="failure-posterior-collapse",
        paper="This book, 'When training goes wrong': posterior collapse and inactive latent units",
        reported={},
        note=(
            "The chapter's 32-D VAE for 10 epochs descending the bound with its KL term weighted 8 times (the "
            "beta-VAE's beta = 8) fails; the bound itself (beta = 1) is the cure."
        ),
        runs={
            "fails": run_config(VAEConfig(kl_weight=8.0), epochs=10),
            "cured": run_config(VAEConfig(), epochs=10),
        },
        metrics=(),
        expect={"fails": ("posterior-collapse",), "cured": ()},
    ),
    Experiment(
        name="failure-pixel-mean-loss",
        paper="This book, 'When training goes wrong': a mean over pixels where the bound needs a sum",
        reported={},
        note=(
            "The chapter's 32-D VAE for 3 epochs: descending the reconstruction term averaged over the pixels "
            "plus the summed KL fails; the bound (both summed) is the cure."
        ),
        runs={
            "fails": run_config(VAEConfig(objective="pixel-mean"), epochs=3),
            "cured": run_config(VAEConfig(), epochs=3),
        },
        metrics=(),
        expect={"fails": ("pixel-mean-loss",), "cured": ()},
    ),
    Experiment(
        name="failure-aae-regularisation",
        paper="This book, 'When training goes wrong': an AAE's regularisation too weak or too strong",
        reported={},
        note=(
            "The chapter's AAE for 3 epochs with the regularisation phase's learning rate ten times lower or "
            "ten times higher than the chapter's, and the chapter's own (the cure of both)."
        ),
        runs={
            "too weak": run_config(AAEConfig(), epochs=3, reg_lr=2e-5),
            "too strong": run_config(AAEConfig(), epochs=3, reg_lr=2e-3),
            "cured": run_config(AAEConfig(), epochs=3),
        },
        metrics=(),
        codes=True,
        expect={"too weak": ("weak-regularisation",), "too strong": ("strong-regularisation",), "cured": ()},
    ),
)
"""The failures in the page's order of sections (a section may show two experiments)."""
FAILURES = tuple(e.name for e in GALLERY)
"""The gallery's experiment names."""


def failing_runs() -> list[tuple[str, str, tuple[str, ...]]]:
    """The gallery's failing runs: (experiment, run label, the signatures it shows), in the gallery's order."""
    return [(e.name, label, signatures) for e in GALLERY for label, signatures in e.expect.items() if e.fails(label)]
