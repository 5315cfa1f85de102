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


def _log_kernels(samples, x, sigma):
    """The flattened float64 inputs and the (m, n) log-kernels -||x - s||^2 / (2 sigma^2)."""
    s, x = samples.flatten(1).double(), x.flatten(1).double()
    return s, -torch.cdist(x, s).square() / (2 * sigma**2)


def _normaliser(d, sigma):
    return 0.5 * d * math.log(2 * math.pi * sigma**2)


def _one_shift_for_all_rows(samples, x, sigma):  # a hand-made log-sum-exp that subtracts the global maximum
    s, a = _log_kernels(samples, x, sigma)
    top = a.max()
    return torch.log(torch.exp(a - top).mean(1)) + top - _normaliser(s.shape[1], sigma)


def _no_half_in_exponent(samples, x, sigma):
    s, a = _log_kernels(samples, x, sigma)
    return torch.logsumexp(2 * a, 1) - math.log(s.shape[0]) - _normaliser(s.shape[1], sigma)


def _sigma_not_squared_in_normaliser(samples, x, sigma):
    s, a = _log_kernels(samples, x, sigma)
    return torch.logsumexp(a, 1) - math.log(s.shape[0]) - 0.5 * s.shape[1] * math.log(2 * math.pi * sigma)


def _distance_not_squared(samples, x, sigma):
    s, xf = samples.flatten(1).double(), x.flatten(1).double()
    return (
        torch.logsumexp(-torch.cdist(xf, s) / (2 * sigma**2), 1) - math.log(s.shape[0]) - _normaliser(s.shape[1], sigma)
    )


def _d_from_channels(samples, x, sigma):  # d = samples.shape[1] is the number of channels, not of pixels
    s, a = _log_kernels(samples, x, sigma)
    return torch.logsumexp(a, 1) - math.log(s.shape[0]) - _normaliser(samples.shape[1], sigma)


def _mean_of_log_kernels(samples, x, sigma):  # the log of a geometric mean, not of the mean
    s, a = _log_kernels(samples, x, sigma)
    return a.mean(1) - _normaliser(s.shape[1], sigma)


def _n_from_x(samples, x, sigma):  # divides by the number of test points
    s, a = _log_kernels(samples, x, sigma)
    return torch.logsumexp(a, 1) - math.log(x.shape[0]) - _normaliser(s.shape[1], sigma)


def _averaged_over_x(samples, x, sigma):
    return ex.solution_parzen(samples, x, sigma).mean()


def _log_sum_exp_over_x(samples, x, sigma):  # the wrong axis of the (m, n) matrix
    s, a = _log_kernels(samples, x, sigma)
    return torch.logsumexp(a, 0) - math.log(s.shape[0]) - _normaliser(s.shape[1], sigma)


def _sigma_read_as_variance(samples, x, sigma):
    return ex.solution_parzen(samples, x, math.sqrt(sigma))


def _per_pixel_mixture(samples, x, sigma):  # a log-sum-exp per pixel: a product of 1-D mixtures
    s, xf = samples.flatten(1).double(), x.flatten(1).double()
    a = -((xf[:, None] - s[None]) ** 2) / (2 * sigma**2)  # (m, n, d)
    return (torch.logsumexp(a, 1) - math.log(s.shape[0]) - _normaliser(1, sigma)).sum(-1)


SIGMA = 0.2  # the notebook's bandwidth


def _global_sigma(samples, x, sigma):  # uses the notebook's SIGMA instead of the argument
    return ex.solution_parzen(samples, x, SIGMA)


_PARZEN_WRONG = {
    "exp-underflow": _naive_parzen,
    "no-normaliser": _no_normaliser,
    "sum-not-mean": _sum_not_mean,
    "one-shift-for-all-rows": _one_shift_for_all_rows,
    "no-half-in-exponent": _no_half_in_exponent,
    "sigma-not-squared-in-normaliser": _sigma_not_squared_in_normaliser,
    "distance-not-squared": _distance_not_squared,
    "d-from-channels": _d_from_channels,
    "mean-of-log-kernels": _mean_of_log_kernels,
    "n-from-x": _n_from_x,
    "averaged-over-x": _averaged_over_x,
    "log-sum-exp-over-x": _log_sum_exp_over_x,
    "sigma-read-as-variance": _sigma_read_as_variance,
    "per-pixel-mixture": _per_pixel_mixture,
    "global-sigma": _global_sigma,
}


