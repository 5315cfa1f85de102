"""The toy models the chapters study on the toy data, where every quantity is exact or on a grid.

* :class:`LinearGaussian`: the VAE chapter's smallest latent-variable model, whose marginal,
  posterior and lower bound are closed-form.
* The GAN chapter's 1-D toy numerics: a kernel density estimate (:func:`kde`) and the curves of a
  GAN trained on the 1-D mixture (:func:`gan_1d_curves`, drawn by :func:`thesis_lib.plots.plot_gan_1d`).

Nothing here is imported by training (the data sets are in :mod:`thesis_lib.toy`), so editing
these helpers never retrains a cached run.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .toy import gaussian_mixture_1d_density


class LinearGaussian:
    r"""The smallest latent-variable model in which every quantity of the VAE chapter is exact.

    .. math:: z \sim \mathcal N(0, 1),\qquad x \mid z \sim \mathcal N(w z + b, s^2)

    so that :math:`p(x) = \mathcal N(b, w^2 + s^2)` and the posterior is
    :math:`p(z|x) = \mathcal N(m, v)` with :math:`v = s^2 / (s^2 + w^2)`,
    :math:`m = v\,w\,(x - b) / s^2`. For a Gaussian :math:`q(z) = \mathcal N(\mu, \sigma^2)` the
    lower bound is closed-form too, which makes it a test bench for the ELBO identity, the
    KL formula and the SGVB estimators. Latent tensors have a trailing axis of size 1 (the
    latent dimension), like the VAE's; ``x`` has shape ``(B,)``.
    """

    def __init__(self, w: float = 2.0, b: float = 0.5, s: float = 0.5):
        self.w, self.b, self.s = float(w), float(b), float(s)

    def log_px_given_z(self, x: Tensor, z: Tensor) -> Tensor:
        """log p(x|z) for z of shape (..., B, 1); returns (..., B)."""
        mean = self.w * z[..., 0] + self.b
        return -0.5 * (math.log(2 * math.pi * self.s**2) + (x - mean) ** 2 / self.s**2)

    def log_marginal(self, x: Tensor) -> Tensor:
        """log p(x) = log N(x; b, w² + s²), shape (B,)."""
        var = self.w**2 + self.s**2
        return -0.5 * (math.log(2 * math.pi * var) + (x - self.b) ** 2 / var)

    def posterior(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The exact posterior p(z|x) as (mean, log-variance), each of shape (B, 1)."""
        v = self.s**2 / (self.s**2 + self.w**2)
        m = v * self.w * (x - self.b) / self.s**2
        return m[:, None], torch.full_like(m, math.log(v))[:, None]

    def expected_log_likelihood(self, x: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
        r"""E_q[log p(x|z)] for q = N(μ, σ²) in closed form, shape (B,).

        .. math::

            \mathbb E_q[\log p(x|z)]
            = -\tfrac12\Big[\log 2\pi s^2 + \frac{(x - b - w\mu)^2 + w^2\sigma^2}{s^2}\Big]
        """
        mu, var = mu[..., 0], torch.exp(logvar[..., 0])
        return -0.5 * (
            math.log(2 * math.pi * self.s**2) + ((x - self.b - self.w * mu) ** 2 + self.w**2 * var) / self.s**2
        )


# ----------------------------------------------------------------------------- the GAN's 1-D toy
def kde(samples: Tensor, x: Tensor, bandwidth: float | None = None) -> Tensor:
    """Gaussian kernel density estimate of 1-D ``samples`` at ``x`` (Scott's bandwidth by default)."""
    samples = torch.as_tensor(samples, dtype=torch.float64).flatten()
    x = torch.as_tensor(x, dtype=torch.float64).flatten()
    if bandwidth is None:
        bandwidth = float(samples.std()) * samples.numel() ** (-1 / 5) or 1.0
    dens = torch.zeros_like(x)
    for chunk in samples.split(4096):
        dens += torch.exp(-0.5 * ((x[:, None] - chunk[None]) / bandwidth) ** 2).sum(1)
    return (dens / (samples.numel() * bandwidth * math.sqrt(2 * math.pi))).float()


def gan_1d_curves(
    model,
    x: Tensor | None = None,
    n_samples: int = 20_000,
    n_mapping: int = 25,
    seed: int = 0,
    bandwidth: float | None = None,
) -> dict:
    """Everything :func:`thesis_lib.plots.plot_gan_1d` draws, for a GAN trained on the ``toy-1d`` data.

    Returns ``dict(x, p_data, p_g, d, z, g_z)`` of numpy arrays: the x grid (default ``[-5, 5]``,
    500 points), the exact data density, a Gaussian KDE of ``n_samples`` generator samples,
    ``D(x)``, and, for a 1-D noise space only, ``n_mapping`` evenly spaced quantiles ``z`` of p_z
    with their images ``G(z)`` (``None`` otherwise). The model runs in eval mode without
    gradients (its mode is restored), its samples come from a generator seeded by ``seed``.
    """
    x = torch.linspace(-5, 5, 500) if x is None else torch.as_tensor(x, dtype=torch.float32).flatten()
    g = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            samples = model.sample(n_samples, generator=g).cpu().flatten()
            d = torch.sigmoid(model.discriminate(x[:, None].to(device))).cpu()
            z = g_z = None
            if model.latent_dim == 1:
                z = torch.special.ndtri((torch.arange(n_mapping, dtype=torch.float64) + 0.5) / n_mapping).float()
                g_z = model.decode(z[:, None].to(device)).cpu().flatten()
    finally:
        model.train(was_training)
    return {
        "x": x.numpy(),
        "p_data": gaussian_mixture_1d_density(x).float().numpy(),
        "p_g": kde(samples, x, bandwidth).numpy(),
        "d": d.numpy(),
        "z": None if z is None else z.numpy(),
        "g_z": None if g_z is None else g_z.numpy(),
    }
