"""Priors p(z) for the adversarial autoencoder.

A prior is any callable ``prior(n, labels=None, generator=None) -> Tensor`` of shape
``(n, latent_dim)``; pass your own sampler to :class:`~thesis_lib.models.aae.AdversarialAutoencoder`
to impose any distribution you can sample from. ``labels`` lets a prior give each class its own
region (one mixture component or swiss-roll segment per digit). The adversarial game needs only
samples; a prior that also has a density has ``log_density(z)`` (the Gaussian and the mixture;
the swiss roll, a curve, has none), and then the AAE defines a likelihood p(x).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import torch
from torch import Tensor

from . import toy

Prior = Callable[..., Tensor]


@dataclass
class GaussianPrior:
    """p(z) = N(0, std² I)."""

    dim: int
    std: float = 1.0

    def __call__(self, n: int, labels: Optional[Tensor] = None, generator: Optional[torch.Generator] = None) -> Tensor:
        return self.std * torch.randn(n, self.dim, generator=generator)

    def log_density(self, z: Tensor) -> Tensor:
        """log N(z; 0, std² I), summed over the last axis."""
        return -0.5 * (math.log(2 * math.pi * self.std**2) + (z / self.std) ** 2).sum(-1)


@dataclass
class MixturePrior:
    """A mixture of 2-D Gaussians on a circle (the AAE paper's Figure 4); one component per label if given."""

    n_components: int = 10
    radius: float = 4.0
    std: float = 0.5

    def __call__(self, n: int, labels: Optional[Tensor] = None, generator: Optional[torch.Generator] = None) -> Tensor:
        return toy.gaussian_mixture_2d(n, self.n_components, self.radius, self.std, labels=labels, generator=generator)[
            0
        ]

    def log_density(self, z: Tensor) -> Tensor:
        """log p(z) of the equal-weight mixture (the marginal over the labels), z (..., 2) -> (...)."""
        means = toy.mixture_2d_means(self.n_components, self.radius).to(z)
        sq = ((z[..., None, :] - means) ** 2).sum(-1)  # (..., K)
        log_comp = -0.5 * sq / self.std**2 - math.log(2 * math.pi * self.std**2)
        return torch.logsumexp(log_comp, dim=-1) - math.log(self.n_components)


@dataclass
class SwissRollPrior:
    """A 2-D swiss roll; with labels, class c is drawn from the c-th segment of the roll."""

    n_segments: int = 10
    scale: float = 4.0

    def __call__(self, n: int, labels: Optional[Tensor] = None, generator: Optional[torch.Generator] = None) -> Tensor:
        return self.scale * toy.swiss_roll(n, self.n_segments, noise=0.0, labels=labels, generator=generator)[0]


def make_prior(name: str, dim: int, std: float = 1.0, n_components: int = 10) -> Prior:
    """The prior a config names: ``gaussian``, ``mixture`` or ``swiss-roll``."""
    if name == "gaussian":
        return GaussianPrior(dim, std)
    if name == "mixture":
        return MixturePrior(n_components)
    if name == "swiss-roll":
        return SwissRollPrior(n_components)
    raise ValueError(f"prior must be one of 'gaussian', 'mixture', 'swiss-roll', got {name!r}")
