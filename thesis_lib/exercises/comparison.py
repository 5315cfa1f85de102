"""Exercises of the comparison chapter: the Parzen window and the MNIST score, by hand.

    >>> from thesis_lib.exercises.comparison import check_parzen
    >>> check_parzen(my_parzen)          # doctest: +SKIP
    ✓ parzen: all 5 checks passed
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

from ..metrics import mnist_score, parzen_log_likelihood
from . import close as _close, run_checks, seeded as _seeded

__all__ = ["check_parzen", "solution_parzen", "check_mnist_score", "solution_mnist_score"]


# ============================================================================ Parzen window
def solution_parzen(samples: Tensor, x: Tensor, sigma: float) -> Tensor:
    r"""log p̂_σ(x) per row of ``x``: a log-mean-exp over the samples, minus the Gaussian's normaliser.

    .. math:: \log \hat p_\sigma(x) = \operatorname{logsumexp}_i\Big(-\frac{\|x - s_i\|^2}{2\sigma^2}\Big) - \log n - \frac d2 \log(2\pi\sigma^2)
    """
    s, x = samples.flatten(1).double(), x.flatten(1).double()
    sq_dist = torch.cdist(x, s).square()  # (m, n)
    n, d = s.shape
    return torch.logsumexp(-sq_dist / (2 * sigma**2), dim=1) - math.log(n) - 0.5 * d * math.log(2 * math.pi * sigma**2)


def check_parzen(fn: Callable[[Tensor, Tensor, float], Tensor]) -> bool:
    """Check ``fn(samples, x, sigma)``: the Gaussian-kernel log-likelihood of each row of ``x``."""
    with _seeded(0):
        samples, x = torch.rand(50, 1, 4, 4), torch.rand(7, 1, 4, 4)
    far_samples, far_x = torch.zeros(3, 16), torch.full((2, 16), 10.0)

    def shape_ok():
        return tuple(torch.as_tensor(fn(samples, x, 0.3)).shape) == (7,)

    def one_sample_is_a_gaussian():
        expected = torch.distributions.Normal(samples[0].flatten().double(), 0.3).log_prob(x.flatten(1).double()).sum(1)
        return _close(fn(samples[:1], x, 0.3), expected)

    def matches():
        return _close(fn(samples, x, 0.2), parzen_log_likelihood(samples, x, 0.2))

    def far_points_finite():
        out = torch.as_tensor(fn(far_samples, far_x, 0.1))
        return bool(torch.isfinite(out).all()) and _close(out, parzen_log_likelihood(far_samples, far_x, 0.1), rtol=1e-6)

    def near_and_far_together():  # each row of x needs its own maximum: one shared shift still underflows the far row
        mixed_x = torch.cat([torch.zeros(1, 16), far_x[:1]])
        out = torch.as_tensor(fn(far_samples, mixed_x, 0.1))
        return bool(torch.isfinite(out).all()) and _close(out, parzen_log_likelihood(far_samples, mixed_x, 0.1), rtol=1e-6)

    return run_checks("parzen", [
        ("returns one log-likelihood per row of x, shape (m,)", shape_ok),
        ("with a single sample it is the log-density of N(s, sigma^2 I) (don't forget the normaliser)", one_sample_is_a_gaussian),
        ("matches thesis_lib.metrics.parzen_log_likelihood on random images", matches),
        ("stays finite when every kernel underflows (subtract the max before exp: a log-sum-exp)", far_points_finite),
        ("a point on the samples and a far one in the same x: both finite (the maximum is taken per row of x)", near_and_far_together),
    ])  # fmt: skip


# ============================================================================ MNIST score
def solution_mnist_score(probs: Tensor) -> float:
    r"""exp(E_x KL(p(y|x) || p(y))), with p(y) the average prediction over the samples."""
    p = probs.double().clamp_min(1e-12)
    marginal = p.mean(0, keepdim=True)
    return math.exp((p * (p.log() - marginal.log())).sum(1).mean().item())


def check_mnist_score(fn: Callable[[Tensor], float]) -> bool:
    """Check ``fn(probs)``: the MNIST score of a batch of predicted class probabilities (rows)."""
    eye = torch.eye(10)
    with _seeded(1):
        random_probs = torch.distributions.Dirichlet(torch.full((10,), 0.3)).sample((500,))

    def perfect():
        return abs(float(fn(eye.repeat(20, 1))) - 10.0) < 1e-4

    def input_untouched():  # clamp_(...) or += eps would change the caller's predictions
        probs = eye[torch.arange(30) % 3]
        before = probs.clone()
        fn(probs)
        return torch.equal(probs, before)

    def collapsed():
        return abs(float(fn(eye[torch.zeros(100, dtype=torch.long)])) - 1.0) < 1e-4

    def unsure():
        return abs(float(fn(torch.full((100, 10), 0.1))) - 1.0) < 1e-4

    def matches():
        return abs(float(fn(random_probs)) - mnist_score(random_probs)) < 1e-4 * mnist_score(random_probs)

    return run_checks("mnist_score", [
        ("every digit, each predicted with certainty, scores 10", perfect),
        ("a model that only draws one digit (mode collapse) scores 1", collapsed),
        ("samples the classifier cannot place at all (p(y|x) uniform) score 1", unsure),
        ("matches thesis_lib.metrics.mnist_score on random predictions", matches),
        ("does not change its input (no in-place clamp_ or += on probs)", input_untouched),
    ])  # fmt: skip
