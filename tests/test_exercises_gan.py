"""The GAN chapter's exercises: every reference solution passes its check, plausible wrong answers
fail it, and the derivations' answers are numerically right."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from thesis_lib import losses
from thesis_lib.exercises import gan as ex


# ----------------------------------------------------------------------------- discriminator loss
def test_discriminator_loss_solution_passes(capsys):
    assert ex.check_discriminator_loss(ex.solution_discriminator_loss)
    assert "✓ discriminator_loss: all 5 checks passed" in capsys.readouterr().out


def test_discriminator_loss_solution_equals_library():
    real, fake = torch.randn(50) * 3, torch.randn(50) * 3
    assert torch.allclose(ex.solution_discriminator_loss(real, fake), losses.discriminator_loss(real, fake))


def test_discriminator_loss_naive_log_sigmoid_fails(capsys):
    """log(sigmoid(a)) is right on moderate logits but gives inf for a confident D."""
    def naive(r, f):
        return -(torch.log(torch.sigmoid(r)).mean() + torch.log(1 - torch.sigmoid(f)).mean())

    assert not ex.check_discriminator_loss(naive)
    assert "check 5 of 5 failed" in capsys.readouterr().out


def test_discriminator_loss_wrong_answers_fail(capsys):
    wrong = {
        "the value function itself (ascended, not descended)": lambda r, f: F.logsigmoid(r).mean() + F.logsigmoid(-f).mean(),
        "fakes labelled real": lambda r, f: -(F.logsigmoid(r).mean() + F.logsigmoid(f).mean()),
        "sum instead of mean": lambda r, f: -(F.logsigmoid(r).sum() + F.logsigmoid(-f).sum()),
        "per-example, not reduced": lambda r, f: -(F.logsigmoid(r) + F.logsigmoid(-f)),
        "the non-saturating generator loss": lambda r, f: losses.generator_loss_nonsaturating(f),
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
    assert "✓ js_divergence: all 6 checks passed" in capsys.readouterr().out


def test_js_divergence_wrong_answers_fail(capsys):
    def kl(a, b):
        return (a * (a / b).log()).sum(-1)

    wrong = {
        "KL instead of JSD": kl,
        "0 log 0 not handled (nan on disjoint supports)": lambda p, q: 0.5 * kl(p, (p + q) / 2) + 0.5 * kl(q, (p + q) / 2),
        "KL(p || q)/2 + KL(q || p)/2 (symmetrised KL)": lambda p, q: 0.5 * kl(p, q) + 0.5 * kl(q, p),
        "missing the 1/2": lambda p, q: ex.solution_js_divergence(p, q) * 2,
        "xlogy(p, p / m): nan where p = q = 0": lambda p, q: 0.5 * torch.xlogy(p, 2 * p / (p + q)).sum(-1) + 0.5 * torch.xlogy(q, 2 * q / (p + q)).sum(-1),
    }
    for name, fn in wrong.items():
        assert not ex.check_js_divergence(fn), name
    assert "✓" not in capsys.readouterr().out


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
        y_star = ex.solution_optimal_d_pointwise(torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64))
        assert abs(float(y_grid - y_star)) < 1e-4, (a, b)
    assert torch.allclose(ex.solution_optimal_d_pointwise(torch.tensor(2.0), torch.tensor(6.0)), losses.optimal_discriminator(torch.tensor(2.0), torch.tensor(6.0)))


def test_virtual_training_criterion_is_js_and_minimal_at_p_data():
    """Theorem 1: C(G) = -log 4 + 2 JSD, minimal (-log 4) exactly when p_g = p_data."""
    p = torch.softmax(torch.randn(20, 7, dtype=torch.float64), -1)
    q = torch.softmax(torch.randn(20, 7, dtype=torch.float64), -1)
    c = ex.solution_virtual_training_criterion(p, q)
    assert torch.allclose(c, -math.log(4) + 2 * ex.solution_js_divergence(p, q))
    assert bool((c > -math.log(4)).all())
    assert torch.allclose(ex.solution_virtual_training_criterion(p, p), torch.full((20,), -math.log(4), dtype=torch.float64))


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
