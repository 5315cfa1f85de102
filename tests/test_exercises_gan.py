"""The GAN chapter's exercises: every reference solution passes its check, plausible wrong answers
fail it, and the derivations' answers are numerically right."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from thesis_lib import losses
from thesis_lib.exercises import gan as ex


# ----------------------------------------------------------------------------- discriminator loss
def test_discriminator_loss_solution_passes(capsys):
    assert ex.check_discriminator_loss(ex.solution_discriminator_loss)
    assert "✓ discriminator_loss: all 6 checks passed" in capsys.readouterr().out


def test_discriminator_loss_solution_equals_library():
    real, fake = torch.randn(50) * 3, torch.randn(50) * 3
    assert torch.allclose(ex.solution_discriminator_loss(real, fake), losses.discriminator_loss(real, fake))


def test_discriminator_loss_naive_log_sigmoid_fails(capsys):
    """log(sigmoid(a)) is right on moderate logits but gives inf for a confident D."""

    def naive(r, f):
        return -(torch.log(torch.sigmoid(r)).mean() + torch.log(1 - torch.sigmoid(f)).mean())

    assert not ex.check_discriminator_loss(naive)
    assert "check 6 of 6 failed" in capsys.readouterr().out


def _negates_fakes_in_place(r, f):
    f.neg_()  # changes the caller's tensor
    return -(F.logsigmoid(r).mean() + F.logsigmoid(f).mean())


def test_discriminator_loss_equivalent_forms_pass(capsys):
    right = {
        "BCE with logits, targets 1 and 0": lambda r, f: (
            F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
            + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
        ),
        "softplus": lambda r, f: F.softplus(-r).mean() + F.softplus(f).mean(),
        "one mean of the per-pair sum (equal minibatch sizes)": lambda r, f: (
            -(F.logsigmoid(r) + F.logsigmoid(-f)).mean()
        ),
    }
    for name, fn in right.items():
        assert ex.check_discriminator_loss(fn), name
    assert "✗" not in capsys.readouterr().out


def test_discriminator_loss_wrong_answers_fail(capsys):
    wrong = {
        "the value function itself (ascended, not descended)": lambda r, f: (
            F.logsigmoid(r).mean() + F.logsigmoid(-f).mean()
        ),
        "fakes labelled real": lambda r, f: -(F.logsigmoid(r).mean() + F.logsigmoid(f).mean()),
        "sum instead of mean": lambda r, f: -(F.logsigmoid(r).sum() + F.logsigmoid(-f).sum()),
        "per-example, not reduced": lambda r, f: -(F.logsigmoid(r) + F.logsigmoid(-f)),
        "the non-saturating generator loss": lambda r, f: losses.generator_loss_nonsaturating(f),
        "one mean over real and fake together (half the loss)": lambda r, f: (
            -torch.cat([F.logsigmoid(r), F.logsigmoid(-f)]).mean()
        ),
        "1 - log D instead of log(1 - D)": lambda r, f: -(F.logsigmoid(r).mean() + (1 - F.logsigmoid(f)).mean()),
        "log1p(-sigmoid(a)): -inf for a confident D": lambda r, f: (
            -(F.logsigmoid(r).mean() + torch.log1p(-torch.sigmoid(f)).mean())
        ),
        "sigmoid clamped to [1e-7, 1 - 1e-7]": lambda r, f: (
            -(
                torch.log(torch.sigmoid(r).clamp(1e-7, 1 - 1e-7)).mean()
                + torch.log(1 - torch.sigmoid(f).clamp(1e-7, 1 - 1e-7)).mean()
            )
        ),
        "logsigmoid for the real term only": lambda r, f: (
            -(F.logsigmoid(r).mean() + torch.log(torch.sigmoid(-f)).mean())
        ),
        "D instead of log D": lambda r, f: -(torch.sigmoid(r).mean() + torch.sigmoid(-f).mean()),
        "the mean of the two BCE terms": lambda r, f: (
            (
                F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
                + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
            )
            / 2
        ),
        "in bits (log2)": lambda r, f: ex.solution_discriminator_loss(r, f) / math.log(2),
        "real and fake swapped": lambda r, f: ex.solution_discriminator_loss(f, r),
        "a Python float (.item())": lambda r, f: ex.solution_discriminator_loss(r, f).item(),
        "detached inputs (no gradient)": lambda r, f: ex.solution_discriminator_loss(r.detach(), f.detach()),
        "flips the fake logits in place": _negates_fakes_in_place,
    }
    for name, fn in wrong.items():
        assert not ex.check_discriminator_loss(fn), name
    assert "✓" not in capsys.readouterr().out


def test_discriminator_loss_check_survives_an_exception(capsys):
    def stub(r, f):
        raise NotImplementedError("your code here")

    assert not ex.check_discriminator_loss(stub)
    assert "NotImplementedError" in capsys.readouterr().out


# ----------------------------------------------------------------------------- Jensen-Shannon divergence
def test_js_divergence_solution_passes(capsys):
    assert ex.check_js_divergence(ex.solution_js_divergence)
    assert "✓ js_divergence: all 8 checks passed" in capsys.readouterr().out


def _clamps_in_place(p, q):  # changes the caller's distributions
    p, q = p.clamp_(min=1e-300), q.clamp_(min=1e-300)
    m = (p + q) / 2
    return 0.5 * (p * (p / m).log()).sum(-1) + 0.5 * (q * (q / m).log()).sum(-1)


def test_js_divergence_wrong_answers_fail(capsys):
    def kl(a, b):
        return (a * (a / b).log()).sum(-1)

    wrong = {
        "KL instead of JSD": kl,
        "0 log 0 not handled (nan on disjoint supports)": lambda p, q: (
            0.5 * kl(p, (p + q) / 2) + 0.5 * kl(q, (p + q) / 2)
        ),
        "KL(p || q)/2 + KL(q || p)/2 (symmetrised KL)": lambda p, q: 0.5 * kl(p, q) + 0.5 * kl(q, p),
        "missing the 1/2": lambda p, q: ex.solution_js_divergence(p, q) * 2,
        "xlogy(p, p / m): nan where p = q = 0": lambda p, q: (
            0.5 * torch.xlogy(p, 2 * p / (p + q)).sum(-1) + 0.5 * torch.xlogy(q, 2 * q / (p + q)).sum(-1)
        ),
        "F.kl_div(log m, p): nan where p = q = 0": lambda p, q: (
            0.5 * F.kl_div(((p + q) / 2).log(), p, reduction="none").sum(-1)
            + 0.5 * F.kl_div(((p + q) / 2).log(), q, reduction="none").sum(-1)
        ),
        "nan_to_num of the whole sum (disjoint rows become 0)": lambda p, q: torch.nan_to_num(
            0.5 * kl(p, (p + q) / 2) + 0.5 * kl(q, (p + q) / 2)
        ),
        "sum(1) instead of sum(-1): wrong for other shapes": lambda p, q: (
            0.5
            * (torch.xlogy(p, p) - torch.xlogy(p, (p + q) / 2) + torch.xlogy(q, q) - torch.xlogy(q, (p + q) / 2)).sum(1)
        ),
        "sum over the batch axis": lambda p, q: (
            0.5
            * (torch.xlogy(p, p) - torch.xlogy(p, (p + q) / 2) + torch.xlogy(q, q) - torch.xlogy(q, (p + q) / 2)).sum(0)
        ),
        "mean over outcomes instead of sum": lambda p, q: (
            0.5
            * (torch.xlogy(p, p) - torch.xlogy(p, (p + q) / 2) + torch.xlogy(q, q) - torch.xlogy(q, (p + q) / 2)).mean(
                -1
            )
        ),
        "one scalar for the batch": lambda p, q: ex.solution_js_divergence(p, q).sum(),
        "in bits (log2)": lambda p, q: ex.solution_js_divergence(p, q) / math.log(2),
        "m = p + q (no 1/2 in the mixture)": lambda p, q: (
            0.5 * torch.xlogy(p, p / (p + q)).nan_to_num().sum(-1)
            + 0.5 * torch.xlogy(q, q / (p + q)).nan_to_num().sum(-1)
        ),
        "KL(m || p) + KL(m || q): the reverse direction": lambda p, q: (
            0.5 * kl((p + q) / 2, p) + 0.5 * kl((p + q) / 2, q)
        ),
        "clamps p and q in place": _clamps_in_place,
        "only one half, KL(p || m)": lambda p, q: torch.where(
            p > 0, p * torch.log(2 * p / (p + q)), torch.zeros_like(p)
        ).sum(-1),
    }
    for name, fn in wrong.items():
        assert not ex.check_js_divergence(fn), name
    assert "✓" not in capsys.readouterr().out


def test_js_divergence_equivalent_forms_pass(capsys):
    def where_kl(a, b):
        return torch.where(a > 0, a * torch.log(a / b), torch.zeros_like(a)).sum(-1)

    right = {
        "torch.where around the log": lambda p, q: 0.5 * where_kl(p, (p + q) / 2) + 0.5 * where_kl(q, (p + q) / 2),
        "xlogy(p, p) - xlogy(p, m)": lambda p, q: (
            0.5
            * (torch.xlogy(p, p) - torch.xlogy(p, (p + q) / 2) + torch.xlogy(q, q) - torch.xlogy(q, (p + q) / 2)).sum(
                -1
            )
        ),
        "H(m) - (H(p) + H(q)) / 2": lambda p, q: (
            torch.special.entr((p + q) / 2).sum(-1)
            - 0.5 * (torch.special.entr(p).sum(-1) + torch.special.entr(q).sum(-1))
        ),
        "float32": lambda p, q: ex.solution_js_divergence(p.float(), q.float()),
    }
    for name, fn in right.items():
        assert ex.check_js_divergence(fn), name
    assert "✗" not in capsys.readouterr().out


def test_js_divergence_between_0_and_log_2():
    p = torch.softmax(torch.randn(100, 5, dtype=torch.float64), -1)
    q = torch.softmax(torch.randn(100, 5, dtype=torch.float64), -1)
    j = ex.solution_js_divergence(p, q)
    assert bool((j >= 0).all()) and bool((j <= math.log(2) + 1e-12).all())


# ----------------------------------------------------------------------------- derivations
def test_optimal_d_maximises_pointwise_objective():
    """y* = a/(a+b) maximises a log y + b log(1-y): compare with a fine grid search."""
    y = torch.linspace(1e-5, 1 - 1e-5, 200_001, dtype=torch.float64)
    for a, b in [(0.3, 0.7), (2.0, 0.5), (1e-3, 1.0), (1.0, 0.0)]:
        f = a * torch.log(y) + b * torch.log1p(-y)
        y_grid = y[f.argmax()]
        y_star = ex.solution_optimal_d_pointwise(
            torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
        )
        assert abs(float(y_grid - y_star)) < 1e-4, (a, b)
    assert torch.allclose(
        ex.solution_optimal_d_pointwise(torch.tensor(2.0), torch.tensor(6.0)),
        losses.optimal_discriminator(torch.tensor(2.0), torch.tensor(6.0)),
    )


def test_virtual_training_criterion_is_js_and_minimal_at_p_data():
    """Theorem 1: C(G) = -log 4 + 2 JSD, minimal (-log 4) exactly when p_g = p_data."""
    p = torch.softmax(torch.randn(20, 7, dtype=torch.float64), -1)
    q = torch.softmax(torch.randn(20, 7, dtype=torch.float64), -1)
    c = ex.solution_virtual_training_criterion(p, q)
    assert torch.allclose(c, -math.log(4) + 2 * ex.solution_js_divergence(p, q))
    assert bool((c > -math.log(4)).all())
    assert torch.allclose(
        ex.solution_virtual_training_criterion(p, p), torch.full((20,), -math.log(4), dtype=torch.float64)
    )


def test_virtual_training_criterion_is_the_value_at_the_best_discriminator():
    """C(G) = max_D V(D, G): no other discriminator does better."""
    p = torch.softmax(torch.randn(7, dtype=torch.float64), -1)
    q = torch.softmax(torch.randn(7, dtype=torch.float64), -1)
    c = ex.solution_virtual_training_criterion(p, q)
    for _ in range(50):
        d = torch.rand(7, dtype=torch.float64)
        assert float((p * d.log() + q * (1 - d).log()).sum()) <= float(c) + 1e-12


def test_generator_logit_gradients_match_autograd():
    d = torch.tensor([1e-4, 0.01, 0.3, 0.5, 0.9], dtype=torch.float64)
    a = torch.logit(d).requires_grad_(True)
    n = a.numel()
    (g_mm,) = torch.autograd.grad(losses.generator_loss_minimax(a) * n, a)
    (g_ns,) = torch.autograd.grad(losses.generator_loss_nonsaturating(a) * n, a)
    mm, ns = ex.solution_generator_logit_gradients(d)
    assert torch.allclose(g_mm, mm) and torch.allclose(g_ns, ns)
    assert abs(float(g_mm[0])) < 1e-3 and abs(float(g_ns[0])) > 0.999  # saturation at D(G(z)) -> 0


# ----------------------------------------------------------------------------- what the checks say is wrong
def _fails_with(check, fn, number, message, capsys):
    """The check fails at check ``number`` and its one line says ``message`` (what is wrong, not only which check)."""
    assert not check(fn)
    out = capsys.readouterr().out
    assert f"check {number} of" in out and message in out and out.count("\n") == 1, out


def _concatenated_bce(
    r, f
):  # the common convention: one BCE over the batch of reals and fakes, half the specified loss
    return F.binary_cross_entropy_with_logits(torch.cat([r, f]), torch.cat([torch.ones_like(r), torch.zeros_like(f)]))


@pytest.mark.parametrize(
    "wrong, number, message",
    [
        pytest.param(_concatenated_bce, 3, "the sum of the two minibatch means", id="concatenated-batch-bce"),
        pytest.param(
            _concatenated_bce, 3, "not the mean over the concatenated batch", id="concatenated-batch-bce-names-it"
        ),
        pytest.param(
            lambda r, f: (
                (
                    F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
                    + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
                )
                / 2
            ),
            3,
            "half the loss",
            id="mean-of-the-two-terms",
        ),
        pytest.param(
            lambda r, f: F.logsigmoid(r).mean() + F.logsigmoid(-f).mean(),
            3,
            "the loss D descends is -V",
            id="value-function",
        ),
        pytest.param(
            lambda r, f: -(F.logsigmoid(r).sum() + F.logsigmoid(-f).sum()), 3, "instead of summing", id="sum-not-mean"
        ),
        pytest.param(lambda r, f: ex.solution_discriminator_loss(r, f) / math.log(2), 3, "bits", id="bits"),
        pytest.param(
            lambda r, f: losses.generator_loss_nonsaturating(f), 3, "a term for the real images", id="generator-loss"
        ),
        pytest.param(
            lambda r, f: -(F.logsigmoid(r).mean() + F.logsigmoid(f).mean()),
            4,
            "it must be log(1 - D(G(z)))",
            id="fakes-labelled-real",
        ),
        pytest.param(lambda r, f: ex.solution_discriminator_loss(f, r), 4, "Real and fake are swapped", id="swapped"),
        pytest.param(lambda r, f: ex.solution_discriminator_loss(r, f).item(), 1, "no .item()", id="python-float"),
        pytest.param(lambda r, f: -(F.logsigmoid(r) + F.logsigmoid(-f)), 1, "shape (64,)", id="not-reduced"),
        pytest.param(
            lambda r, f: -(torch.log(torch.sigmoid(r)).mean() + torch.log(1 - torch.sigmoid(f)).mean()),
            6,
            "log 0 = -inf",
            id="naive-log-sigmoid",
        ),
        pytest.param(
            lambda r, f: (
                -(
                    torch.log(torch.sigmoid(r).clamp(1e-7, 1 - 1e-7)).mean()
                    + torch.log(1 - torch.sigmoid(f).clamp(1e-7, 1 - 1e-7)).mean()
                )
            ),
            6,
            "caps the loss of a confident D",
            id="clamped-sigmoid",
        ),
        pytest.param(
            lambda r, f: ex.solution_discriminator_loss(r.detach(), f.detach()), 6, "no gradient", id="detached"
        ),
    ],
)
def test_discriminator_loss_says_what_is_wrong(wrong, number, message, capsys):
    _fails_with(ex.check_discriminator_loss, wrong, number, message, capsys)


def _kl(a, b):
    return (a * (a / b).log()).sum(-1)


@pytest.mark.parametrize(
    "wrong, number, message",
    [
        pytest.param(_kl, 2, "Yours is KL(p || q), which is not symmetric", id="kl"),
        pytest.param(
            lambda p, q: 0.5 * _kl(p, (p + q) / 2) + 0.5 * _kl(q, (p + q) / 2), 3, "Yours gives nan", id="0-log-0-nan"
        ),
        pytest.param(lambda p, q: ex.solution_js_divergence(p, q) / math.log(2), 3, "that is bits", id="bits"),
        pytest.param(
            lambda p, q: 2 * ex.solution_js_divergence(p, q), 3, "a 1/2 in front of each KL term", id="missing-one-half"
        ),
        pytest.param(lambda p, q: 0.5 * _kl(p, q) + 0.5 * _kl(q, p), 3, "the symmetrised KL", id="symmetrised-kl"),
        pytest.param(
            lambda p, q: (
                0.5 * torch.xlogy(p, p / (p + q)).nan_to_num().sum(-1)
                + 0.5 * torch.xlogy(q, q / (p + q)).nan_to_num().sum(-1)
            ),
            2,
            "not p + q",
            id="m-is-p-plus-q",
        ),
        pytest.param(
            lambda p, q: (
                0.5
                * (
                    torch.xlogy(p, p) - torch.xlogy(p, (p + q) / 2) + torch.xlogy(q, q) - torch.xlogy(q, (p + q) / 2)
                ).mean(-1)
            ),
            3,
            "the mean over the 4 outcomes",
            id="mean-over-outcomes",
        ),
        pytest.param(
            lambda p, q: 0.5 * torch.xlogy(p, 2 * p / (p + q)).sum(-1) + 0.5 * torch.xlogy(q, 2 * q / (p + q)).sum(-1),
            4,
            "0/0",
            id="xlogy-of-ratio",
        ),
        pytest.param(
            lambda p, q: ex.solution_js_divergence(p, q).sum(), 1, "one number for the batch", id="one-scalar"
        ),
    ],
)
def test_js_divergence_says_what_is_wrong(wrong, number, message, capsys):
    _fails_with(ex.check_js_divergence, wrong, number, message, capsys)
