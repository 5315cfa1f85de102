"""The toy GAN page's estimate of the Jensen-Shannon divergence, in torch: the reference that the
page's JavaScript (``widgets/game.js``) is tested against.

* :func:`smoothed_density` and :func:`jsd` define the estimate: p_data and p_g both smoothed by the
  same Gaussian kernel of width ``bandwidth`` (p_data exactly, p_g as a kernel density estimate
  of G's samples) and compared on a grid (:func:`grid`). A Markov kernel never increases a
  divergence, so this is (up to sampling noise) a lower bound of JSD(p_data || p_g); for
  p_g = p_data it is ~0, whatever the bandwidth.
* :func:`jsd_estimate` is the number the page shows for G's samples.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from . import toy
from .toy_games import RING


def smoothed_density(dataset: str, points: Tensor, bandwidth: float) -> Tensor:
    """p_data convolved with N(0, bandwidth² I) at ``points`` of shape (n, dim).

    1-D: exact (each component's variance grows by bandwidth²). The ring: each component is a
    Gaussian in (arc length, radius) around its centre; the kernel adds bandwidth² to both
    variances (exact for bandwidth 0, and up to the ring's curvature otherwise).
    """
    h2 = bandwidth**2
    if dataset == "toy-1d":
        mix = toy.MIXTURE_1D
        stds = tuple(math.sqrt(s**2 + h2) for s in mix["stds"])
        return toy.gaussian_mixture_1d_density(points[:, 0], mix["means"], stds, mix["weights"])
    n, radius, std = RING["n_components"], RING["radius"], RING["std"]
    pts = points.double()
    r, a = pts.norm(dim=1), torch.atan2(pts[:, 1], pts[:, 0])
    st, sr = math.sqrt(std**2 + h2), math.sqrt((std / 4) ** 2 + h2)
    p = torch.zeros_like(r)
    for c in range(n):
        delta = torch.remainder(a - c * 2 * math.pi / n + math.pi, 2 * math.pi) - math.pi
        p += torch.exp(-0.5 * (radius * delta / st) ** 2 - 0.5 * ((r - radius) / sr) ** 2) / (2 * math.pi * st * sr)
    return p * radius / r.clamp_min(1e-12) / n


def jsd(p: Tensor, q: Tensor, cell: float) -> float:
    """JSD in nats between two densities given on the same grid of cells of size ``cell``; the mass
    that each leaves outside the grid (1 - Σ p · cell, at least 0) counts as one more cell."""
    p, q = p.double().flatten() * cell, q.double().flatten() * cell
    p = torch.cat([p, (1 - p.sum()).clamp_min(0)[None]])
    q = torch.cat([q, (1 - q.sum()).clamp_min(0)[None]])
    m = (p + q) / 2
    kl = lambda a: float((torch.xlogy(a, a) - torch.xlogy(a, m)).sum())  # noqa: E731
    return 0.5 * kl(p) + 0.5 * kl(q)


def grid(lo: float, hi: float, cells: int, dim: int) -> tuple[Tensor, float]:
    """The centres of a ``cells``^dim grid over [lo, hi]^dim (x fastest), shape (cells^dim, dim), and a cell's size."""
    step = (hi - lo) / cells
    axis = lo + (torch.arange(cells, dtype=torch.float64) + 0.5) * step
    if dim == 1:
        return axis[:, None], step
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([x.flatten(), y.flatten()], dim=1), step**2


def jsd_estimate(dataset: str, samples: Tensor, lo: float, hi: float, cells: int, bandwidth: float) -> float:
    """The page's JSD estimate for G's ``samples`` (n, dim): :func:`jsd` of the smoothed p_data and the
    Gaussian kernel density estimate of the samples (width ``bandwidth``) on the grid."""
    samples = torch.as_tensor(samples, dtype=torch.float64)
    dim = samples.shape[1]
    points, cell = grid(lo, hi, cells, dim)
    sq = ((points[:, None, :] - samples[None]) ** 2).sum(-1)
    p_g = torch.exp(-0.5 * sq / bandwidth**2).sum(1) / (len(samples) * (bandwidth * math.sqrt(2 * math.pi)) ** dim)
    return jsd(smoothed_density(dataset, points, bandwidth), p_g, cell)
