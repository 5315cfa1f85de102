"""Exercises of chapter 1.4 (adversarial autoencoder): checks and reference solutions.

* :func:`check_aggregated_sampler`: sample the aggregated posterior
  q(z) = (1/N) Σ_n N(z; μ(x_n), diag σ²(x_n)) of a Gaussian encoder on N data points;
* :func:`check_ring_prior`: a custom prior p(z) for the AAE (a ring, one arc per class when
  labels are given) that :class:`~thesis_lib.models.aae.AdversarialAutoencoder` accepts.

    >>> from thesis_lib.exercises.aae import check_ring_prior, solution_ring_prior
    >>> check_ring_prior(solution_ring_prior)        # doctest: +SKIP
    ✓ ring prior: all 8 checks passed
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

from . import Diagnosis, diagnose, run_checks

# The ring prior of the exercise: radius, radial standard deviation, number of arcs (classes).
RING_RADIUS = 3.0
RING_STD = 0.1
RING_ARCS = 10

_N = 20_000  # samples for the statistical checks: the tolerances below are > 5 standard errors


# ============================================================================ aggregated posterior
def solution_aggregated_sampler(mu: Tensor, logvar: Tensor, n: int, generator: torch.Generator | None = None) -> Tensor:
    r"""``n`` samples of the aggregated posterior of a Gaussian encoder on N data points.

    .. math:: q(z) = \frac1N\sum_{i=1}^N \mathcal N\big(z;\, \mu_i, \operatorname{diag}\sigma_i^2\big)

    ``mu`` and ``logvar`` have shape (N, d): the encoder's outputs μ(x_i), log σ²(x_i). Sampling
    follows q(z) = ∫ q(z|x) p_d(x) dx: draw a data point i uniformly (x ~ p_d), then
    z ~ q(z|x_i) by reparameterisation. Returns shape (n, d).
    """
    i = torch.randint(0, mu.shape[0], (n,), generator=generator)
    eps = torch.randn(n, mu.shape[1], generator=generator, dtype=mu.dtype)
    return mu[i] + torch.exp(0.5 * logvar[i]) * eps


def check_aggregated_sampler(student_fn: Callable[..., Tensor]) -> bool:
    """Check ``student_fn(mu, logvar, n, generator=None) -> (n, d)`` samples of q(z); print feedback."""
    g = torch.Generator().manual_seed(0)
    mu_small, logvar_small = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g) * 0.3
    # Four well separated components in 2-D with different spreads.
    mu = torch.tensor([[-10.0, 0.0], [10.0, 0.0], [0.0, 10.0], [0.0, -10.0]])
    std = torch.tensor([[0.5, 0.5], [1.0, 1.0], [1.5, 1.5], [2.0, 0.25]])
    logvar = 2 * torch.log(std)

    def draw(m, lv, n, seed=1):
        z = student_fn(m, lv, n, generator=torch.Generator().manual_seed(seed))
        return torch.as_tensor(z).float()

    def component(z):  # nearest centre: the components are 10 apart with spreads <= 2
        return torch.cdist(z, mu).argmin(1)

    def shape_ok():
        z = draw(mu_small, logvar_small, 7)
        return z.shape == (7, 3) and bool(torch.isfinite(z).all())

    def inputs_untouched():  # std = logvar; std *= 0.5 ... would overwrite the encoder's outputs
        m, lv = mu_small.clone(), logvar_small.clone()
        draw(m, lv, 20)
        return torch.equal(m, mu_small) and torch.equal(lv, logvar_small)

    def reproducible():
        z = draw(mu_small, logvar_small, 50, seed=3)
        return torch.equal(z, draw(mu_small, logvar_small, 50, seed=3)) and not torch.equal(
            z, draw(mu_small, logvar_small, 50, seed=4)
        )

    def random_choice():  # the data point of each sample is drawn at random, not taken in turn
        return not torch.equal(component(draw(mu, logvar, 200, seed=1)), component(draw(mu, logvar, 200, seed=2)))

    def independent_coordinates():  # diag σ²: within a component the coordinates are uncorrelated
        z = draw(mu, logvar, _N)
        c = component(z)
        return all(abs(float(torch.corrcoef(z[c == k].T)[0, 1])) < 0.1 for k in range(4))

    def deterministic_limit():
        z = draw(mu_small, torch.full_like(logvar_small, -30.0), 200)  # σ ≈ 3e-7: a deterministic encoder
        if bool((torch.cdist(z, mu_small).min(1).values < 1e-3).all()):
            return True
        per_coordinate = (
            (z[:, None, :] - mu_small[None]).abs().min(1).values
        )  # (n, d): nearest μ_i, coordinate by coordinate
        if bool((per_coordinate < 1e-3).all()):
            raise Diagnosis(
                "Your coordinates come from different data points: draw one i per sample and use its whole row, mu[i]"
            )
        if 25 < float(z.std()) < 35:
            raise Diagnosis(
                "Your samples spread by about 30 for logvar = -30: logvar is log σ², so σ_i = exp(logvar_i / 2)"
            )
        return False

    def every_point_equally():
        share = torch.bincount(component(draw(mu, logvar, _N)), minlength=4).float() / _N
        if bool(((share - 0.25).abs() < 0.02).all()):
            return True
        if float(share[-1]) == 0 and bool((share[:-1] > 0).all()):
            raise Diagnosis(
                "The last data point is never drawn: torch.randint's upper end is exclusive, randint(0, N, ...)"
            )
        if float(share.max()) > 0.99:
            raise Diagnosis(
                (
                    f"All samples come from data point {int(share.argmax())}: draw the data point i at random for "
                    "every sample"
                )
            )
        raise Diagnosis(f"Yours gives the four data points the shares {[round(float(v), 3) for v in share]}")

    def own_spread():
        z = draw(mu, logvar, _N)
        c = component(z)
        sd = torch.stack([z[c == k].std(0) for k in range(4)])
        if bool(((sd / std - 1).abs() < 0.1).all()):
            return True
        one_sd = torch.tensor([0.5, 2.0, 1.0])  # one data point: every sample is its own, whatever the spread
        try:
            got = draw(torch.zeros(1, 3), 2 * torch.log(one_sd)[None], _N).std(0)
        except Exception:  # only a diagnosis: the check has failed already
            return False
        diagnose(
            got,
            [
                ("Yours adds no noise: a sample of q(z|x_i) is μ_i + σ_i ε", torch.zeros(3)),
                ("Your spread is exp(logvar) = σ², the variance: σ_i = exp(logvar_i / 2)", one_sd**2),
                ("Your noise is not scaled: σ_i = exp(logvar_i / 2) multiplies ε", torch.ones(3)),
            ],
            atol=0.02,
            rtol=0.05,
        )
        if bool(((sd / std.mean(0) - 1).abs() < 0.1).all()):
            raise Diagnosis(
                "Yours gives every component the same spread: use the σ of the sample's own data point, "
                "exp(logvar[i] / 2)"
            )
        return False

    def moments():
        z = draw(mu, logvar, _N)
        mean = mu.mean(0)
        var = std.pow(2).mean(0) + mu.var(0, unbiased=False)  # law of total variance
        return bool(((z.mean(0) - mean).abs() < 0.3).all() and ((z.var(0) / var - 1).abs() < 0.05).all())

    return run_checks(
        "aggregated posterior sampler",
        [
            ("returns a finite tensor of shape (n, d)", shape_ok),
            ("does not change mu or logvar (no in-place operations on them)", inputs_untouched),
            (
                "draws all randomness from `generator` (same seed, same samples; another seed, other samples)",
                reproducible,
            ),
            ("with σ → 0 (a deterministic encoder) every sample is one of the μ_i", deterministic_limit),
            ("each data point's component gets about 1/N of the samples", every_point_equally),
            (
                "the data point i of each sample is drawn at random, not taken in turn (0, 1, ..., N - 1, 0, ...)",
                random_choice,
            ),
            ("the samples of component i have standard deviation σ_i = exp(logvar_i / 2)", own_spread),
            ("mean and variance match the mixture's: E[μ_i] and E[σ_i²] + Var[μ_i]", moments),
            (
                "each coordinate gets its own noise: within a component the coordinates are uncorrelated (diagonal σ²)",
                independent_coordinates,
            ),
        ],
    )


# ============================================================================ ring prior
def solution_ring_prior(n: int, labels: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
    r"""A ring of radius 3 with radial noise of standard deviation 0.1: shape (n, 2).

    The angle is uniform on [0, 2π); with ``labels`` class c gets the c-th of 10 equal arcs,
    [2πc/10, 2π(c+1)/10), like the AAE paper's label-conditioned priors.
    """
    u = torch.rand(n, generator=generator)
    if labels is not None:
        u = (labels.long().cpu() % RING_ARCS + u) / RING_ARCS
    angle = 2 * math.pi * u
    r = RING_RADIUS + RING_STD * torch.randn(n, generator=generator)
    return torch.stack([r * torch.cos(angle), r * torch.sin(angle)], dim=1)


def check_ring_prior(student_fn: Callable[..., Tensor]) -> bool:
    """Check ``student_fn(n, labels=None, generator=None) -> (n, 2)``, the ring prior; print feedback."""
    from ..config import AAEConfig
    from ..models.aae import AdversarialAutoencoder

    def draw(n, labels=None, seed=0):
        z = student_fn(n, labels=labels, generator=torch.Generator().manual_seed(seed))
        return torch.as_tensor(z).float()

    def angle(z):
        return torch.remainder(torch.atan2(z[:, 1], z[:, 0]), 2 * math.pi)

    def shape_ok():
        z = draw(11)
        return z.shape == (11, 2) and bool(torch.isfinite(z).all())

    def reproducible():
        return torch.equal(draw(100, seed=5), draw(100, seed=5)) and not torch.equal(
            draw(100, seed=5), draw(100, seed=6)
        )

    def radius():
        r = draw(_N).norm(dim=1)
        mean, sd = r.mean().item(), r.std().item()
        if abs(mean - RING_RADIUS) < 0.01 and abs(sd - RING_STD) < 0.01:
            return True
        if abs(mean - RING_RADIUS) < 0.01 and abs(sd - RING_STD**2) < 0.003:
            raise Diagnosis(
                f"Your radius has standard deviation {sd:.3g} = {RING_STD}²: {RING_STD} is the standard deviation, "
                f"so the radius is {RING_RADIUS} + {RING_STD} ε"
            )
        raise Diagnosis(f"Your radius has mean {mean:.3g} and standard deviation {sd:.3g}")

    def arc_positions(z: Tensor, labels: Tensor) -> Tensor:
        """Where each point lies inside its class's arc: in [0, 1) when it is on its own arc."""
        pos = angle(z) * RING_ARCS / (2 * math.pi) - labels
        return torch.where(pos < -0.5, pos + RING_ARCS, pos)  # the wrap-around at angle 0

    def arcs_wrong(z: Tensor, labels: Tensor) -> None:
        """Raise a Diagnosis for the common ways class c misses arc c."""
        pos = arc_positions(z, labels)
        on_arc = ((pos > -1e-4) & (pos < 1 + 1e-4)).float().mean().item()
        if on_arc > 0.9:
            raise Diagnosis(
                f"{1 - on_arc:.1%} of the points leave their class's arc: the noise is radial, the radius "
                f"{RING_RADIUS} + {RING_STD} ε times (cos, sin) of the angle, not 2-D noise added to the point"
            )
        reversed_labels = RING_ARCS - 1 - labels
        pos = arc_positions(z, reversed_labels)
        if bool(((pos > -1e-4) & (pos < 1 + 1e-4)).all()):
            raise Diagnosis(
                f"Class c lies on arc {RING_ARCS - 1} - c: the angle of class c is 2π (c + u) / {RING_ARCS}"
            )
        if on_arc < 0.5:
            raise Diagnosis(
                f"Only {on_arc:.0%} of the points lie on their class's arc: with labels the angle is "
                f"2π (c + u) / {RING_ARCS} radians, u uniform on [0, 1)"
            )

    def uniform_angle():
        share = torch.histc(angle(draw(_N)), bins=10, min=0, max=2 * math.pi) / _N
        if bool(((share - 0.1).abs() < 0.015).all()):
            return True
        empty = int((share < 0.01).sum())
        if empty:
            raise Diagnosis(
                f"{empty} of 10 equal sectors of the ring get no points: the angle is 2π u, u uniform on [0, 1)"
            )
        raise Diagnosis(f"Your 10 equal sectors of the ring get the shares {[round(float(v), 3) for v in share]}")

    def arcs():
        labels = torch.arange(_N) % RING_ARCS
        z = draw(_N, labels=labels)
        pos = arc_positions(z, labels)  # position inside the own arc, in [0, 1)
        r = z.norm(dim=1)
        ok = (
            z.shape == (_N, 2)
            and bool(((pos > -1e-4) & (pos < 1 + 1e-4)).all())
            and abs(pos.mean().item() - 0.5) < 0.01
            and abs(r.mean().item() - RING_RADIUS) < 0.01
        )
        if not ok and z.shape == (_N, 2):
            arcs_wrong(z, labels)
        return ok

    def uniform_along_arc():  # 10 equal parts of every arc: about 10% of the class's points each
        labels = torch.arange(_N) % RING_ARCS
        pos = angle(draw(_N, labels=labels, seed=1)) * RING_ARCS / (2 * math.pi) - labels
        pos = torch.where(pos < -0.5, pos + RING_ARCS, pos)
        share = torch.histc(pos.clamp(0, 1 - 1e-6), bins=10, min=0, max=1) / _N
        return bool(((share - 0.1).abs() < 0.015).all())

    def model_accepts():
        dtype = torch.as_tensor(
            student_fn(3, generator=torch.Generator().manual_seed(0))
        ).dtype  # draw() casts to float32
        if dtype != torch.float32:
            raise Diagnosis(
                f"Yours returns {dtype} points: the model's networks are float32 (torch.rand's default); return float32"
            )
        model = AdversarialAutoencoder(AAEConfig(), prior=student_fn)
        x = model.sample(3, generator=torch.Generator().manual_seed(0))
        return model.sample_prior(5).shape == (5, 2) and x.shape == (3, 1, 28, 28)

    def model_with_labels():
        model = AdversarialAutoencoder(AAEConfig(label_prior=True), prior=student_fn)
        labels = torch.arange(10)
        z = model.sample_prior(10, labels, generator=torch.Generator().manual_seed(0)).cpu()
        pos = angle(z) * RING_ARCS / (2 * math.pi) - labels
        pos = torch.where(pos < -0.5, pos + RING_ARCS, pos)
        return bool(((pos > -1e-4) & (pos < 1 + 1e-4)).all())

    return run_checks(
        "ring prior",
        [
            ("returns a finite tensor of shape (n, 2)", shape_ok),
            (
                "draws all randomness from `generator` (same seed, same points; another seed, other points)",
                reproducible,
            ),
            (f"the radius has mean {RING_RADIUS} and standard deviation {RING_STD}", radius),
            ("without labels the angle is uniform on [0, 2π)", uniform_angle),
            (f"with labels, class c lies on the c-th of {RING_ARCS} equal arcs, uniformly along it", arcs),
            (
                "with labels, the points are spread uniformly along their arc (not bunched at its centre)",
                uniform_along_arc,
            ),
            ("AdversarialAutoencoder(AAEConfig(), prior=...) samples with it", model_accepts),
            ("with label_prior=True the model draws class c from arc c", model_with_labels),
        ],
    )
