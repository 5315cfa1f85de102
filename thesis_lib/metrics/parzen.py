r"""Parzen-window log-likelihood: the GAN paper's way to score a model that only samples.

Goodfellow et al. (2014, Table 1) fit a Gaussian kernel density estimate to samples of the
model and report the mean log-likelihood of the MNIST test images under it:

.. math::

    \hat p_\sigma(x) = \frac1n \sum_{i=1}^n \mathcal N(x;\, s_i, \sigma^2 I), \qquad
    \log \hat p_\sigma(x) = \log \frac1n \sum_{i=1}^n \exp\Big(-\frac{\|x - s_i\|^2}{2\sigma^2}\Big)
        - \frac d2 \log(2\pi\sigma^2).

The protocol of the paper's reference code (``parzen_ll.py`` in goodfeli/adversarial), which
:func:`parzen_evaluation` follows: n = 10,000 samples; σ picked from ``logspace(-1, 0, 10)``
by the mean log-likelihood of 1,000 validation images (train[50000:60000]); then the mean and
standard error over the 10,000 test images; pixels in [0, 1].

The estimator is known to be poor in 784 dimensions (Theis et al. 2016): it rewards samples
that sit close to many test images, and even real training images score only about 240 nats.
Use it to compare with the papers, not as a measure of sample quality.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor

SIGMAS: tuple[float, ...] = tuple(torch.logspace(-1.0, 0.0, 10, dtype=torch.float64).tolist())
"""The GAN paper's candidate bandwidths, ``numpy.logspace(-1, 0, 10)``."""


@torch.no_grad()
def parzen_log_likelihoods(samples: Tensor, x: Tensor, sigmas: Sequence[float], batch_size: int = 500) -> Tensor:
    r"""log p̂_σ(x) for every row of ``x`` and every σ in ``sigmas``, shape ``(len(sigmas), m)``.

    The squared distances :math:`d_i = \|x - s_i\|^2 = \|x\|^2 + \|s_i\|^2 - 2\, x \cdot s_i` are computed in
    float64 (one matrix product per batch, so that memory grows as ``batch_size × n_samples``, not with the
    image size), once for all the σ; then each σ's log-mean-exp subtracts the smallest distance first,

    .. math::

        \log \frac1n \sum_i e^{-d_i / 2\sigma^2} = -\frac{d_{\min}}{2\sigma^2}
            + \log \sum_i e^{-(d_i - d_{\min}) / 2\sigma^2} - \log n,

    so the largest term is :math:`e^0 = 1` and nothing underflows that matters. The exponentials of those
    non-positive numbers are taken in float32, in place, from -80 up, and summed in float64: about 1e-7 nats
    from the float64 result, in half its time (a fresh tensor per step, and far samples' exponentials turning
    denormal, slowed it down more than the exponential itself).

    Args:
        samples: (n, ...) model samples (flattened internally).
        x: (m, ...) points to score, same size as the samples.
        sigmas: kernel standard deviations.
        batch_size: rows of ``x`` per distance matrix (500 × 10,000 doubles = 40 MB).

    Returns:
        (len(sigmas), m) float64 log-likelihoods in nats.
    """
    for sigma in sigmas:
        if not sigma > 0:
            raise ValueError(f"sigma must be a number > 0, got {sigma!r}")
    s = samples.flatten(1).double()
    x = x.flatten(1).double().to(s.device)
    if s.shape[1] != x.shape[1]:
        raise ValueError(f"samples have {s.shape[1]} dimensions but the data has {x.shape[1]}")
    s_sq = (s * s).sum(1)
    log_norms = [math.log(s.shape[0]) + 0.5 * s.shape[1] * math.log(2 * math.pi * sigma**2) for sigma in sigmas]
    out = []
    for start in range(0, x.shape[0], batch_size):
        xb = x[start : start + batch_size]
        sq_dist = torch.addmm(s_sq, xb, s.T, alpha=-2.0).add_((xb * xb).sum(1, keepdim=True)).clamp_min_(0.0)
        nearest = sq_dist.amin(1)
        above = sq_dist.sub_(nearest[:, None]).float()  # d_i - d_min >= 0
        kernel = torch.empty_like(above)
        rows = []
        for sigma, norm in zip(sigmas, log_norms):
            scale = 1.0 / (2 * sigma**2)
            # below e^-80 (1e-35 of the nearest sample's term) float32's exp turns denormal, and several times slower
            torch.mul(above, -scale, out=kernel).clamp_min_(-80.0).exp_()
            rows.append(kernel.sum(1, dtype=torch.float64).log_() - nearest * scale - norm)
        out.append(torch.stack(rows))
    return torch.cat(out, dim=1)


def parzen_log_likelihood(samples: Tensor, x: Tensor, sigma: float, batch_size: int = 500) -> Tensor:
    """log p̂_σ(x) for every row of ``x`` under the Gaussian KDE centred on ``samples`` (one σ of
    :func:`parzen_log_likelihoods`): (m,) float64 log-likelihoods in nats."""
    return parzen_log_likelihoods(samples, x, [sigma], batch_size)[0]


@torch.no_grad()
def select_sigma(samples: Tensor, val: Tensor, sigmas: Sequence[float] = SIGMAS) -> tuple[float, list[float]]:
    """The σ from ``sigmas`` that maximises the mean log-likelihood of ``val``; also all the means."""
    means = parzen_log_likelihoods(samples, val, sigmas).mean(1).tolist()
    best = max(range(len(sigmas)), key=means.__getitem__)
    return float(sigmas[best]), means


@torch.no_grad()
def parzen_evaluation(samples: Tensor, val: Tensor, test: Tensor, sigmas: Sequence[float] = SIGMAS) -> dict[str, float]:
    """The GAN paper's protocol: pick σ on ``val``, then the mean ± standard error on ``test``.

    Returns ``{"parzen_ll", "parzen_se", "parzen_sigma", "n_samples", "n_val", "n_test"}``.
    """
    sigma, _ = select_sigma(samples, val, sigmas)
    ll = parzen_log_likelihood(samples, test, sigma)
    return {
        "parzen_ll": ll.mean().item(),
        "parzen_se": (ll.std() / math.sqrt(len(ll))).item(),
        "parzen_sigma": sigma,
        "n_samples": int(samples.shape[0]),
        "n_val": int(val.shape[0]),
        "n_test": int(test.shape[0]),
    }
