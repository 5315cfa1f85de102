"""The comparison chapter's exercises: reference solutions pass, plausible wrong answers fail."""

from __future__ import annotations

import math

import pytest
import torch

from thesis_lib import metrics
from thesis_lib.exercises import comparison as ex


def _passes(check, fn, capsys) -> bool:
    ok = check(fn)
    out = capsys.readouterr().out
    assert out.startswith("✓" if ok else "✗") and out.count("\n") == 1, out
    return ok


def test_parzen_solution_and_library_pass(capsys):
    assert _passes(ex.check_parzen, ex.solution_parzen, capsys)
    assert _passes(ex.check_parzen, metrics.parzen_log_likelihood, capsys)


def _naive_parzen(samples, x, sigma):  # exp before log: every kernel underflows for far points
    s, x = samples.flatten(1).double(), x.flatten(1).double()
    k = torch.exp(-torch.cdist(x, s).square() / (2 * sigma**2)).mean(1)
    return torch.log(k) - 0.5 * s.shape[1] * math.log(2 * math.pi * sigma**2)


def _no_normaliser(samples, x, sigma):
    return ex.solution_parzen(samples, x, sigma) + 0.5 * x[0].numel() * math.log(2 * math.pi * sigma**2)


def _sum_not_mean(samples, x, sigma):
    return ex.solution_parzen(samples, x, sigma) + math.log(samples.shape[0])


@pytest.mark.parametrize("wrong", [_naive_parzen, _no_normaliser, _sum_not_mean], ids=["exp-underflow", "no-normaliser", "sum-not-mean"])
def test_parzen_wrong_answers_fail(wrong, capsys):
    assert not _passes(ex.check_parzen, wrong, capsys)


def test_mnist_score_solution_and_library_pass(capsys):
    assert _passes(ex.check_mnist_score, ex.solution_mnist_score, capsys)
    assert _passes(ex.check_mnist_score, metrics.mnist_score, capsys)


def _log_score(probs):  # forgot the exp
    return math.log(ex.solution_mnist_score(probs))


def _entropy_of_marginal(probs):  # exp H(p(y)) ignores how confident each prediction is
    m = probs.double().mean(0)
    return math.exp(-(m * m.clamp_min(1e-12).log()).sum().item())


@pytest.mark.parametrize("wrong", [_log_score, _entropy_of_marginal], ids=["log-score", "marginal-only"])
def test_mnist_score_wrong_answers_fail(wrong, capsys):
    assert not _passes(ex.check_mnist_score, wrong, capsys)
