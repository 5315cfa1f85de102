"""The autoencoder chapter's exercises: every reference solution passes its check, plausible wrong
answers fail it, and the derivations the solutions state are numerically right."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from thesis_lib import losses
from thesis_lib.exercises import ae as ex
from thesis_lib.models.ae import mask_square


def _passes(check, fn, capsys) -> bool:
    ok = check(fn)
    out = capsys.readouterr().out
    assert out.startswith("✓" if ok else "✗"), out  # one line of feedback, matching the verdict
    assert out.count("\n") == 1, out
    return ok


# ----------------------------------------------------------------------------- stable BCE from logits
def test_bce_with_logits_solution_passes(capsys):
    assert _passes(ex.check_bce_with_logits, ex.solution_bce_with_logits, capsys)


def test_bce_with_logits_library_passes(capsys):
    assert _passes(ex.check_bce_with_logits, losses.reconstruction_bce, capsys)


def _naive_bce(a, x):  # the textbook formula through sigmoid: log(0) for large |a|
    p = torch.sigmoid(a)
    return -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(1)


def _clamped_bce(a, x):  # the same with the probability clamped: finite, but capped
    p = torch.sigmoid(a).clamp(1e-7, 1 - 1e-7)
    return -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(1)


@pytest.mark.parametrize(
    "wrong",
    [
        _naive_bce,
        lambda a, x: (torch.log1p(torch.exp(a)) - x * a).flatten(1).sum(1),  # exact, but exp(1000) overflows
        lambda a, x: (a.clamp(min=0) - x * a).flatten(1).sum(1),  # forgot the log(1 + e^{-|a|}) term
        lambda a, x: (a.clamp(min=0) - x * a + torch.log1p(torch.exp(-a.abs()))).flatten(1).mean(1),  # mean over pixels
        lambda a, x: (a.clamp(min=0) - x * a + torch.log1p(torch.exp(-a.abs()))).sum(),  # summed over the batch too
        lambda a, x: (a.clamp(min=0) + x * a + torch.log1p(torch.exp(-a.abs()))).flatten(1).sum(1),  # sign of x * a
        lambda a, x: (
            F.binary_cross_entropy(torch.sigmoid(a), x, reduction="none").flatten(1).sum(1)
        ),  # clamps log at -100
    ],
)
def test_bce_with_logits_wrong_answers_fail(wrong, capsys):
    assert not _passes(ex.check_bce_with_logits, wrong, capsys)


@pytest.mark.parametrize(
    "wrong",
    [
        pytest.param(
            lambda a, x: (
                -(x * torch.log(torch.sigmoid(a) + 1e-7) + (1 - x) * torch.log(1 - torch.sigmoid(a) + 1e-7))
                .flatten(1)
                .sum(1)
            ),
            id="epsilon-inside-log",
        ),
        pytest.param(
            _clamped_bce,
            id="clamped-sigmoid",
        ),
        pytest.param(
            lambda a, x: (a.clamp(min=0) - x * a + torch.log1p(torch.exp(-a))).flatten(1).sum(1),
            id="exp(-a)-without-abs",
        ),
        pytest.param(
            lambda a, x: (
                torch.where(a > 0, a - x * a + torch.log1p(torch.exp(-a)), -x * a + torch.log1p(torch.exp(a)))
                .flatten(1)
                .sum(1)
            ),
            id="where-branches-nan-gradient",
        ),
        pytest.param(
            lambda a, x: (a.abs() - x * a + torch.log1p(torch.exp(-a.abs()))).flatten(1).sum(1), id="abs-instead-of-max"
        ),
        pytest.param(
            lambda a, x: (a.clamp(min=0) - x * a + torch.log1p(torch.exp(-a.abs()))).sum(1), id="sum-over-channels-only"
        ),
        pytest.param(
            lambda a, x: (a.clamp(min=0) - x * a + torch.log1p(torch.exp(-a.abs()))).sum((2, 3)),
            id="keeps-channel-axis",
        ),
        pytest.param(
            lambda a, x: (a.clamp(min=0) - x * a + torch.log1p(torch.exp(-a.abs()))).flatten(1)[:, :-1].sum(1),
            id="off-by-one-pixel-sum",
        ),
        pytest.param(
            lambda a, x: (a.clamp(min=0) - x * a + torch.log1p(torch.exp(-a.abs()))).flatten(1).sum(1) / math.log(2),
            id="bits-not-nats",
        ),
        pytest.param(
            lambda a, x: F.binary_cross_entropy_with_logits(x, torch.sigmoid(a), reduction="none").flatten(1).sum(1),
            id="arguments-swapped",
        ),
        pytest.param(
            lambda a, x: (
                (a.detach().clamp(min=0) - x * a.detach() + torch.log1p(torch.exp(-a.detach().abs()))).flatten(1).sum(1)
            ),
            id="detached",
        ),
        pytest.param(lambda a, x: [float(v) for v in losses.reconstruction_bce(a, x)], id="python-list"),
    ],
)
def test_bce_with_logits_more_wrong_answers_fail(wrong, capsys):
    assert not _passes(ex.check_bce_with_logits, wrong, capsys)


@pytest.mark.parametrize(
    "right",
    [
        pytest.param(lambda a, x: (F.softplus(a) - x * a).flatten(1).sum(1), id="softplus"),
        pytest.param(
            lambda a, x: -(x * F.logsigmoid(a) + (1 - x) * F.logsigmoid(-a)).flatten(1).sum(1), id="logsigmoid"
        ),
        # log(1 + u) instead of log1p(u): off by < 1e-7 per pixel, as accurate as PyTorch's own BCE, so accepted
        pytest.param(
            lambda a, x: (a.clamp(min=0) - x * a + torch.log(1 + torch.exp(-a.abs()))).flatten(1).sum(1),
            id="log-not-log1p",
        ),
        pytest.param(
            lambda a, x: F.binary_cross_entropy_with_logits(a, x, reduction="none").sum((1, 2, 3)), id="sum-over-dims"
        ),
    ],
)
def test_bce_with_logits_equivalent_forms_pass(right, capsys):
    assert _passes(ex.check_bce_with_logits, right, capsys)


def test_bce_with_logits_crash_is_reported(capsys):
    def broken(a, x):
        raise NotImplementedError

    assert not _passes(ex.check_bce_with_logits, broken, capsys)


# ----------------------------------------------------------------------------- masking corruption
def test_mask_square_solution_passes(capsys):
    assert _passes(ex.check_mask_square, ex.solution_mask_square, capsys)


def test_mask_square_library_passes(capsys):
    assert _passes(ex.check_mask_square, mask_square, capsys)


def test_mask_square_counts_its_checks(capsys):
    ex.check_mask_square(ex.solution_mask_square)
    assert "✓ mask_square: all 11 checks passed" in capsys.readouterr().out


def _fixed_centre(x, size):
    out = x.clone()
    h, w = x.shape[-2:]
    t, s = (h - size) // 2, (w - size) // 2
    out[..., t : t + size, s : s + size] = 0
    return out


def _same_place_for_batch(x, size):
    out = x.clone()
    t, s = (int(v) for v in torch.randint(0, x.shape[-1] - size + 1, (2,)))
    out[..., t : t + size, s : s + size] = 0
    return out


def _off_by_one(x, size):  # randint's upper end is exclusive: the last row and column are never reached
    out = x.clone()
    for i in range(x.shape[0]):
        t = int(torch.randint(0, x.shape[-2] - size, (1,)))
        s = int(torch.randint(0, x.shape[-1] - size, (1,)))
        out[i, :, t : t + size, s : s + size] = 0
    return out


def _in_place(x, size):
    for i in range(x.shape[0]):
        t, s = (int(v) for v in torch.randint(0, x.shape[-1] - size + 1, (2,)))
        x[i, :, t : t + size, s : s + size] = 0
    return x


def _too_small(x, size):
    return ex.solution_mask_square(x, size - 1)


def _stripe(x, size):  # rows instead of a square
    out = x.clone()
    for i in range(x.shape[0]):
        t = int(torch.randint(0, x.shape[-2] - size + 1, (1,)))
        out[i, :, t : t + size, :] = 0
    return out


def _noise_outside(x, size):  # the hole is right, but the rest is changed too
    return ex.solution_mask_square(x, size) * 0.99


def _loop(x, size, generator, hole):
    """A per-image loop that draws (top, left) with ``hole(h, w, size, generator)`` and zeroes all channels."""
    out = x.clone()
    h, w = x.shape[-2:]
    for i in range(x.shape[0]):
        t, s = hole(h, w, size, generator)
        out[i, :, t : t + size, s : s + size] = 0
    return out


def _randint(high, generator):
    return int(torch.randint(0, high, (1,), generator=generator))


def _ignores_generator(x, size, generator=None):
    return ex.solution_mask_square(x, size)


def _first_channel_only(x, size, generator=None):  # written for MNIST: out[i, 0] instead of out[i, :]
    out = x.clone()
    h, w = x.shape[-2:]
    for i in range(x.shape[0]):
        t, s = _randint(h - size + 1, generator), _randint(w - size + 1, generator)
        out[i, 0, t : t + size, s : s + size] = 0
    return out


def _place_per_channel(x, size, generator=None):  # every channel gets its own hole
    out = x.clone()
    h, w = x.shape[-2:]
    for i in range(x.shape[0]):
        for c in range(x.shape[1]):
            t, s = _randint(h - size + 1, generator), _randint(w - size + 1, generator)
            out[i, c, t : t + size, s : s + size] = 0
    return out


def _height_for_both(x, size, generator=None):  # the left column also ranges over 0 .. H - size
    return _loop(x, size, generator, lambda h, w, k, g: (_randint(h - k + 1, g), _randint(h - k + 1, g)))


def _width_for_both(x, size, generator=None):  # the top row also ranges over 0 .. W - size
    return _loop(x, size, generator, lambda h, w, k, g: (_randint(w - k + 1, g), _randint(w - k + 1, g)))


def _rounded_uniform(x, size, generator=None):  # round(u * (H - size)): the end places get half the share
    return _loop(
        x,
        size,
        generator,
        lambda h, w, k, g: (
            round(float(torch.rand(1, generator=g)) * (h - k)),
            round(float(torch.rand(1, generator=g)) * (w - k)),
        ),
    )


def _diagonal(x, size, generator=None):  # one random number for both top and left
    def hole(h, w, k, g):
        t = _randint(h - k + 1, g)
        return t, t

    return _loop(x, size, generator, hole)


@pytest.mark.parametrize(
    "wrong",
    [
        _fixed_centre,
        _same_place_for_batch,
        _off_by_one,
        _in_place,
        _too_small,
        _stripe,
        _noise_outside,
        _ignores_generator,
        _first_channel_only,
        _place_per_channel,
        _height_for_both,
        _width_for_both,
        _rounded_uniform,
        _diagonal,
    ],
)
def test_mask_square_wrong_answers_fail(wrong, capsys):
    assert not _passes(ex.check_mask_square, wrong, capsys)


def test_checks_leave_the_global_rng_alone(capsys):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    ex.check_mask_square(ex.solution_mask_square)
    ex.check_bce_with_logits(ex.solution_bce_with_logits)
    assert torch.equal(torch.rand(3), expected)
    capsys.readouterr()


# ----------------------------------------------------------------------------- derivations in the solutions
def test_gaussian_nll_is_scaled_squared_error_plus_constant():
    """ae-ex-gaussian: -log N(x; x_hat, s^2 I) = ||x - x_hat||^2 / (2 s^2) + (d / 2) log(2 pi s^2)."""
    torch.manual_seed(0)
    x, x_hat = torch.rand(5, 1, 28, 28, dtype=torch.float64), torch.rand(5, 1, 28, 28, dtype=torch.float64)
    d = 28 * 28
    for s in (1.0, 0.5, 0.1):
        nll = -torch.distributions.Normal(x_hat, s).log_prob(x).flatten(1).sum(1)
        formula = losses.reconstruction_mse(x_hat, x) / (2 * s**2) + 0.5 * d * math.log(2 * math.pi * s**2)
        assert torch.allclose(nll, formula)
        logvar = torch.full_like(x, math.log(s**2))
        assert torch.allclose(-losses.gaussian_log_likelihood(x, x_hat, logvar), formula)


def test_learned_shared_variance_gives_log_of_squared_error():
    """ae-ex-gaussian: the best shared s^2 is ||x - x_hat||^2 / d, and then NLL = (d/2) log(||x - x_hat||^2 / d) +
    (d/2)(1 + log 2 pi)."""
    torch.manual_seed(1)
    x, x_hat = torch.rand(784, dtype=torch.float64), torch.rand(784, dtype=torch.float64)
    d, sq = 784, float(((x - x_hat) ** 2).sum())

    def nll(var):
        return sq / (2 * var) + 0.5 * d * math.log(2 * math.pi * var)

    best = sq / d
    for factor in (0.5, 0.9, 0.99, 1.01, 1.1, 2.0):
        assert nll(best) < nll(best * factor)
    assert nll(best) == pytest.approx(0.5 * d * math.log(sq / d) + 0.5 * d * (1 + math.log(2 * math.pi)))


def test_bce_of_grey_target_is_minimised_at_the_target_with_value_its_entropy():
    """ae-ex-gaussian, part 3: for x in (0, 1), -[x log p + (1 - x) log(1 - p)] is smallest at p = x, where it equals
    H(x)."""
    p = torch.linspace(0.001, 0.999, 999, dtype=torch.float64)
    for x in (0.1, 0.3, 0.5, 0.8):
        bce = -(x * torch.log(p) + (1 - x) * torch.log1p(-p))
        assert float(p[bce.argmin()]) == pytest.approx(x, abs=1e-3)
        entropy = -(x * math.log(x) + (1 - x) * math.log(1 - x))
        assert float(bce.min()) == pytest.approx(entropy, abs=1e-6)
        # and the logit form agrees: the library's BCE at logit(x) is H(x) per pixel
        assert float(
            losses.reconstruction_bce(
                torch.logit(torch.tensor([[x]], dtype=torch.float64)), torch.tensor([[x]], dtype=torch.float64)
            )
        ) == pytest.approx(entropy)


def test_shared_variance_keeps_the_squared_error_minimiser_per_image_variance_does_not():
    """ae-ex-gaussian, part 2: one sigma for the data set -> log of the total squared error (same order);
    one sigma per image -> a sum of logs, which can prefer a reconstruction with a larger total error."""
    d = 784

    def profile_nll(squared_errors, per_image):  # NLL with the best variance(s) plugged in, constants dropped
        if per_image:
            return sum(0.5 * d * math.log(s / d) for s in squared_errors)
        return 0.5 * d * len(squared_errors) * math.log(sum(squared_errors) / (d * len(squared_errors)))

    a = [1.0, 50.0]  # reconstructions A and B of the same two images: per-image squared errors
    b = [10.0, 30.0]
    assert sum(b) < sum(a)  # B has the smaller squared error ...
    assert profile_nll(b, per_image=False) < profile_nll(a, per_image=False)  # ... and wins with one shared sigma
    assert profile_nll(a, per_image=True) < profile_nll(b, per_image=True)  # but A wins with a sigma per image


# ----------------------------------------------------------------------------- what the checks say is wrong
def _fails_with(check, fn, number, message, capsys):
    """The check fails at check ``number`` and its one line says ``message`` (what is wrong, not only which check)."""
    assert not check(fn)
    out = capsys.readouterr().out
    assert f"check {number} of" in out and message in out and out.count("\n") == 1, out


def _per_pixel(a, x):
    return F.binary_cross_entropy_with_logits(a, x, reduction="none")


@pytest.mark.parametrize(
    "wrong, number, message",
    [
        pytest.param(
            lambda a, x: _per_pixel(a, x).flatten(1).mean(1), 2, "mean over the pixels", id="mean-over-pixels"
        ),
        pytest.param(lambda a, x: _per_pixel(a, x).mean(), 1, "reduction='mean', the default", id="default-reduction"),
        pytest.param(
            lambda a, x: _per_pixel(a, x).sum(), 1, "the sum over the whole batch", id="summed-over-the-batch"
        ),
        pytest.param(lambda a, x: _per_pixel(a, x).flatten(1).sum(1) / math.log(2), 2, "in bits", id="bits-not-nats"),
        pytest.param(
            lambda a, x: (a.clamp(min=0) - x * a).flatten(1).sum(1),
            2,
            "lacks the term log(1 + exp(-|a|))",
            id="no-log1p-term",
        ),
        pytest.param(
            lambda a, x: (a.clamp(min=0) - x * a + torch.log1p(torch.exp(-a))).flatten(1).sum(1),
            2,
            "max outside, |a| in the exponent",
            id="exp(-a)-without-abs",
        ),
        pytest.param(_naive_bce, 4, "no log(0)", id="naive-sigmoid"),
        pytest.param(
            _clamped_bce,
            5,
            "clamping the probability (or an epsilon inside the log) caps the loss",
            id="clamped-sigmoid",
        ),
        pytest.param(
            lambda a, x: F.binary_cross_entropy(torch.sigmoid(a), x, reduction="none").flatten(1).sum(1),
            5,
            "only 100 nats",
            id="F.binary_cross_entropy",
        ),
        pytest.param(lambda a, x: _per_pixel(a, x).sum(1), 1, "shape (6, 5, 5)", id="sum-over-channels-only"),
    ],
)
def test_bce_with_logits_says_what_is_wrong(wrong, number, message, capsys):
    _fails_with(ex.check_bce_with_logits, wrong, number, message, capsys)


def _top_from_whole_height(x, size, generator=None):  # randint(0, H): squares near the edge are silently cut off
    return _loop(x, size, generator, lambda h, w, k, g: (_randint(h, g), _randint(w, g)))


@pytest.mark.parametrize(
    "wrong, number, message",
    [
        pytest.param(_top_from_whole_height, 3, "cut off by the bottom or right border", id="cut-off-at-the-border"),
        pytest.param(_off_by_one, 6, "top in 0 .. H - size, both ends", id="off-by-one"),
        pytest.param(_same_place_for_batch, 5, "same place: draw a place for each image", id="one-place-for-the-batch"),
        pytest.param(_diagonal, 5, "on the diagonal", id="diagonal"),
        pytest.param(_too_small, 3, "in a 11 x 11 box", id="too-small"),
    ],
)
def test_mask_square_says_what_is_wrong(wrong, number, message, capsys):
    _fails_with(ex.check_mask_square, wrong, number, message, capsys)


@pytest.mark.parametrize(
    "wrong, number, message",
    [
        pytest.param(
            lambda a, x: (
                torch.where(a > 0, a - x * a + torch.log1p(torch.exp(-a)), -x * a + torch.log1p(torch.exp(a)))
                .flatten(1)
                .sum(1)
            ),
            6,
            "Your gradient is nan",
            id="where-branches-nan-gradient",
        ),
        pytest.param(
            lambda a, x: losses.reconstruction_bce(a, x).detach(), 6, "passes no gradient back", id="detached"
        ),
        pytest.param(
            lambda a, x: [float(v) for v in losses.reconstruction_bce(a, x)],
            1,
            "Yours returns a list",
            id="python-list",
        ),
    ],
)
def test_bce_with_logits_says_what_is_wrong_with_the_result(wrong, number, message, capsys):
    _fails_with(ex.check_bce_with_logits, wrong, number, message, capsys)
