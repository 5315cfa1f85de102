"""What every model gives the shared trainer, and the vocabulary every outer module uses.

**The trainer's contract.** A *phase* is one ``zero_grad -> loss -> backward -> step`` on one
optimiser. A model's training iteration is its list of phases in order, each repeated ``repeats``
times:

* AE / VAE: ``[reconstruction]`` (one optimiser over everything);
* GAN (Algorithm 1): ``[D x k, G]``; each D step takes a fresh minibatch;
* AAE: ``[reconstruction, discriminator, encoder]`` on the same minibatch.

So adversarial training needs no special cases in the trainer: no ``retain_graph``, no
``if model == "gan"``.

**The shared vocabulary.** :mod:`~thesis_lib.latent`, :mod:`~thesis_lib.plots`,
:mod:`~thesis_lib.widgets` and :mod:`~thesis_lib.metrics` never ask which model they hold; they
use only what :class:`GenerativeModel` declares:

* ``decode(z, labels=None)``, ``sample_prior(n, labels=None)``, ``sample(n, labels=None)``;
* ``has_encoder``, ``encode(x)`` (a sample z ~ q(z|x)) and the deterministic ``embed(x)``;
* ``needs_labels`` (the decoder takes the class), ``class_conditional`` (sampling can pick the
  class), ``class_names``, ``prior_name``, ``corrupt(x)`` (the training input);
* ``explorer_axes()``: a model's own slider axes for the latent explorer (most have none);
* ``metric_groups``, and for the ``likelihood`` group ``elbo(x)`` and ``log_weights(x, k)``
  (``has_posterior``: a trained q(z|x) with a density);
* ``defines_likelihood``, ``log_prior(z)`` and ``log_px_given_z(x, z)``: the model p(x) =
  ∫ p(x|z) p(z) dz, which any decoder with a density and a prior with a density defines, with or
  without a trained q(z|x) to estimate it with.
* ``has_bernoulli_decoder`` and ``bernoulli_logits(z)``: the logits of a Bernoulli p(x|z).

A new model gets the plots, widgets and metrics by implementing these.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Callable, ClassVar, NamedTuple

import torch
from torch import Tensor, nn

from ..config import ModelConfig, Schedule
from ..data import IMAGE_DATASETS, Dataset, class_names, dataset_classes, dataset_shape

StepFn = Callable[[Tensor, Tensor], dict[str, Tensor]]


@dataclass(frozen=True)
class Phase:
    """One step of a training iteration.

    Attributes:
        name: the name the loss is logged under (``"D"``, ``"G"``, ``"recon"``, ``"-elbo"`` ...).
        optimizer: key into :meth:`GenerativeModel.configure_optimizers`.
        step: ``step(x, y) -> {"loss": per-example loss, **other scalars to log}``; the trainer
            descends ``"objective"`` instead when the step returns one (the VAE's minibatch sum),
            and logs it as ``"<name> objective"``, so logged losses are always per example.
        repeats: how many times the phase runs per iteration (the GAN's k).
        new_batch: draw a fresh minibatch before each run; otherwise reuse the last one.
        after_step: called after each optimiser step of the phase (the GAN's moving average of G).
    """

    name: str
    optimizer: str
    step: StepFn
    repeats: int = 1
    new_batch: bool = True
    after_step: Callable[[], None] | None = None


class ELBOTerms(NamedTuple):
    """Per-example terms of one lower-bound estimate (shape (B,), nats)."""

    elbo: Tensor
    kl: Tensor  # analytic KL for estimator B; the Monte Carlo log q - log p for estimator A
    log_px_given_z: Tensor  # the reconstruction term, averaged over the L samples


@dataclass(frozen=True)
class LatentAxes:
    """Slider axes of a latent explorer: ``z = base + Σ_i value_i * directions[i]``, value_i in ``limits[i]``.

    Attributes:
        base: ``(d,)``; directions: ``(k, d)``; limits: ``(k, 2)`` as ``(low, high)`` rows.
        labels: one name per slider; description: what the sliders mean (the explorer's title).
    """

    base: Tensor
    directions: Tensor
    limits: Tensor
    labels: tuple[str, ...]
    description: str


class GenerativeModel(nn.Module):
    """Base class of the four models.

    Subclasses set ``config_class`` and implement :meth:`configure_optimizers`, :meth:`phases`,
    :meth:`decode` and :meth:`sample_prior` (and :meth:`embed` / :meth:`encode` when
    ``has_encoder``); the other methods have defaults that fit most models.
    """

    config_class: ClassVar[type[ModelConfig]] = ModelConfig
    has_encoder: ClassVar[bool] = True
    """Whether data has codes: ``embed``, ``encode`` and reconstructions exist."""
    has_posterior: bool = False
    """Whether the model has a trained posterior approximation q(z|x) with a density (the VAE's
    encoder, an AAE's Gaussian encoder with the Gaussian prior): the ``likelihood`` metrics,
    :meth:`elbo` and :meth:`log_weights`, use it as their proposal. A model without one may still
    define a likelihood (:attr:`defines_likelihood`); it only lacks a proposal fitted to it."""
    has_bernoulli_decoder: bool = False
    """Whether p(x|z) is a product of Bernoullis whose logits :meth:`bernoulli_logits` gives."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        if not isinstance(config, self.config_class):
            raise TypeError(f"{type(self).__name__} needs a {self.config_class.__name__}, got {type(config).__name__}")
        self.config = config
        self.data_shape: tuple[int, ...] = dataset_shape(config.dataset)
        self.data_dim: int = prod(self.data_shape)
        self.n_classes: int = dataset_classes(config.dataset)
        self.images: bool = config.dataset in IMAGE_DATASETS

    # -- what the trainer needs ----------------------------------------------------
    def configure_optimizers(self, schedule: Schedule) -> dict[str, torch.optim.Optimizer]:
        """The model's optimisers, by name (the names its phases refer to), set up from ``schedule``."""
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

    def make_optimizer(self, params, schedule: Schedule, lr: float | None = None) -> torch.optim.Optimizer:
        """An optimiser of the schedule's kind (``sgd``, ``adagrad`` or ``adam``), at ``lr`` (default
        ``schedule.lr``)."""
        lr = schedule.lr if lr is None else lr
        if schedule.optimizer == "sgd":
            return torch.optim.SGD(params, lr=lr, momentum=schedule.momentum)
        if schedule.optimizer == "adam":
            # fused: one kernel for the whole update instead of a dozen tensor ops per parameter
            # (same arithmetic up to float rounding; about a quarter off a CPU training step here)
            return torch.optim.Adam(params, lr=lr, betas=schedule.adam_betas, fused=True)
        return torch.optim.Adagrad(params, lr=lr)  # the VAE paper's

    # -- the latent space ------------------------------------------------------------
    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def encode(self, x: Tensor) -> Tensor:
        """A code z ~ q(z|x), shape (B, latent_dim) (deterministic for a deterministic encoder)."""
        return self.embed(x)

    def embed(self, x: Tensor) -> Tensor:
        """A deterministic code of x, shape (B, latent_dim), for plots, interpolation and reconstructions."""
        raise NotImplementedError(f"{type(self).__name__} has no encoder")

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Latent points (B, latent_dim) in data space (pixels in [0, 1]); ``labels`` when :attr:`needs_labels`."""
        raise NotImplementedError

    def sample_prior(self, n: int, labels: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        """``n`` latent points z ~ p(z), the distribution :meth:`sample` decodes (from class ``labels``' region, if it
        has one)."""
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, n: int, labels: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        """``n`` new examples ``decode(z, labels)``, z ~ :meth:`sample_prior`, shape ``(n, *data_shape)``.

        A :attr:`class_conditional` model without ``labels`` cycles through the classes 0, 1, ...
        """
        if labels is None and self.class_conditional:
            labels = torch.arange(n) % self.n_classes
        if labels is not None:
            labels = labels.to(self.device)
        return self.decode(self.sample_prior(n, labels, generator), labels)

    @property
    def needs_labels(self) -> bool:
        """Whether :meth:`decode` needs the class: the label enters the decoder (a conditional GAN)."""
        return False

    @property
    def class_conditional(self) -> bool:
        """Whether sampling can be asked for a class (through the decoder or the prior)."""
        return self.needs_labels

    @property
    def class_names(self) -> list[str]:
        """The names of the label classes (for legends, rows and selectors)."""
        return class_names(self.config.dataset, self.n_classes)

    @property
    def prior_name(self) -> str:
        """A short name of p(z), for titles."""
        return "N(0, I)"

    def corrupt(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """The input the model is trained on for the clean ``x``: ``x`` itself unless the model corrupts it."""
        return x

    def explorer_axes(self, n_sliders: int, generator: torch.Generator) -> LatentAxes | None:
        """The model's own slider axes for a latent explorer without data; ``None``: span samples of the prior."""
        return None

    # -- metrics -------------------------------------------------------------------
    @property
    def metric_groups(self) -> tuple[str, ...]:
        """The groups of :mod:`thesis_lib.metrics` that apply: ``parzen`` and ``quality`` (any image
        model: they need only samples), ``likelihood`` (:attr:`has_posterior`) and
        ``reconstruction`` (:attr:`has_encoder`)."""
        if not self.images:
            return ()
        return (
            ("parzen", "quality")
            + (("likelihood",) if self.has_posterior else ())
            + (("reconstruction",) if self.has_encoder else ())
        )

    def elbo(self, x: Tensor, n_samples: int | None = None, estimator: str | None = None) -> ELBOTerms:
        """The per-example evidence lower bound by estimator A or B (models with :attr:`has_posterior`)."""
        raise NotImplementedError(f"{type(self).__name__} has no trained posterior q(z|x) for a lower bound")

    def log_weights(self, x: Tensor, n_samples: int) -> tuple[Tensor, Tensor, Tensor]:
        """log p(x|z), log p(z), log q(z|x) for ``n_samples`` z ~ q(z|x) each, shapes (L, B) (models with
        :attr:`has_posterior`)."""
        raise NotImplementedError(f"{type(self).__name__} has no trained posterior q(z|x) to sample from")

    @property
    def defines_likelihood(self) -> bool:
        """Whether the model defines a likelihood p(x) = ∫ p(x|z) p(z) dz: its decoder has a density
        (:meth:`log_px_given_z`) and so has its prior (:meth:`log_prior`). That is a property of the
        model, not of its encoder: estimating p(x) then needs a proposal, which need not be trained
        (``metrics.importance_sampled_nll(model, data, proposal_scale=s)``)."""
        return False

    def log_prior(self, z: Tensor) -> Tensor:
        """log p(z) of latent points (..., latent_dim), shape (...) (models that :attr:`defines_likelihood`)."""
        raise NotImplementedError(f"{type(self).__name__}'s prior {self.prior_name} has no density here")

    def log_px_given_z(self, x: Tensor, z: Tensor) -> Tensor:
        """log p(x|z) of the decoder for x (B, ...) and z (L, B, latent_dim), shape (L, B) (models that
        :attr:`defines_likelihood`)."""
        raise NotImplementedError(f"{type(self).__name__}'s decoder has no density p(x|z)")

    def bernoulli_logits(self, z: Tensor) -> Tensor:
        """The logits of p(x|z) for z of shape (..., latent_dim), shape (..., *data_shape) (models with
        :attr:`has_bernoulli_decoder`)."""
        raise NotImplementedError(f"{type(self).__name__} has no Bernoulli decoder")

    # -- helpers ---------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def _randn(self, *shape: int, generator: torch.Generator | None = None) -> Tensor:
        """Standard normal noise on the model's device (from ``generator`` if given)."""
        if generator is not None and generator.device != self.device:
            return torch.randn(*shape, generator=generator).to(self.device)
        return torch.randn(*shape, generator=generator, device=self.device)

    def _output(self, raw: Tensor) -> Tensor:
        """Map a decoder's raw output to data space: sigmoid for pixels, identity for toy data."""
        raw = raw.view(raw.shape[0], *self.data_shape)
        return torch.sigmoid(raw) if self.images else raw
