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
from . import Diagnosis, describe, diagnose, run_checks, tensor_result
from . import close as _close
from . import seeded as _seeded

__all__ = [
    "check_gaussian_kl",
    "solution_gaussian_kl",
    "check_reparameterize",
    "solution_reparameterize",
    "check_elbo_spread",
    "solution_elbo_spread",
]


# ============================================================================ KL of two Gaussians
def solution_gaussian_kl(mu_q: Tensor, logvar_q: Tensor, mu_p: Tensor, logvar_p: Tensor) -> Tensor:
    r"""KL(N(μ_q, σ_q²) ‖ N(μ_p, σ_p²)) of diagonal Gaussians, summed over the last axis.

    .. math::

        D_{KL}(q\|p) = \tfrac12\sum_j\Big[\log\frac{\sigma_{p,j}^2}{\sigma_{q,j}^2}
        + \frac{\sigma_{q,j}^2 + (\mu_{q,j}-\mu_{p,j})^2}{\sigma_{p,j}^2} - 1\Big]
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
        out = tensor_result(kl_fn(mu_q, lv_q, mu_p, lv_p))
        if tuple(out.shape) == (5,):
            return True
        if tuple(out.shape) == (5, 3):
            raise Diagnosis(
                "Yours returns one value per dimension, shape (5, 3): sum over the last axis (the J dimensions)"
            )
        return diagnose(
            out,
            [
                (
                    "Yours is one number for the batch: one KL per row, summed over the last axis only",
                    lambda: solution_gaussian_kl(mu_q, lv_q, mu_p, lv_p).sum(),
                ),
            ],
            otherwise=f"Yours returns {describe(out)}",
        )

    def inputs_untouched():
        args = [t.clone() for t in (mu_q, lv_q, mu_p, lv_p)]
        kl_fn(*args)
        return all(torch.equal(a, b) for a, b in zip(args, (mu_q, lv_q, mu_p, lv_p)))

    def mistakes(mq: Tensor, lq: Tensor, mp: Tensor, lp: Tensor) -> list[tuple[str, Callable[[], Tensor]]]:
        """The common wrong formulas, each with what is wrong with it."""
        right = solution_gaussian_kl(mq, lq, mp, lp)
        j = mq.shape[-1]

        def form(log_ratio, var_term, mean_term):  # 1/2 sum [log-ratio + var-term + mean-term - 1]
            return 0.5 * (log_ratio + var_term + mean_term - 1).sum(-1)

        return [
            (
                (
                    "Yours is KL(p || q): q, the encoder's distribution (the first two arguments), goes first, and "
                    "the KL is not symmetric"
                ),
                lambda: solution_gaussian_kl(mp, lp, mq, lq),
            ),
            ("Yours is twice the KL: the closed form has a factor 1/2 in front of the sum", lambda: 2 * right),
            ("Yours is J/2 too large: the -1 is inside the sum, once per dimension", lambda: right + 0.5 * j),
            ("Yours has the -1 outside the sum: it is subtracted once per dimension", lambda: right + 0.5 * (j - 1)),
            (
                "Yours is the mean over the dimensions: the KL of a diagonal Gaussian is the sum over them",
                lambda: right / j,
            ),
            (
                "The log-ratio is flipped: the term is log(σ_p²/σ_q²) = logvar_p - logvar_q",
                lambda: form(lq - lp, lq.exp() / lp.exp(), (mq - mp) ** 2 / lp.exp()),
            ),
            (
                "Yours uses σ where σ² is meant: the variance is exp(logvar), the standard deviation exp(logvar / 2)",
                lambda: form(lp - lq, (0.5 * lq).exp() / (0.5 * lp).exp(), (mq - mp) ** 2 / (0.5 * lp).exp()),
            ),
            (
                "Yours reads logvar as log σ: logvar is log σ², so σ² = exp(logvar)",
                lambda: form(2 * (lp - lq), (2 * lq).exp() / (2 * lp).exp(), (mq - mp) ** 2 / (2 * lp).exp()),
            ),
            (
                "The variance ratio is inverted: the term is σ_q²/σ_p²",
                lambda: form(lp - lq, lp.exp() / lq.exp(), (mq - mp) ** 2 / lp.exp()),
            ),
            (
                "The mean term is divided by σ_q²: it is (μ_q - μ_p)²/σ_p², the variance of p",
                lambda: form(lp - lq, lq.exp() / lp.exp(), (mq - mp) ** 2 / lq.exp()),
            ),
            (
                "Yours does not divide by σ_p²: the term is (σ_q² + (μ_q - μ_p)²)/σ_p²",
                lambda: form(lp - lq, lq.exp(), (mq - mp) ** 2),
            ),
        ]

    def self_zero():
        out = kl_fn(mu_q, lv_q, mu_q, lv_q)
        return _close(out, torch.zeros(5), atol=1e-5) or diagnose(out, mistakes(mu_q, lv_q, mu_q, lv_q), atol=1e-5)

    def standard_prior():  # the special case of Appendix B
        out = kl_fn(mu_q, lv_q, zeros, zeros)
        return _close(out, losses.gaussian_kl(mu_q, lv_q)) or diagnose(out, mistakes(mu_q, lv_q, zeros, zeros))

    def general():
        out = kl_fn(mu_q, lv_q, mu_p, lv_p)
        return _close(out, solution_gaussian_kl(mu_q, lv_q, mu_p, lv_p)) or diagnose(
            out, mistakes(mu_q, lv_q, mu_p, lv_p)
        )

    def leading_axes():  # e.g. L samples of a batch: (L, B, J) -> (L, B)
        args = [t.view(5, 1, 3).expand(5, 2, 3) for t in (mu_q, lv_q, mu_p, lv_p)]
        return _close(kl_fn(*args), solution_gaussian_kl(mu_q, lv_q, mu_p, lv_p)[:, None].expand(5, 2))

    return run_checks(
        "gaussian_kl",
        [
            ("returns one KL per row, shape (B,) for inputs of shape (B, J) (sum over the last axis)", shape_ok),
            ("does not change its inputs (no in-place operations such as exp_ or +=)", inputs_untouched),
            ("KL(q || q) = 0", self_zero),
            ("with p = N(0, I) it equals the analytic KL of Appendix B (losses.gaussian_kl)", standard_prior),
            ("general means and variances: the closed form", general),
            (
                "inputs with more leading axes, shape (L, B, J), give shape (L, B): sum over the last axis only",
                leading_axes,
            ),
        ],
    )


# ============================================================================ reparameterisation
def _vector(t: Tensor) -> str:
    """A short vector for a message: [1.00, 16.0, 0.0625]."""
    return "[" + ", ".join(f"{float(v):.3g}" for v in t) + "]"


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
        z = tensor_result(draw(mu[:7], logvar[:7]))
        return tuple(z.shape) == (7, 3) or diagnose(
            z, [], otherwise=f"Yours returns {describe(z)} for mu of shape (7, 3)"
        )

    def inputs_untouched():  # z = mu; z += ... would overwrite the encoder's output
        m, lv = mu[:7].clone(), logvar[:7].clone()
        draw(m, lv)
        return torch.equal(m, mu[:7]) and torch.equal(lv, logvar[:7])

    def mean_ok():  # mean μ; standard error of the mean <= 2 / 200 = 0.01
        z = draw(mu, logvar).detach()
        if _close(z.mean(0), mu[0], atol=0.05, rtol=0):
            return True
        noise = (z - mu) / torch.exp(0.5 * logvar)
        if bool((noise - noise[:1]).abs().max() < 1e-6):
            raise Diagnosis(
                "Every row got the same noise: draw one ε per entry, the shape of mu (torch.randn_like(mu))"
            )
        return diagnose(
            z.mean(0),
            [
                (
                    "The noise has mean 1/2: torch.rand is uniform on [0, 1); ε ~ N(0, 1) is torch.randn",
                    mu[0] + 0.5 * torch.exp(0.5 * logvar[0]),
                ),
                ("mu and logvar are swapped: the first argument is the mean", logvar[0]),
            ],
            atol=0.05,
            rtol=0,
            otherwise=f"Your samples have mean {_vector(z.mean(0))} where mu = {_vector(mu[0])}",
        )

    def var_ok():  # variance σ² = exp(logvar), not exp(logvar)² or logvar
        z = draw(mu, logvar).detach()
        var, want = z.var(0), logvar[0].exp()
        if not _close(var, want, atol=0, rtol=0.05):
            diagnose(
                var,
                [
                    (
                        (
                            "Your samples have variance exp(logvar)²: exp(logvar) is the variance σ², the standard "
                            "deviation is σ = exp(logvar / 2)"
                        ),
                        want**2,
                    ),
                    ("Your samples have variance logvar²: logvar is log σ², so σ = exp(logvar / 2)", logvar[0] ** 2),
                    ("Your samples have variance 1: the noise ε must be scaled by σ = exp(logvar / 2)", torch.ones(3)),
                    ("Your samples have variance 0: add the noise σ ε", torch.zeros(3)),
                    ("Your samples have variance exp(-logvar): σ = exp(+logvar / 2)", 1 / want),
                ],
                atol=1e-6,
                rtol=0.05,
                otherwise=f"Your samples have variances {_vector(var)} where exp(logvar) = {_vector(want)}",
            )
        if _close(draw(mu, logvar, 1), draw(mu, logvar, 2)):
            raise Diagnosis(
                "Yours gives the same samples whatever the random state: draw fresh noise in every call "
                "(no manual_seed or fixed generator inside)"
            )
        return True

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
        if not z.requires_grad:
            raise Diagnosis("Yours passes no gradient back (.detach(), torch.no_grad() or a new tensor on the way)")
        z.sum().backward()
        no_grad = {name: g is None or not bool(g.any()) for name, g in (("mu", m.grad), ("logvar", lv.grad))}
        if no_grad["mu"] and no_grad["logvar"]:
            raise Diagnosis(
                "Yours passes no gradient to mu or logvar: a sample drawn as a black box (torch.normal(mu, std)) "
                "has none; build it as z = mu + sigma * eps from noise eps drawn separately"
            )
        if no_grad["logvar"]:
            raise Diagnosis(
                "Yours passes no gradient to logvar: sigma = exp(logvar / 2) must stay attached (no .detach())"
            )
        if no_grad["mu"]:
            raise Diagnosis("Yours passes no gradient to mu (no .detach() on it)")
        return _close(m.grad, torch.ones_like(m)) and _close(lv.grad, (z.detach() - mu[:500]) / 2, atol=1e-4)

    return run_checks(
        "reparameterize",
        [
            ("z has the shape of mu", shape_ok),
            ("does not change mu or logvar (no in-place operations such as z = mu; z += ...)", inputs_untouched),
            ("the samples have mean mu", mean_ok),
            ("the samples have variance exp(logvar) and are random", var_ok),
            (
                "the noise is Gaussian: epsilon ~ N(0, 1), about 68% of the samples lie within one sigma of mu",
                gaussian_noise,
            ),
            (
                "each entry gets its own noise: the dimensions of a sample are uncorrelated (not one epsilon per row)",
                independent_dims,
            ),
            ("gradients flow through the sample: dz/dmu = 1, dz/dlogvar = (z - mu) / 2", grads_ok),
        ],
    )


# ============================================================================ estimators A and B, effect of L
def solution_elbo_spread(
    model, x: Tensor, estimator: str = "B", n_samples: int = 1, repeats: int = 200
) -> tuple[float, float]:
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
        exact_mean, _ = solution_elbo_spread(
            model, x, "B", n_samples=8, repeats=2000
        )  # standard error 0.002, far below the tolerance
        ref_std = {e: solution_elbo_spread(model, x, e, n_samples=1, repeats=4000)[1] for e in "AB"}
    with torch.no_grad():
        kl = float(model.elbo(x[None]).kl)  # analytic (estimator B's), for the messages

    def run(estimator, n_samples, seed, repeats=2000):
        with _seeded(seed):
            mean, std = spread_fn(model, x, estimator, n_samples, repeats)
        return float(mean), float(std)

    def floats():
        return all(math.isfinite(v) for v in run("B", 1, 2, repeats=50))

    def means_agree():  # both are unbiased estimators of the same lower bound
        (ma, sa), (mb, sb) = run("A", 1, 3), run("B", 1, 4)
        tol = 4 * max(ref_std.values()) / math.sqrt(2000) + 0.05  # the reference spread: a wrong std must not move it
        if abs(ma - exact_mean) < tol and abs(mb - exact_mean) < tol:
            return True
        if max(sa, sb) < 1e-3 * min(ref_std.values()):
            raise Diagnosis(
                "Your estimates do not vary (std 0): every repeat reuses one noise draw; a batch of `repeats` "
                "copies of x gives independent estimates, each row its own ε"
            )
        for message, value in [
            ("Yours is -ELBO, the loss: return the bound itself (model.elbo(...).elbo)", -exact_mean),
            ("Yours is E log p(x|z) alone: the bound subtracts the KL term", exact_mean + kl),
            ("Yours adds the KL term: the bound is E log p(x|z) - KL", exact_mean + 2 * kl),
        ]:
            if abs(mb - value) < tol:
                raise Diagnosis(message)
        raise Diagnosis(
            (
                f"Yours gives A {ma:.2f} and B {mb:.2f}, where the ELBO of the model and image passed in is "
                f"{exact_mean:.2f}"
            )
        )

    def spread_ok():  # the standard deviation of ONE estimate (not of their mean), for each estimator
        (_, sa), (_, sb) = run("A", 1, 5), run("B", 1, 6)

        def near(got: float, want: float) -> bool:
            return abs(got / want - 1) < 0.15

        a, b = ref_std["A"], ref_std["B"]
        if near(sa, a) and near(sb, b):
            return True
        if near(sa, a / math.sqrt(2000)) and near(sb, b / math.sqrt(2000)):
            raise Diagnosis(
                "Your std is the standard error of the mean, std / sqrt(repeats): return the spread of the single "
                "estimates themselves"
            )
        if near(sa, a**2) and near(sb, b**2):
            raise Diagnosis("Your std is the variance: take its square root")
        if near(sa, b) and near(sb, b):
            raise Diagnosis("Your A and B have the same spread, B's: pass `estimator` on to model.elbo")
        if near(sa, b) and near(sb, a):
            raise Diagnosis("Your A and B are swapped")
        raise Diagnosis(
            f"Yours gives A {sa:.3g} and B {sb:.3g}, where single estimates spread by about {a:.3g} and {b:.3g}"
        )

    def shrinks_with_l():  # averaging L samples divides the standard deviation by sqrt(L)
        (_, s1), (_, s16) = run("B", 1, 7), run("B", 16, 8)
        if 0.15 < s16 / s1 < 0.35:
            return True
        if 0.8 < s16 / s1 < 1.25:
            raise Diagnosis(
                "Your std does not change with L: one estimate averages L samples (model.elbo(..., "
                "n_samples=n_samples)), and the spread of those estimates is what to return"
            )
        raise Diagnosis(f"Yours shrinks by a factor {s1 / s16:.3g}")

    def uses_repeats():  # the mean of `repeats` = 4 estimates varies from seed to seed by about std / sqrt(4)
        means = torch.tensor([run("B", 1, seed, repeats=4)[0] for seed in range(100, 140)], dtype=torch.float64)
        return 0.5 < float(means.std()) / (ref_std["B"] / 2) < 1.6

    return run_checks(
        "elbo_spread",
        [
            ("returns two finite numbers (mean, std)", floats),
            ("estimators A and B have the same mean: the ELBO", means_agree),
            (
                "std is the spread of single estimates (the standard deviation over the repeats), for A and for B",
                spread_ok,
            ),
            ("with L = 16 samples the std shrinks by about sqrt(16) = 4", shrinks_with_l),
            (
                (
                    "uses `repeats` estimates (not a fixed number): with repeats = 4 the mean varies between calls "
                    "by about std / 2"
                ),
                uses_repeats,
            ),
        ],
    )
