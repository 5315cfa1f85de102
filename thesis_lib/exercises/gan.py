"""Exercises of the GAN chapter (thesis 1.2): checks with immediate feedback and reference solutions.

    >>> from thesis_lib.exercises.gan import check_discriminator_loss
    >>> check_discriminator_loss(my_discriminator_loss)          # doctest: +SKIP
    ✓ discriminator_loss: all 6 checks passed

Every check runs on its own seeded random stream (``torch.random.fork_rng``), so it gives the
same verdict every time and never changes the notebook's random numbers.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import losses
from . import Diagnosis, close, describe, diagnose, run_checks, tensor_result
from . import seeded as _seeded

__all__ = [
    "check_discriminator_loss",
    "solution_discriminator_loss",
    "check_js_divergence",
    "solution_js_divergence",
    "solution_optimal_d_pointwise",
    "solution_virtual_training_criterion",
    "solution_generator_logit_gradients",
]


def _close(a, b, atol: float = 1e-5, rtol: float = 1e-5) -> bool:
    return close(a, b, atol=atol, rtol=rtol)


# ============================================================================ the discriminator loss
def solution_discriminator_loss(d_real_logits: Tensor, d_fake_logits: Tensor) -> Tensor:
    r"""The loss D descends: minus the minibatch value function, from D's logits a (D = σ(a)).

    .. math::

        \mathcal L_D = -\frac1m\sum_{i=1}^m \Big[\log D\big(x^{(i)}\big)
        + \log\Big(1 - D\big(G(z^{(i)})\big)\Big)\Big]

    With log σ(a) = logsigmoid(a) and log(1 − σ(a)) = log σ(−a) = logsigmoid(−a), no log(0) can
    occur, however confident D is.
    """
    return -(F.logsigmoid(d_real_logits).mean() + F.logsigmoid(-d_fake_logits).mean())


def check_discriminator_loss(loss_fn: Callable[[Tensor, Tensor], Tensor]) -> bool:
    """Check ``loss_fn(d_real_logits, d_fake_logits) -> scalar``: the discriminator's loss from logits."""
    with _seeded(0):
        real, fake = 2 * torch.randn(64), 2 * torch.randn(64)
    reference = losses.discriminator_loss(real, fake)

    def scalar():
        out = loss_fn(real, fake)
        if torch.is_tensor(out) and out.dim() == 0:
            return True
        if not torch.is_tensor(out):
            raise Diagnosis(
                (
                    f"Yours returns {describe(out)}: return the tensor (no .item()), so that D's optimiser can "
                    "backpropagate it"
                )
            )
        raise Diagnosis(f"Yours returns {describe(out)}: average over the minibatch, one number")

    def inputs_untouched():  # e.g. d_fake_logits.neg_() would flip the caller's logits
        r, f = real.clone(), fake.clone()
        loss_fn(r, f)
        return torch.equal(r, real) and torch.equal(f, fake)

    def chance():  # D = 1/2 everywhere: -(log 1/2 + log 1/2) = log 4
        out = loss_fn(torch.zeros(8), torch.zeros(8))
        if _close(out, torch.tensor(math.log(4.0))):
            return True
        if _close(out, torch.tensor(math.log(2.0))) and _close(loss_fn(real, fake), reference / 2):
            raise Diagnosis(
                "Yours gives log 2, half the loss: it is the sum of the two minibatch means, -mean log D(x) - mean "
                "log(1 - D(G(z))), not the mean over the concatenated batch (nor the average of the two terms)"
            )
        return diagnose(
            out,
            [
                (
                    (
                        "Yours gives -log 4: that is the value function V(D, G), which D ascends; the loss D "
                        "descends is -V"
                    ),
                    -math.log(4.0),
                ),
                (
                    "Yours gives 8 log 4 for minibatches of 8: average over the minibatch instead of summing",
                    8 * math.log(4.0),
                ),
                ("Yours gives 2 = log2(4): that is bits; the book measures in nats, with the natural logarithm", 2.0),
                (
                    "Yours gives log 2 for all logits 0 and ignores some of them: the loss has a term for the real "
                    "images, "
                    "-log D(x), and one for the generated ones, -log(1 - D(G(z)))",
                    math.log(2.0),
                ),
            ],
            otherwise=f"Yours gives {float(out):.4g} where log 4 = {math.log(4.0):.4f}",
        )

    def value():
        out = loss_fn(real, fake)
        return _close(out, reference) or diagnose(
            out,
            [
                (
                    "The fake term is log D(G(z)): it must be log(1 - D(G(z))) = logsigmoid(-logit)",
                    lambda: -(F.logsigmoid(real).mean() + F.logsigmoid(fake).mean()),
                ),
                (
                    "The real term is log(1 - D(x)): it must be log D(x) = logsigmoid(logit)",
                    lambda: -(F.logsigmoid(-real).mean() + F.logsigmoid(-fake).mean()),
                ),
                (
                    "Real and fake are swapped: the first argument holds D's logits on real images",
                    lambda: losses.discriminator_loss(fake, real),
                ),
            ],
            atol=1e-5,
            rtol=1e-5,
            otherwise=f"Yours gives {float(out):.4f} where the loss is {float(reference):.4f}",
        )

    def direction():  # D descends the loss: it must fall when D grows on real data and shrinks on fakes
        base = float(loss_fn(real, fake))
        return float(loss_fn(real + 1, fake)) < base and float(loss_fn(real, fake - 1)) < base

    def stable():  # a confident D: logits of ±200 must give finite values and gradients (no log(0))
        r = torch.tensor([200.0, -200.0], requires_grad=True)
        f = torch.tensor([-200.0, 200.0], requires_grad=True)
        out = loss_fn(r, f)
        number = float(out.detach())
        if not math.isfinite(number):
            raise Diagnosis(f"Yours gives {number}: sigmoid(-200) is 0 in floating point and log 0 = -inf")
        if number < 199:
            raise Diagnosis(
                f"Yours gives {number:.4g} instead of 200: clamping the probability (or an epsilon inside the "
                "log) caps the loss of a confident D"
            )
        if not out.requires_grad:
            raise Diagnosis(
                "Yours passes no gradient back to the logits (.detach(), .item() or a new tensor on the way)"
            )
        out.backward()
        return (
            bool(torch.isfinite(out))
            and _close(out, torch.tensor(200.0), atol=1e-3)
            and r.grad is not None
            and f.grad is not None
            and _close(r.grad, torch.tensor([0.0, -0.5]), atol=1e-6)
            and _close(f.grad, torch.tensor([0.0, 0.5]), atol=1e-6)
        )

    return run_checks(
        "discriminator_loss",
        [
            ("returns one number (a 0-dimensional tensor): the mean over the minibatch", scalar),
            (
                "does not change its inputs (no in-place operations such as neg_ or *= -1 on the logits)",
                inputs_untouched,
            ),
            ("D(x) = D(G(z)) = 1/2 (all logits 0) gives log 4", chance),
            ("equals -(1/m) sum [log D(x) + log(1 - D(G(z)))] with D = sigmoid(logit)", value),
            ("the loss falls when D(x) rises or D(G(z)) falls (D descends it)", direction),
            ("logits of ±200 give a finite loss and the right gradients (use logsigmoid, not log(sigmoid))", stable),
        ],
    )


