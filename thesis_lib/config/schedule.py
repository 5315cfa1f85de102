"""The training schedule: how long, in which minibatches and with which optimiser a model is trained.

The trainer receives it explicitly (:class:`~thesis_lib.trainer.Trainer`), and models read the
optimiser settings from it in ``configure_optimizers(schedule)``. Each model has a subclass whose
defaults are its book chapter's (:class:`~thesis_lib.config.models.VAESchedule` ...), and may add
fields (the AAE's ``reg_lr``). The schedule is part of the run-cache key and of ``config.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from .settings import Settings, check_int, check_positive, check_range, setting


@dataclass
class Schedule(Settings):
    """Settings every training schedule has."""

    what: ClassVar[str] = "schedule"

    epochs: int = setting(
        10,
        "passes over the training split (train[:50000] for the image sets).",
    )
    batch_size: int = setting(
        128,
        "minibatch size m (Algorithm 1) or M (Algorithm 2).",
    )
    lr: float = setting(
        1e-3,
        "learning rate of every optimiser the model declares (models may scale it per optimiser).",
    )
    optimizer: Literal["sgd", "adagrad", "adam"] = setting(
        "adam",
        "the optimiser of every phase (Adagrad is the VAE paper's, Adam the chapters').",
    )
    momentum: float = setting(
        0.0,
        "SGD momentum (ignored by the other optimisers).",
    )
    adam_betas: tuple[float, float] = setting(
        (0.9, 0.999),
        "Adam's (beta1, beta2).",
    )
    seed: int = setting(
        0,
        "seeds Python, NumPy and PyTorch; CPU runs are repeatable bit for bit.",
    )
    binarize: bool = setting(
        False,
        "dynamic binarisation: every minibatch is resampled as Bernoulli(pixel).",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("epochs", self.epochs)
        check_int("batch_size", self.batch_size)
        check_positive("lr", self.lr)
        check_range("momentum", self.momentum, 0.0, 1.0, high_open=True)
        if not (isinstance(self.adam_betas, tuple) and len(self.adam_betas) == 2):
            raise ValueError(f"adam_betas must be two numbers in [0, 1), got {self.adam_betas!r}")
        for b in self.adam_betas:
            check_range("adam_betas", b, 0.0, 1.0, high_open=True)
        check_int("seed", self.seed, minimum=0)
