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
from . import Diagnosis, describe, diagnose, run_checks
from . import close as _close
from . import seeded as _seeded

__all__ = ["check_parzen", "solution_parzen", "check_mnist_score", "solution_mnist_score"]


# ============================================================================ Parzen window
def solution_parzen(samples: Tensor, x: Tensor, sigma: float) -> Tensor:
    r"""log p̂_σ(x) per row of ``x``: a log-mean-exp over the samples, minus the Gaussian's normaliser.

    .. math::

        \log \hat p_\sigma(x) = \operatorname{logsumexp}_i\Big(-\frac{\|x - s_i\|^2}{2\sigma^2}\Big)
        - \log n - \frac d2 \log(2\pi\sigma^2)
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
        out = torch.as_tensor(fn(samples, x, 0.3))
        if tuple(out.shape) == (7,):
            return True
        if tuple(out.shape) == (50,):
            raise Diagnosis(
                "Yours returns one value per sample, shape (50,): reduce over the samples (dim 1 of the (m, n) "
                "distances), one value per row of x"
            )
        return diagnose(
            out,
            [
                (
                    "Yours is one number, the mean over the rows of x: return one log-likelihood per row",
                    lambda: solution_parzen(samples, x, 0.3).mean(),
                ),
            ],
            otherwise=f"Yours returns {describe(out)} for 7 rows of x",
        )

    def offset(out: Tensor, expected: Tensor, n: int, d: int, sigma: float) -> None:
        """Raise a Diagnosis when ``out`` is ``expected`` shifted by a constant that a common mistake adds."""
        shift = (torch.as_tensor(out, dtype=torch.float64) - expected).flatten()
        if (
            shift.numel() != expected.numel()
            or not bool(torch.isfinite(shift).all())
            or float(shift.max() - shift.min()) > 1e-6
        ):
            return
        c = float(shift.mean())
        for message, value in [
            (
                "Yours lacks the Gaussian's normaliser: subtract d/2 log(2π σ²), with d the number of pixels",
                0.5 * d * math.log(2 * math.pi * sigma**2),
            ),
            ("Your normaliser uses σ where σ² is meant: it is d/2 log(2π σ²)", 0.5 * d * math.log(sigma)),
            (
                f"Your normaliser uses d = {samples.shape[1]}, the channels: d is the number of pixels of an image, "
                f"here {d} "
                "(flatten the images first)",
                0.5 * (d - samples.shape[1]) * math.log(2 * math.pi * sigma**2),
            ),
            (
                (
                    f"Yours is log n = log {n} too high: the estimate averages the n kernels, logsumexp - log n, it "
                    "does not sum them"
                ),
                math.log(n),
            ),
            (
                f"Yours divides by the number of rows of x: n is the number of samples ({n} here)",
                math.log(n) - math.log(x.shape[0]),
            ),
        ]:
            if abs(c - value) < 1e-6 and abs(value) > 1e-9:
                raise Diagnosis(message)

    def one_sample_is_a_gaussian():
        expected = torch.distributions.Normal(samples[0].flatten().double(), 0.3).log_prob(x.flatten(1).double()).sum(1)
        out = fn(samples[:1], x, 0.3)
        if _close(out, expected):
            return True
        offset(out, expected, 1, 16, 0.3)
        dist = torch.cdist(x.flatten(1).double(), samples[:1].flatten(1).double())[:, 0]
        normaliser = 8 * math.log(2 * math.pi * 0.3**2)
        return diagnose(
            out,
            [
                (
                    "Your exponent lacks the 1/2: it is -||x - s||² / (2 σ²)",
                    lambda: -dist.square() / 0.3**2 - normaliser,
                ),
                (
                    "Your exponent uses the distance, not its square: -||x - s||² / (2 σ²)",
                    lambda: -dist / (2 * 0.3**2) - normaliser,
                ),
                (
                    "Yours reads sigma as the variance: sigma is the standard deviation of the kernel",
                    lambda: solution_parzen(samples[:1], x, math.sqrt(0.3)),
                ),
                (
                    "Yours does not use the `sigma` passed in (it matches sigma = 0.2)",
                    lambda: solution_parzen(samples[:1], x, 0.2),
                ),
            ],
            otherwise="Yours is not the log-density of N(s, σ² I): -||x - s||² / (2 σ²) - d/2 log(2π σ²)",
        )

    def matches():
        expected = parzen_log_likelihood(samples, x, 0.2)
        out = fn(samples, x, 0.2)
        if _close(out, expected):
            return True
        offset(out, expected, 50, 16, 0.2)
        s, xf = samples.flatten(1).double(), x.flatten(1).double()
        log_kernels = -torch.cdist(xf, s).square() / (2 * 0.2**2)
        return diagnose(
            out,
            [
                (
                    "Yours averages the log-kernels (the log of a geometric mean): log p̂ is the log of the mean of "
                    "the kernels, "
                    "logsumexp - log n",
                    log_kernels.mean(1) - 8 * math.log(2 * math.pi * 0.2**2),
                ),
            ],
        )

    def far_points_finite():
        out = torch.as_tensor(fn(far_samples, far_x, 0.1))
        return bool(torch.isfinite(out).all()) and _close(
            out, parzen_log_likelihood(far_samples, far_x, 0.1), rtol=1e-6
        )

    def near_and_far_together():  # each row of x needs its own maximum: one shared shift still underflows the far row
        mixed_x = torch.cat([torch.zeros(1, 16), far_x[:1]])
        out = torch.as_tensor(fn(far_samples, mixed_x, 0.1))
        return bool(torch.isfinite(out).all()) and _close(
            out, parzen_log_likelihood(far_samples, mixed_x, 0.1), rtol=1e-6
        )

    return run_checks("parzen", [
        ("returns one log-likelihood per row of x, shape (m,)", shape_ok),
        ("with a single sample it is the log-density of N(s, sigma^2 I) (don't forget the normaliser)",
         one_sample_is_a_gaussian),
        ("matches thesis_lib.metrics.parzen_log_likelihood on random images", matches),
        ("stays finite when every kernel underflows (subtract the max before exp: a log-sum-exp)", far_points_finite),
        ("a point on the samples and a far one in the same x: both finite (the maximum is taken per row of x)",
         near_and_far_together),
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

    def value(probs: Tensor) -> float:
        out = float(fn(probs))
        if math.isnan(out):
            raise Diagnosis(
                "Yours gives nan: where a probability is 0, 0 log 0 = 0 * (-inf) = nan (and p/p(y) can be 0/0); "
                "clamp the probabilities first (clamp_min(1e-12)) or make those terms 0"
            )
        return out

    def perfect():
        out = value(eye.repeat(20, 1))
        if abs(out - 10.0) < 1e-4:
            return True
        diagnose(
            out,
            [
                (
                    "Yours gives log 10 = 2.303: that is the mean KL (the mutual information); the score is its exp",
                    math.log(10.0),
                ),
                ("Yours gives exp(log2 10): a KL in bits needs 2 ** KL, not exp", math.exp(math.log2(10.0))),
                ("Yours gives 10/200 for 200 samples: p(y) is the mean over the samples, not their sum", 0.05),
            ],
        )
        if out > 10:
            raise Diagnosis(
                f"Yours gives {out:.4g}, more than the 10 classes allow: is the KL reversed? It is "
                "KL(p(y|x) || p(y)), each prediction against the average one"
            )
        raise Diagnosis(
            (
                f"Yours gives {out:.4g}: each certain prediction is log 10 away (KL) from the uniform p(y), so the "
                "score is 10"
            )
        )

    def input_untouched():  # clamp_(...) or += eps would change the caller's predictions
        probs = eye[torch.arange(30) % 3]
        before = probs.clone()
        fn(probs)
        return torch.equal(probs, before)

    def collapsed():
        out = value(eye[torch.zeros(100, dtype=torch.long)])
        return abs(out - 1.0) < 1e-4 or diagnose(
            out,
            [
                (
                    (
                        "Yours gives 10 for a model that draws only one digit: p(y) averages over the samples "
                        "(axis 0), not the classes"
                    ),
                    10.0,
                ),
            ],
            otherwise=f"Yours gives {out:.4g}",
        )

    def unsure():
        out = value(torch.full((100, 10), 0.1))
        return abs(out - 1.0) < 1e-4 or diagnose(
            out,
            [
                (
                    "Yours gives 10 when every prediction is uniform: it ignores how sure each prediction is; the "
                    "score is "
                    "exp(H(p(y)) - mean H(p(y|x))), the KL of each p(y|x) from p(y)",
                    10.0,
                ),
            ],
            otherwise=f"Yours gives {out:.4g}",
        )

    def matches():
        out, want = value(random_probs), mnist_score(random_probs)
        if abs(out - want) < 1e-4 * want:
            return True
        p = random_probs.double().clamp_min(1e-12)
        kl = (p * (p.log() - p.mean(0, keepdim=True).log())).sum(1)
        return diagnose(
            out,
            [
                (
                    "Yours averages exp(KL) over the samples: the score is exp of the averaged KL",
                    kl.exp().mean().item(),
                ),
            ],
            otherwise=f"Yours gives {out:.5g} where the score is {want:.5g}",
        )

    return run_checks("mnist_score", [
        ("every digit, each predicted with certainty, scores 10", perfect),
        ("a model that only draws one digit (mode collapse) scores 1", collapsed),
        ("samples the classifier cannot place at all (p(y|x) uniform) score 1", unsure),
        ("matches thesis_lib.metrics.mnist_score on random predictions", matches),
        ("does not change its input (no in-place clamp_ or += on probs)", input_untouched),
    ])  # fmt: skip