@pytest.mark.parametrize("wrong", _PARZEN_WRONG.values(), ids=_PARZEN_WRONG.keys())
def test_parzen_wrong_answers_fail(wrong, capsys):
    assert not _passes(ex.check_parzen, wrong, capsys)


def _broadcast_parzen(samples, x, sigma):
    s, xf = samples.flatten(1).double(), x.flatten(1).double()
    sq = ((xf[:, None] - s[None]) ** 2).sum(-1)
    return torch.logsumexp(-sq / (2 * sigma**2), 1) - math.log(s.shape[0]) - _normaliser(s.shape[1], sigma)


def test_parzen_counts_its_checks_and_accepts_a_broadcast_version(capsys):
    ex.check_parzen(ex.solution_parzen)
    assert "✓ parzen: all 5 checks passed" in capsys.readouterr().out
    assert _passes(ex.check_parzen, _broadcast_parzen, capsys)


def test_mnist_score_solution_and_library_pass(capsys):
    assert _passes(ex.check_mnist_score, ex.solution_mnist_score, capsys)
    assert _passes(ex.check_mnist_score, metrics.mnist_score, capsys)


def _log_score(probs):  # forgot the exp
    return math.log(ex.solution_mnist_score(probs))


def _entropy_of_marginal(probs):  # exp H(p(y)) ignores how confident each prediction is
    m = probs.double().mean(0)
    return math.exp(-(m * m.clamp_min(1e-12).log()).sum().item())


def _kl_terms(p, m):
    return (p * (p.log() - m.log())).sum(1)


def _xlogy_of_ratio(probs):  # xlogy(p, p / m): 0 / 0 = nan for a class nobody predicts
    p = probs.double()
    return math.exp(torch.xlogy(p, p / p.mean(0, keepdim=True)).sum(1).mean().item())


def _kl_div_batchmean(probs):  # F.kl_div(log m, p): 0 * log 0 = nan for a class nobody predicts
    p = probs.double()
    return math.exp(
        torch.nn.functional.kl_div(p.mean(0, keepdim=True).log().expand_as(p), p, reduction="batchmean").item()
    )


def _no_clamp(probs):  # 0 * log 0 = nan for confident predictions
    p = probs.double()
    return math.exp(_kl_terms(p, p.mean(0, keepdim=True)).mean().item())


def _marginal_over_classes(probs):  # p(y) averaged over the wrong axis
    p = probs.double().clamp_min(1e-12)
    return math.exp(_kl_terms(p, p.mean(1, keepdim=True)).mean().item())


def _reverse_kl(probs):  # KL(p(y) || p(y|x))
    p = probs.double().clamp_min(1e-12)
    m = p.mean(0, keepdim=True)
    return math.exp((m * (m.log() - p.log())).sum(1).mean().item())


def _mean_of_exp(probs):  # E exp(KL) instead of exp(E KL)
    p = probs.double().clamp_min(1e-12)
    return _kl_terms(p, p.mean(0, keepdim=True)).exp().mean().item()


def _eps_added(probs):  # p + 1e-6 everywhere, without renormalising
    p = probs.double() + 1e-6
    return math.exp(_kl_terms(p, p.mean(0, keepdim=True)).mean().item())


def _marginal_summed(probs):  # p(y) = sum, not mean, over the samples
    p = probs.double().clamp_min(1e-12)
    return math.exp(_kl_terms(p, p.sum(0, keepdim=True)).mean().item())


def _softmax_of_probs(probs):  # treats the probabilities as logits
    return ex.solution_mnist_score(torch.softmax(probs, 1))


def _clamps_in_place(probs):  # changes the caller's predictions
    p = probs.clamp_(min=1e-12)
    return math.exp(_kl_terms(p, p.mean(0, keepdim=True)).mean().item())


_SCORE_WRONG = {
    "log-score": _log_score,
    "marginal-only": _entropy_of_marginal,
    "xlogy-of-ratio": _xlogy_of_ratio,
    "kl-div-batchmean": _kl_div_batchmean,
    "no-clamp": _no_clamp,
    "marginal-over-classes": _marginal_over_classes,
    "reverse-kl": _reverse_kl,
    "mean-of-exp": _mean_of_exp,
    "eps-added": _eps_added,
    "marginal-summed": _marginal_summed,
    "softmax-of-probs": _softmax_of_probs,
    "clamps-in-place": _clamps_in_place,
}


