"""Toy datasets for intuition: a 1-D and a 2-D mixture of Gaussians, and a 2-D swiss roll.

Each sampler takes an explicit :class:`torch.Generator` (or uses the global one), returns
``(x, labels)`` where the label is the component (or roll segment) a point came from, and has
an exact density where one exists, so tests and chapters can compare with the truth. The models
that the chapters study on these data (the VAE's exact linear-Gaussian model, the GAN toy's
curves) are in :mod:`thesis_lib.toy_models`: the data loader imports this module, so whatever
lives here is part of every training run's cache key.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

# The 1-D mixture the book's GAN toy uses: two well separated bumps.
MIXTURE_1D = {"means": (-2.0, 2.0), "stds": (0.5, 0.5), "weights": (0.5, 0.5)}


def gaussian_mixture_1d(
    n: int,
    means: tuple[float, ...] = MIXTURE_1D["means"],
    stds: tuple[float, ...] = MIXTURE_1D["stds"],
    weights: tuple[float, ...] = MIXTURE_1D["weights"],
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """``n`` points of a 1-D Gaussian mixture, shape ``(n, 1)``, with their component labels."""
    w = torch.tensor(weights, dtype=torch.float64)
    labels = torch.multinomial(w / w.sum(), n, replacement=True, generator=generator)
    mu = torch.tensor(means, dtype=torch.float32)[labels]
    sd = torch.tensor(stds, dtype=torch.float32)[labels]
    x = mu + sd * torch.randn(n, generator=generator)
    return x[:, None], labels


def gaussian_mixture_1d_density(
    x: Tensor,
    means: tuple[float, ...] = MIXTURE_1D["means"],
    stds: tuple[float, ...] = MIXTURE_1D["stds"],
    weights: tuple[float, ...] = MIXTURE_1D["weights"],
) -> Tensor:
    """Exact density of :func:`gaussian_mixture_1d` at ``x`` (any shape)."""
    total = sum(weights)
    p = torch.zeros_like(x, dtype=torch.float64)
    for m, s, w in zip(means, stds, weights):
        p = p + (w / total) * torch.exp(-0.5 * ((x.double() - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
    return p


def mixture_2d_means(n_components: int = 10, radius: float = 4.0) -> Tensor:
    """Centres of ``n_components`` Gaussians spaced evenly on a circle."""
    angles = torch.arange(n_components, dtype=torch.float32) * (2 * math.pi / n_components)
    return radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)


def gaussian_mixture_2d(
    n: int,
    n_components: int = 10,
    radius: float = 4.0,
    std: float = 0.5,
    labels: Tensor | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """``n`` points of ``n_components`` 2-D Gaussians on a circle (the AAE paper's mixture prior).

    Each component is stretched along its tangent (std ``std``) and narrow across it (``std/4``),
    as in the AAE paper's Figure 4. Pass ``labels`` to choose each point's component.
    """
    if labels is None:
        labels = torch.randint(0, n_components, (n,), generator=generator)
    labels = labels % n_components
    angle = labels.float() * (2 * math.pi / n_components)
    tangential = std * torch.randn(n, generator=generator)
    radial = (std / 4) * torch.randn(n, generator=generator)
    r = radius + radial
    # Move along the tangent: rotate the point by tangential / radius radians.
    a = angle + tangential / radius
    return torch.stack([r * torch.cos(a), r * torch.sin(a)], dim=1), labels


def swiss_roll(
    n: int,
    n_segments: int = 10,
    noise: float = 0.05,
    labels: Tensor | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """``n`` points of a 2-D swiss roll, in about [-1, 1]^2.

    The roll's arc length is split into ``n_segments`` equal pieces; the label is the piece
    (for the AAE's label-conditioned swiss-roll prior, pass ``labels`` to choose it).
    """
    if labels is None:
        u = torch.rand(n, generator=generator)
        labels = torch.clamp((u * n_segments).long(), max=n_segments - 1)
    else:
        labels = labels % n_segments
        u = (labels.float() + torch.rand(n, generator=generator)) / n_segments
    # sqrt makes points roughly uniform along the spiral's length.
    t = 0.5 * math.pi + 3.0 * math.pi * torch.sqrt(u)
    x = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / (3.5 * math.pi)
    x = x + noise * torch.randn(n, 2, generator=generator)
    return x, labels
