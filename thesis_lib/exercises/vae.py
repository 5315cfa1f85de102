"""Exercises of the VAE chapter (thesis 1.3): checks with immediate feedback and reference solutions.

    >>> from thesis_lib.exercises.vae import check_reparameterize
    >>> check_reparameterize(my_reparameterize)          # doctest: +SKIP
    ✓ reparameterize: all 7 checks passed

Every check runs on its own seeded random stream (``torch.random.fork_rng``), so it gives the
same verdict every time and never changes the notebook's random numbers.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

from .. import losses
from . import close as _close, run_checks, seeded as _seeded

__all__ = [
    "check_gaussian_kl", "solution_gaussian_kl",
    "check_reparameterize", "solution_reparameterize",
    "check_elbo_spread", "solution_elbo_spread",
]


# ============================================================================ KL of two Gaussians
def solution_gaussian_kl(mu_q: Tensor, logvar_q: Tensor, mu_p: Tensor, logvar_p: Tensor) -> Tensor:
    r"""KL(N(μ_q, σ_q²) ‖ N(μ_p, σ_p²)) of diagonal Gaussians, summed over the last axis.

    .. math:: D_{KL}(q\|p) = \tfrac12\sum_j\Big[\log\frac{\sigma_{p,j}^2}{\sigma_{q,j}^2} + \frac{\sigma_{q,j}^2 + (\mu_{q,j}-\mu_{p,j})^2}{\sigma_{p,j}^2} - 1\Big]
    """
    var_q, var_p = torch.exp(logvar_q), torch.exp(logvar_p)
    return 0.5 * (logvar_p - logvar_q + (var_q + (mu_q - mu_p) ** 2) / var_p - 1).sum(-1)


def check_gaussian_kl(kl_fn: Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]) -> bool:
    """Check ``kl_fn(mu_q, logvar_q, mu_p, logvar_p)``: the KL between two diagonal Gaussians per row."""
    with _seeded(0):
        mu_q, mu_p = torch.randn(5, 3), torch.randn(5, 3)
        lv_q, lv_p = torch.randn(5, 3), torch.randn(5, 3)
    zeros = torch.zeros(5, 3)

    def shape_ok():
        return tuple(kl_fn(mu_q, lv_q, mu_p, lv_p).shape) == (5,)

    def inputs_untouched():
        args = [t.clone() for t in (mu_q, lv_q, mu_p, lv_p)]
        kl_fn(*args)
        return all(torch.equal(a, b) for a, b in zip(args, (mu_q, lv_q, mu_p, lv_p)))

    def self_zero():
        return _close(kl_fn(mu_q, lv_q, mu_q, lv_q), torch.zeros(5), atol=1e-5)

    def standard_prior():  # the special case of Appendix B
        return _close(kl_fn(mu_q, lv_q, zeros, zeros), losses.gaussian_kl(mu_q, lv_q))

    def general():
        return _close(kl_fn(mu_q, lv_q, mu_p, lv_p), solution_gaussian_kl(mu_q, lv_q, mu_p, lv_p))

    def leading_axes():  # e.g. L samples of a batch: (L, B, J) -> (L, B)
        args = [t.view(5, 1, 3).expand(5, 2, 3) for t in (mu_q, lv_q, mu_p, lv_p)]
        return _close(kl_fn(*args), solution_gaussian_kl(mu_q, lv_q, mu_p, lv_p)[:, None].expand(5, 2))

    return run_checks("gaussian_kl", [
        ("returns one KL per row, shape (B,) for inputs of shape (B, J) (sum over the last axis)", shape_ok),
        ("does not change its inputs (no in-place operations such as exp_ or +=)", inputs_untouched),
        ("KL(q || q) = 0", self_zero),
        ("with p = N(0, I) it equals the analytic KL of Appendix B (losses.gaussian_kl)", standard_prior),
        ("general means and variances: the closed form", general),
        ("inputs with more leading axes, shape (L, B, J), give shape (L, B): sum over the last axis only", leading_axes),
    ])


# ============================================================================ reparameterisation
def solution_reparameterize(mu: Tensor, logvar: Tensor) -> Tensor:
    """One sample z = μ + σ ⊙ ε, ε ~ N(0, I), with σ = exp(logvar / 2); same shape as ``mu``."""
    eps = torch.randn_like(mu)
    return mu + torch.exp(0.5 * logvar) * eps


def check_reparameterize(reparameterize_fn: Callable[[Tensor, Tensor], Tensor]) -> bool:
    """Check ``reparameterize_fn(mu, logvar) -> z``: shape, mean, variance, and gradients to μ and log σ²."""
    mu = torch.tensor([[-1.0, 0.0, 2.0]]).repeat(40_000, 1)
    logvar = torch.tensor([[0.0, math.log(4.0), math.log(0.25)]]).repeat(40_000, 1)

    def draw(m, lv, seed=0):
        with _seeded(seed):
            return reparameterize_fn(m, lv)

    def shape_ok():
        return tuple(draw(mu[:7], logvar[:7]).shape) == (7, 3)

    def inputs_untouched():  # z = mu; z += ... would overwrite the encoder's output
        m, lv = mu[:7].clone(), logvar[:7].clone()
        draw(m, lv)
        return torch.equal(m, mu[:7]) and torch.equal(lv, logvar[:7])

    def mean_ok():  # mean μ; standard error of the mean <= 2 / 200 = 0.01
        z = draw(mu, logvar).detach()
        return _close(z.mean(0), mu[0], atol=0.05, rtol=0)

    def var_ok():  # variance σ² = exp(logvar), not exp(logvar)² or logvar
        z = draw(mu, logvar).detach()
        return _close(z.var(0), logvar[0].exp(), atol=0, rtol=0.05) and not _close(draw(mu, logvar, 1), draw(mu, logvar, 2))

    def gaussian_noise():  # P(|z - mu| < sigma) = 0.6827 for a normal; 0.577 for a uniform of the same variance
        z = draw(mu, logvar).detach()
        share = ((z - mu).abs() < torch.exp(0.5 * logvar)).double().mean(0)
        return bool(((share - 0.6827).abs() < 0.015).all())

    def independent_dims():  # one epsilon per entry: the coordinates of a sample are uncorrelated
        z = draw(mu, logvar).detach().double()
        corr = torch.corrcoef(z.T)
        return bool(((corr - torch.eye(3, dtype=torch.float64)).abs() < 0.05).all())

    def grads_ok():  # z = μ + σ ε: dz/dμ = 1 and dz/dlogvar = σ ε / 2 = (z - μ) / 2
        m = mu[:500].clone().requires_grad_(True)
        lv = logvar[:500].clone().requires_grad_(True)
        z = draw(m, lv)
        z.sum().backward()
        if m.grad is None or lv.grad is None:
            return False
        return _close(m.grad, torch.ones_like(m)) and _close(lv.grad, (z.detach() - mu[:500]) / 2, atol=1e-4)

    return run_checks("reparameterize", [
        ("z has the shape of mu", shape_ok),
        ("does not change mu or logvar (no in-place operations such as z = mu; z += ...)", inputs_untouched),
        ("the samples have mean mu", mean_ok),
        ("the samples have variance exp(logvar) and are random", var_ok),
        ("the noise is Gaussian: epsilon ~ N(0, 1), about 68% of the samples lie within one sigma of mu", gaussian_noise),
        ("each entry gets its own noise: the dimensions of a sample are uncorrelated (not one epsilon per row)", independent_dims),
        ("gradients flow through the sample: dz/dmu = 1, dz/dlogvar = (z - mu) / 2", grads_ok),
    ])


# ============================================================================ estimators A and B, effect of L
def solution_elbo_spread(model, x: Tensor, estimator: str = "B", n_samples: int = 1, repeats: int = 200) -> tuple[float, float]:
    """Mean and standard deviation of ``repeats`` independent estimates of the ELBO of one image ``x``.

    The trick: a batch of ``repeats`` copies of the same image gives ``repeats`` independent
    estimates in one forward pass (each row draws its own noise ε).
    """
    with torch.no_grad():
        batch = x.expand(repeats, *x.shape)
        estimates = model.elbo(batch, n_samples=n_samples, estimator=estimator).elbo
    return estimates.mean().item(), estimates.std().item()


def _small_vae():
    from ..config import VAEConfig
    from ..models.vae import VAE

    with _seeded(0):
        model = VAE(VAEConfig(hidden_dims=(32,), latent_dim=8)).eval()
        x = torch.rand(1, 28, 28)
    with torch.no_grad():  # a confident encoder (σ ≈ 0.14) so that estimators A and B have clearly different spreads
        model.encoder[-1].bias[8:] = -4.0
    return model, x


def check_elbo_spread(spread_fn: Callable[..., tuple[float, float]]) -> bool:
    """Check ``spread_fn(model, x, estimator, n_samples, repeats) -> (mean, std)`` on a small fixed VAE."""
    model, x = _small_vae()
    with _seeded(1):
        exact_mean, _ = solution_elbo_spread(model, x, "B", n_samples=8, repeats=2000)  # standard error 0.002, far below the tolerance
        ref_std = {e: solution_elbo_spread(model, x, e, n_samples=1, repeats=4000)[1] for e in "AB"}

    def run(estimator, n_samples, seed, repeats=2000):
        with _seeded(seed):
            mean, std = spread_fn(model, x, estimator, n_samples, repeats)
        return float(mean), float(std)

    def floats():
        return all(math.isfinite(v) for v in run("B", 1, 2, repeats=50))

    def means_agree():  # both are unbiased estimators of the same lower bound
        (ma, sa), (mb, sb) = run("A", 1, 3), run("B", 1, 4)
        tol = 4 * max(sa, sb) / math.sqrt(2000) + 0.05
        return abs(ma - exact_mean) < tol and abs(mb - exact_mean) < tol

    def spread_ok():  # the standard deviation of ONE estimate (not of their mean), for each estimator
        (_, sa), (_, sb) = run("A", 1, 5), run("B", 1, 6)
        return abs(sa / ref_std["A"] - 1) < 0.15 and abs(sb / ref_std["B"] - 1) < 0.15

    def shrinks_with_l():  # averaging L samples divides the standard deviation by sqrt(L)
        (_, s1), (_, s16) = run("B", 1, 7), run("B", 16, 8)
        return 0.15 < s16 / s1 < 0.35

    def uses_repeats():  # the mean of `repeats` = 4 estimates varies from seed to seed by about std / sqrt(4)
        means = torch.tensor([run("B", 1, seed, repeats=4)[0] for seed in range(100, 140)], dtype=torch.float64)
        return 0.5 < float(means.std()) / (ref_std["B"] / 2) < 1.6

    return run_checks("elbo_spread", [
        ("returns two finite numbers (mean, std)", floats),
        ("estimators A and B have the same mean: the ELBO", means_agree),
        ("std is the spread of single estimates (the standard deviation over the repeats), for A and for B", spread_ok),
        ("with L = 16 samples the std shrinks by about sqrt(16) = 4", shrinks_with_l),
        ("uses `repeats` estimates (not a fixed number): with repeats = 4 the mean varies between calls by about std / 2", uses_repeats),
    ])