@pytest.mark.parametrize("wrong", _SCORE_WRONG.values(), ids=_SCORE_WRONG.keys())
def test_mnist_score_wrong_answers_fail(wrong, capsys):
    assert not _passes(ex.check_mnist_score, wrong, capsys)


def _entropy_form(probs):  # exp(H(p(y)) - E H(p(y|x))): the same number
    p = probs.double()
    return math.exp((torch.special.entr(p.mean(0)).sum() - torch.special.entr(p).sum(1).mean()).item())


def _in_bits(probs):  # 2 ** (KL in bits) = exp(KL in nats)
    p = probs.double().clamp_min(1e-12)
    m = p.mean(0, keepdim=True)
    return 2 ** (p * (p.log2() - m.log2())).sum(1).mean().item()


def _tensor_result(probs):  # a 0-d tensor instead of a float: harmless
    p = probs.double().clamp_min(1e-12)
    return torch.exp(_kl_terms(p, p.mean(0, keepdim=True)).mean())


@pytest.mark.parametrize("right", [_entropy_form, _in_bits, _tensor_result])
def test_mnist_score_equivalent_forms_pass(right, capsys):
    assert _passes(ex.check_mnist_score, right, capsys)


def test_mnist_score_counts_its_checks(capsys):
    ex.check_mnist_score(ex.solution_mnist_score)
    assert "✓ mnist_score: all 5 checks passed" in capsys.readouterr().out


# ----------------------------------------------------------------------------- what the checks say is wrong
def _fails_with(check, fn, number, message, capsys):
    """The check fails at check ``number`` and its one line says ``message`` (what is wrong, not only which check)."""
    assert not check(fn)
    out = capsys.readouterr().out
    assert f"check {number} of" in out and message in out and out.count("\n") == 1, out


@pytest.mark.parametrize(
    "wrong, number, message",
    [
        pytest.param(_no_normaliser, 2, "lacks the Gaussian's normaliser", id="no-normaliser"),
        pytest.param(_sum_not_mean, 3, "log n = log 50 too high", id="sum-not-mean"),
        pytest.param(_naive_parzen, 4, "a log-sum-exp", id="exp-underflow"),
        pytest.param(_one_shift_for_all_rows, 5, "the maximum is taken per row of x", id="one-shift-for-all-rows"),
        pytest.param(_sigma_not_squared_in_normaliser, 2, "uses σ where σ² is meant", id="sigma-not-squared"),
        pytest.param(_d_from_channels, 2, "uses d = 1, the channels", id="d-from-channels"),
        pytest.param(_no_half_in_exponent, 2, "exponent lacks the 1/2", id="no-half-in-exponent"),
        pytest.param(_distance_not_squared, 2, "the distance, not its square", id="distance-not-squared"),
        pytest.param(_sigma_read_as_variance, 2, "reads sigma as the variance", id="sigma-read-as-variance"),
        pytest.param(_mean_of_log_kernels, 3, "averages the log-kernels", id="mean-of-log-kernels"),
        pytest.param(_averaged_over_x, 1, "the mean over the rows of x", id="averaged-over-x"),
        pytest.param(_log_sum_exp_over_x, 1, "one value per sample", id="log-sum-exp-over-x"),
    ],
)
def test_parzen_says_what_is_wrong(wrong, number, message, capsys):
    _fails_with(ex.check_parzen, wrong, number, message, capsys)


@pytest.mark.parametrize(
    "wrong, number, message",
    [
        pytest.param(_log_score, 1, "the score is its exp", id="log-score"),
        pytest.param(_no_clamp, 1, "Yours gives nan", id="no-clamp"),
        pytest.param(_xlogy_of_ratio, 2, "Yours gives nan", id="xlogy-of-ratio"),
        pytest.param(_marginal_over_classes, 2, "averages over the samples (axis 0)", id="marginal-over-classes"),
        pytest.param(_entropy_of_marginal, 3, "ignores how sure each prediction is", id="marginal-only"),
        pytest.param(_mean_of_exp, 4, "exp of the averaged KL", id="mean-of-exp"),
        pytest.param(_reverse_kl, 1, "is the KL reversed?", id="reverse-kl"),
        pytest.param(_marginal_summed, 1, "not their sum", id="marginal-summed"),
    ],
)
def test_mnist_score_says_what_is_wrong(wrong, number, message, capsys):
    _fails_with(ex.check_mnist_score, wrong, number, message, capsys)
