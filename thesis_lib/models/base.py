"""What every model gives the shared trainer: its optimisers and its phases.

A *phase* is one ``zero_grad -> loss -> backward -> step`` on one optimiser. A model's
training iteration is its list of phases in order, each repeated ``repeats`` times:

* AE / VAE: ``[reconstruction]`` (one optimiser over everything);
* GAN (Algorithm 1): ``[D x k, G]``; each D step takes a fresh minibatch;
* AAE: ``[reconstruction, discriminator, encoder]`` on the same minibatch.

So adversarial training needs no special cases in the trainer: no ``retain_graph``, no
``if model == "gan"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Callable, ClassVar

import torch
from torch import Tensor, nn

from ..config import TrainConfig
from ..data import Dataset, dataset_classes, dataset_shape

StepFn = Callable[[Tensor, Tensor], dict[str, Tensor]]
OPTIMIZER_CLASSES = {"sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad, "adam": torch.optim.Adam}


@dataclass(frozen=True)
class Phase:
    """One step of a training iteration.

    Attributes:
        name: the name the loss is logged under (``"D"``, ``"G"``, ``"recon"`` ...).
        optimizer: key into :meth:`GenerativeModel.configure_optimizers`.
        step: ``step(x, y) -> {"loss": scalar to descend, **other scalars to log}``.
        repeats: how many times the phase runs per iteration (the GAN's k).
        new_batch: draw a fresh minibatch before each run; otherwise reuse the last one.
    """

    name: str
    optimizer: str
    step: StepFn
    repeats: int = 1
    new_batch: bool = True


class GenerativeModel(nn.Module):
    """Base class of the four models.

    Subclasses set ``config_class`` and implement :meth:`configure_optimizers`,
    :meth:`phases` and :meth:`sample`; the hooks :meth:`setup`, :meth:`after_epoch` and
    :meth:`evaluate` are optional.
    """

    config_class: ClassVar[type[TrainConfig]] = TrainConfig

    def __init__(self, config: TrainConfig):
        super().__init__()
        if not isinstance(config, self.config_class):
            raise TypeError(f"{type(self).__name__} needs a {self.config_class.__name__}, got {type(config).__name__}")
        self.config = config
        self.data_shape: tuple[int, ...] = dataset_shape(config.dataset)
        self.data_dim: int = prod(self.data_shape)
        self.n_classes: int = dataset_classes(config.dataset)
        self.images: bool = config.dataset in ("mnist", "fashion-mnist")

    # -- what the trainer needs ----------------------------------------------------
    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The model's optimisers, by name (the names its phases refer to)."""
        raise NotImplementedError

    def phases(self) -> list[Phase]:
        """The phases of one training iteration, in order."""
        raise NotImplementedError

    def setup(self, data: Dataset) -> None:
        """Called once before training with the training split (e.g. the VAE reads N)."""

    def after_epoch(self, data: Dataset) -> None:
        """Called after each epoch with the training split. Must not use the global RNG."""

    @torch.no_grad()
    def evaluate(self, x: Tensor, y: Tensor) -> dict[str, float]:
        """Per-example validation metrics on a batch (nats per example where it applies)."""
        return {}

    # -- what users need -----------------------------------------------------------
    def embed(self, x: Tensor) -> Tensor:
        """A deterministic latent code of x, shape (B, latent_dim), for plots and interpolation.

        AE: E(x); VAE: the posterior mean μ(x); AAE: the encoder's mean output. The GAN has no
        encoder and raises ``NotImplementedError``.
        """
        raise NotImplementedError(f"{type(self).__name__} has no encoder")

    def decode(self, z: Tensor) -> Tensor:
        """Map latent codes (B, latent_dim) to data space (pixels in [0, 1] for images)."""
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, n: int, labels: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        """``n`` new examples of shape ``(n, *data_shape)`` (pixels in [0, 1] for images)."""
        raise NotImplementedError

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def make_optimizer(self, params, lr: float | None = None) -> torch.optim.Optimizer:
        """An optimiser of the configured kind (``sgd``, ``adagrad`` or ``adam``)."""
        c = self.config
        lr = c.lr if lr is None else lr
        if c.optimizer == "sgd":
            return torch.optim.SGD(params, lr=lr, momentum=c.momentum)
        if c.optimizer == "adam":
            return torch.optim.Adam(params, lr=lr, betas=c.adam_betas)
        return OPTIMIZER_CLASSES[c.optimizer](params, lr=lr)

    def _randn(self, *shape: int, generator: torch.Generator | None = None) -> Tensor:
        """Standard normal noise on the model's device (from ``generator`` if given)."""
        if generator is not None and generator.device != self.device:
            return torch.randn(*shape, generator=generator).to(self.device)
        return torch.randn(*shape, generator=generator, device=self.device)

    def _output(self, raw: Tensor) -> Tensor:
        """Map a decoder's raw output to data space: sigmoid for pixels, identity for toy data."""
        raw = raw.view(raw.shape[0], *self.data_shape)
        return torch.sigmoid(raw) if self.images else raw