# ============================================================================ Jensen-Shannon divergence
def solution_js_divergence(p: Tensor, q: Tensor) -> Tensor:
    r"""JSD(p ‖ q) of two discrete distributions (last axis), in nats; 0·log 0 counts as 0.

    .. math::

        \mathrm{JSD}(p\,\|\,q) = \tfrac12 \mathrm{KL}\big(p \,\|\, \tfrac{p+q}2\big)
        + \tfrac12 \mathrm{KL}\big(q \,\|\, \tfrac{p+q}2\big)
    """
    m = (p + q) / 2

    def kl(a: Tensor, b: Tensor) -> Tensor:
        terms = torch.where(
            a > 0, a * (torch.log(a) - torch.log(torch.where(a > 0, b, torch.ones_like(b)))), torch.zeros_like(a)
        )
        return terms.sum(-1)

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def check_js_divergence(jsd_fn: Callable[[Tensor, Tensor], Tensor]) -> bool:
    """Check ``jsd_fn(p, q)``: the Jensen-Shannon divergence of discrete distributions along the last axis."""
    with _seeded(1):
        p = torch.softmax(torch.randn(4, 6, dtype=torch.float64), -1)
        q = torch.softmax(torch.randn(4, 6, dtype=torch.float64), -1)

    def kl(a: Tensor, b: Tensor) -> Tensor:  # 0 log 0 = 0; infinite where a > 0 = b
        return torch.xlogy(a, a).sum(-1) - torch.xlogy(a, b).sum(-1)

    def shape_ok():
        out = tensor_result(jsd_fn(p, q))
        return tuple(out.shape) == (4,) or diagnose(
            out,
            [
                (
                    "Yours is one number for the batch: one JSD per row, summed over the last axis only",
                    lambda: solution_js_divergence(p, q).sum(),
                ),
            ],
            otherwise=f"Yours returns {describe(out)}",
        )

    def inputs_untouched():  # e.g. p.clamp_(min=1e-12) changes the caller's distributions
        a = torch.tensor([[0.5, 0.5, 0.0], [0.2, 0.0, 0.8]], dtype=torch.float64)
        b = torch.tensor([[0.25, 0.75, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
        a0, b0 = a.clone(), b.clone()
        jsd_fn(a, b)
        return torch.equal(a, a0) and torch.equal(b, b0)

    def zero_and_symmetric():
        same, pq = jsd_fn(p, p), jsd_fn(p, q)
        if _close(same, torch.zeros(4), atol=1e-9) and _close(pq, jsd_fn(q, p)):
            return True
        m = (p + q) / 2
        diagnose(
            same,
            [
                (
                    "Yours gives -log 2 for JSD(p || p): the mixture is m = (p + q)/2, not p + q",
                    torch.full((4,), -math.log(2.0)),
                )
            ],
        )
        return diagnose(
            pq,
            [
                (
                    "Yours is KL(p || q), which is not symmetric: JSD compares p and q with their mixture "
                    "m = (p + q)/2, "
                    "1/2 KL(p || m) + 1/2 KL(q || m)",
                    lambda: kl(p, q),
                ),
                ("Yours has only the term for p: add 1/2 KL(q || m), with m = (p + q)/2", lambda: 0.5 * kl(p, m)),
                ("Yours has only the term for p, KL(p || m): JSD = 1/2 KL(p || m) + 1/2 KL(q || m)", lambda: kl(p, m)),
            ],
        )

    def mixture_mistakes() -> bool:
        """False, unless jsd_fn(p, q) on the random (full-support) p, q is a KL of the wrong pair: then a Diagnosis."""
        return diagnose(
            jsd_fn(p, q),
            [
                (
                    (
                        "Yours is the symmetrised KL, 1/2 KL(p || q) + 1/2 KL(q || p): JSD compares each with the "
                        "mixture m = (p + q)/2"
                    ),
                    lambda: 0.5 * kl(p, q) + 0.5 * kl(q, p),
                ),
                (
                    "Yours is KL(m || p)/2 + KL(m || q)/2: the mixture goes second, KL(p || m) and KL(q || m)",
                    lambda: 0.5 * kl((p + q) / 2, p) + 0.5 * kl((p + q) / 2, q),
                ),
            ],
        )

    def disjoint():  # no overlap: JSD = log 2, its maximum (0 log 0 = 0 must not give nan)
        a = torch.tensor([[0.5, 0.5, 0.0, 0.0]], dtype=torch.float64)
        b = torch.tensor([[0.0, 0.0, 0.25, 0.75]], dtype=torch.float64)
        out = jsd_fn(a, b)
        if _close(out, torch.tensor([math.log(2.0)])):
            return True
        mixture_mistakes()
        if bool(torch.isnan(torch.as_tensor(out)).any()):
            raise Diagnosis(
                "Yours gives nan: where p = 0, p log(p/m) is 0 * (-inf); count such terms as 0 "
                "(torch.where(p > 0, ..., 0) or torch.xlogy)"
            )
        if bool(torch.isinf(torch.as_tensor(out)).any()):
            raise Diagnosis(
                "Yours gives inf: a KL from a distribution that is 0 where the other is not is infinite; "
                "KL(p || m) and KL(q || m) stay finite, since m > 0 wherever p or q is"
            )
        return diagnose(
            out,
            [
                (
                    "Yours gives 1 = log2(2): that is bits; the book measures in nats, with the natural logarithm",
                    torch.ones(1),
                ),
                ("Yours gives 2 log 2: the JSD has a 1/2 in front of each KL term", torch.tensor([2 * math.log(2.0)])),
                (
                    "Yours gives log(2)/4: that is the mean over the 4 outcomes; sum over them",
                    torch.tensor([math.log(2.0) / 4]),
                ),
                (
                    "Yours gives 0: setting a nan result to 0 loses the whole row; make each 0 log 0 term 0 instead",
                    torch.zeros(1),
                ),
            ],
            otherwise=f"Yours gives {float(torch.as_tensor(out).flatten()[0]):.4g} where log 2 = {math.log(2.0):.4f}",
        )

    def shared_zero():  # an outcome neither distribution has (p = q = 0 there) adds nothing
        a = torch.tensor([[0.5, 0.5, 0.0], [0.2, 0.0, 0.8]], dtype=torch.float64)
        b = torch.tensor([[0.25, 0.75, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
        out = jsd_fn(a, b)
        if _close(out, solution_js_divergence(a, b)):
            return True
        if bool(torch.isnan(torch.as_tensor(out)).any()):
            raise Diagnosis(
                "Yours gives nan where p = q = 0: p/m is 0/0 there; test p > 0 before dividing (torch.where), "
                "or use xlogy(p, p) - xlogy(p, m)"
            )
        return False

    def value():
        return _close(jsd_fn(p, q), solution_js_divergence(p, q)) or mixture_mistakes()

    def any_leading_shape():  # the last axis holds the outcomes, whatever comes before it
        expected = solution_js_divergence(p, q)
        return _close(jsd_fn(p[0], q[0]), expected[0]) and _close(
            jsd_fn(p.view(2, 2, 6), q.view(2, 2, 6)), expected.view(2, 2)
        )

    def criterion():  # Theorem 1: C(G) = -log 4 + 2 JSD(p_data || p_g)
        return _close(solution_virtual_training_criterion(p, q), -math.log(4.0) + 2 * jsd_fn(p, q))

    return run_checks(
        "js_divergence",
        [
            ("returns one value per row, shape (B,) for inputs (B, K) (sum over the last axis)", shape_ok),
            ("JSD(p || p) = 0 and JSD(p || q) = JSD(q || p)", zero_and_symmetric),
            ("distributions with disjoint supports give log 2 (treat 0 log 0 as 0)", disjoint),
            ("an outcome where p = q = 0 contributes nothing (not 0/0 = nan)", shared_zero),
            ("random distributions: 1/2 KL(p || m) + 1/2 KL(q || m) with m = (p + q)/2", value),
            (
                "works along the last axis for any leading shape: (K,) gives one number, (A, B, K) gives (A, B)",
                any_leading_shape,
            ),
            ("does not change its inputs (no in-place clamp_ or += on p and q)", inputs_untouched),
            ("C(G) = V(D*, G) equals -log 4 + 2 JSD(p_data || p_g)", criterion),
        ],
    )


# ============================================================================ derivations (numerical answers)
def solution_optimal_d_pointwise(a: Tensor, b: Tensor) -> Tensor:
    r"""The maximiser of f(y) = a log y + b log(1 − y) on (0, 1), for a, b > 0 (where one of them is 0,
    f is monotone and a/(a + b) is the end of (0, 1) it approaches its supremum at).

    f'(y) = a/y − b/(1 − y) = 0 gives y* = a/(a + b); f''(y) = −a/y² − b/(1 − y)² < 0, so it
    is the maximum. With a = p_data(x), b = p_g(x): D*_G(x) = p_data(x)/(p_data(x) + p_g(x)).
    """
    return a / (a + b)


def solution_virtual_training_criterion(p_data: Tensor, p_g: Tensor) -> Tensor:
    r"""C(G) = max_D V(D, G) = V(D*_G, G) for discrete p_data, p_g (last axis).

    .. math::

        C(G) = \sum_x p_{\text{data}}(x)\log\frac{p_{\text{data}}(x)}{p_{\text{data}}(x)+p_g(x)}
        + p_g(x)\log\frac{p_g(x)}{p_{\text{data}}(x)+p_g(x)}
    """
    d = losses.optimal_discriminator(p_data, p_g)
    return (torch.xlogy(p_data, d) + torch.xlogy(p_g, 1 - d)).sum(-1)


def solution_generator_logit_gradients(d: Tensor) -> tuple[Tensor, Tensor]:
    r"""∂/∂a of the two generator losses per example, at D(G(z)) = d = σ(a).

    minimax: ∂/∂a log(1 − σ(a)) = −σ(a) = −d, which vanishes as d → 0;
    non-saturating: ∂/∂a (−log σ(a)) = −(1 − σ(a)) = −(1 − d), which tends to −1 as d → 0.
    """
    return -d, -(1 - d)
