"""The continuous Bernoulli (Loaiza-Ganem & Cunningham 2019): its log-normaliser in losses.py,
checked by quadrature, against 50-digit arithmetic, the closed form in λ and torch.distributions;
and the metric that reads a trained Bernoulli decoder as a density on [0, 1]^D."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.integrate import simpson
from torch.distributions import ContinuousBernoulli

from thesis_lib import losses, metrics
from thesis_lib.config import AAEConfig, GANConfig, VAEConfig
from thesis_lib.data import Dataset
from thesis_lib.models import build_model

log_norm = losses.continuous_bernoulli_log_norm
# logits from λ = 1/2 (0) through the series band (|η| < 0.1) and its edge to saturated pixels
ETAS = [0.0, 1e-9, 1e-4, 0.03, 0.0999999, 0.1, 0.1000001, 0.25, 1.0, 3.0, 8.0, 20.0, 45.0]
ETAS = sorted({s * e for e in ETAS for s in (1, -1)})


def _exact(eta: float, dps: int = 50) -> float:
    """log(η / tanh(η/2)) in 50-digit arithmetic (log 2 at η = 0)."""
    with mpmath.workdps(dps):
        e = mpmath.mpf(eta)
        return float(mpmath.log(2) if e == 0 else mpmath.log(e / mpmath.tanh(e / 2)))


def _exact_slope(eta: float) -> float:
    with mpmath.workdps(50):
        return float(
            mpmath.diff(lambda e: mpmath.log(e / mpmath.tanh(e / 2)) if e != 0 else mpmath.log(2), mpmath.mpf(eta))
        )


def _integral(log_norm_fn, etas: list[float], n: int = 200_001) -> np.ndarray:
    """∫_0^1 exp(log C(η) + x log λ + (1 - x) log(1 - λ)) dx for each η, by Simpson's rule on n points."""
    x = torch.linspace(0, 1, n, dtype=torch.float64)
    logits = torch.tensor(etas, dtype=torch.float64)[:, None].expand(-1, n)
    log_density = -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none") + log_norm_fn(
        logits
    )
    return simpson(torch.exp(log_density).numpy(), x=x.numpy(), axis=-1)


# ============================================================================ the normaliser
def test_the_density_integrates_to_one():
    """p(x|λ) = C(λ) λ^x (1-λ)^(1-x) is a density on [0, 1] for every λ, from near 0 through 1/2 to near 1."""
    integral = _integral(log_norm, ETAS)
    assert np.abs(integral - 1).max() < 1e-9, dict(zip(ETAS, integral))
    # and so does the library's per-example density of a 2-pixel image: the product of the pixels'
    grid = torch.linspace(0, 1, 1001, dtype=torch.float64)
    x = torch.cartesian_prod(grid, grid)  # (1001², 2): each row one image
    logits = torch.tensor([-6.0, 0.02], dtype=torch.float64).expand_as(x)
    density = torch.exp(losses.continuous_bernoulli_log_likelihood(x, logits)).view(1001, 1001).numpy()
    assert simpson(simpson(density, x=grid.numpy()), x=grid.numpy()) == pytest.approx(1, abs=1e-9)


@pytest.mark.parametrize(
    "wrong",
    [
        pytest.param(lambda eta: log_norm(eta) - math.log(2), id="without the factor 2"),
        pytest.param(lambda eta: torch.zeros_like(eta), id="none: the Bernoulli read on grey levels"),
        pytest.param(lambda eta: torch.log(eta.abs().clamp_min(1e-3)), id="log|η|, the large-|η| limit"),
    ],
)
def test_a_wrong_normaliser_fails_the_integral(wrong):
    integral = _integral(wrong, ETAS)
    assert np.abs(integral - 1).max() > 0.3, dict(zip(ETAS, integral))


def test_stable_form_matches_50_digit_arithmetic_everywhere():
    eta = torch.tensor([*ETAS, 200.0, -1e4, 1e30], dtype=torch.float64)
    exact = torch.tensor([_exact(e) for e in eta.tolist()], dtype=torch.float64)
    torch.testing.assert_close(log_norm(eta), exact, rtol=4e-16, atol=4e-16)
    assert log_norm(torch.tensor(1e30, dtype=torch.float64)).item() == pytest.approx(
        math.log(1e30), rel=1e-15
    )  # log C → log|η|


def test_stable_form_matches_the_closed_form_in_lambda_away_from_one_half():
    lam = torch.cat([torch.linspace(1e-6, 0.45, 500), torch.linspace(0.55, 1 - 1e-6, 500)]).double()
    closed = torch.log(2 * torch.atanh(1 - 2 * lam) / (1 - 2 * lam))
    torch.testing.assert_close(log_norm(torch.logit(lam)), closed, rtol=1e-12, atol=1e-12)


def test_series_near_one_half_matches_the_expansion_in_lambda():
    """Inside the band the library uses the series in u = η/2; in t = λ - 1/2 it is log 2 + 4t²/3 + 104t⁴/45 + O(t⁶)."""
    t = torch.tensor([-4e-3, -1e-3, -1e-5, 0.0, 1e-5, 1e-3, 4e-3], dtype=torch.float64)
    eta = torch.logit(0.5 + t)
    assert bool((eta.abs() < 0.1).all())  # all inside the series band
    taylor = math.log(2) + 4 / 3 * t**2 + 104 / 45 * t**4
    torch.testing.assert_close(log_norm(eta), taylor, rtol=0, atol=float(t.abs().max()) ** 6 * 10)
    assert log_norm(torch.tensor(0.0)).item() == pytest.approx(math.log(2), abs=1e-7)  # C(1/2) = 2


def test_matches_torch_distributions_continuous_bernoulli():
    """An independent implementation (in λ, with its own Taylor band): log_prob = log C - BCE."""
    eta = torch.linspace(-10, 10, 2001, dtype=torch.float64)
    x = torch.full_like(eta, 0.3)
    theirs = ContinuousBernoulli(logits=eta).log_prob(x) + F.binary_cross_entropy_with_logits(eta, x, reduction="none")
    torch.testing.assert_close(log_norm(eta), theirs, rtol=1e-9, atol=1e-9)


def test_gradient_is_finite_and_right_at_one_half_and_across_the_band_edge():
    zero = torch.tensor(0.0, requires_grad=True)
    (g,) = torch.autograd.grad(log_norm(zero), zero)
    assert g.item() == 0.0  # C is even in η and smooth at 0
    points = [-40.0, -2.0, -0.1, -0.05, 0.0, 1e-7, 0.0999999, 0.1, 0.1000001, 0.3, 5.0]
    eta = torch.tensor(points, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(log_norm(eta).sum(), eta)
    torch.testing.assert_close(
        g, torch.tensor([_exact_slope(e) for e in points], dtype=torch.float64), rtol=1e-9, atol=1e-12
    )
    assert torch.autograd.gradcheck(log_norm, (eta.detach().clone().requires_grad_(),))
    big = torch.tensor([-1e30, -1e4, 1e4, 1e30], requires_grad=True)
    (g,) = torch.autograd.grad(log_norm(big).sum(), big)
    assert bool(torch.isfinite(g).all() and torch.isfinite(log_norm(big)).all())


def test_float32_and_float64_agree():
    eta = torch.cat(
        [torch.linspace(-30, 30, 20_001), torch.linspace(-0.2, 0.2, 4001), torch.tensor([-1e4, 1e4])]
    ).double()
    values, grads = {}, {}
    for dtype in (torch.float32, torch.float64):
        e = eta.to(dtype).requires_grad_()
        v = log_norm(e)
        (grads[dtype],) = torch.autograd.grad(v.sum(), e)
        values[dtype] = v.detach()
        assert v.dtype == dtype
    torch.testing.assert_close(values[torch.float32].double(), values[torch.float64], rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(grads[torch.float32].double(), grads[torch.float64], rtol=1e-4, atol=2e-6)


def test_log_likelihood_is_bernoulli_plus_summed_log_normalisers_and_broadcasts():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(3, 1, 4, 4, generator=g, dtype=torch.float64)
    logits = 4 * torch.randn(5, 3, 1, 4, 4, generator=g, dtype=torch.float64)  # (L, B, ...)
    ll = losses.continuous_bernoulli_log_likelihood(x, logits)
    assert ll.shape == (5, 3)
    torch.testing.assert_close(ll, ContinuousBernoulli(logits=logits).log_prob(x.expand_as(logits)).flatten(2).sum(-1))
    torch.testing.assert_close(ll - losses.bernoulli_log_likelihood(x, logits), log_norm(logits).flatten(2).sum(-1))
    torch.testing.assert_close(losses.reconstruction_continuous_bernoulli(logits, x), -ll)
    assert bool(
        (losses.reconstruction_continuous_bernoulli(logits, x) < losses.reconstruction_bce(logits, x)).all()
    )  # log C > 0


# ============================================================================ the metric
def _grey_images(n: int = 64, seed: int = 0) -> Dataset:
    """Random 8-bit grey-level 28x28 images (values k/255)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, 1, 28, 28), generator=g).float() / 255
    return Dataset("mnist", "test", x, torch.arange(n) % 10, 10)


def _constant_decoder(model, bias: float):
    """Make the decoder's logits ``bias`` for every z (its last layer's weights zero)."""
    last = [m for m in model.decoder.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(bias)
    return model


@pytest.mark.parametrize("bias", [0.0, -3.0, 7.5])
def test_bound_of_a_decoder_that_ignores_z_is_the_exact_density_minus_kl(bias):
    """With p(x|z) = p(x) the continuous-Bernoulli bound is log p_CB(x) - KL(q || p) exactly (estimator B)."""
    torch.manual_seed(0)
    vae = _constant_decoder(build_model(VAEConfig(hidden_dims=(16,), latent_dim=3)).eval(), bias)
    data = _grey_images()
    r = metrics.continuous_bernoulli_bound(vae, data, batch_size=20)
    assert r["elbo"] == pytest.approx(
        metrics.test_elbo(vae, data, batch_size=20)["elbo"], rel=1e-12
    )  # as trained: test_elbo's
    assert r["log_norm"] == pytest.approx(784 * _exact(bias), rel=1e-6)
    log_density = (
        ContinuousBernoulli(logits=torch.full((784,), bias, dtype=torch.float64))
        .log_prob(data.x.flatten(1).double())
        .sum(1)
    )
    assert r["elbo_cb"] == pytest.approx(
        log_density.mean().item() - r["kl"], rel=1e-5, abs=1e-3
    )  # float32 sums of 784 terms
    assert r["elbo_cb"] == pytest.approx(r["elbo"] + r["log_norm"], rel=1e-12)


def test_bound_uses_the_vocabulary_of_every_model_with_a_bernoulli_decoder():
    torch.manual_seed(0)
    data = _grey_images(32)
    aae = build_model(AAEConfig(hidden_dims=(16,), d_hidden=(8,), encoder="gaussian", latent_dim=3)).eval()
    r = metrics.continuous_bernoulli_bound(aae, data)
    assert math.isfinite(r["elbo_cb"]) and r["log_norm"] > 784 * math.log(2) - 1e-3  # log C ≥ log 2 per pixel
    # L samples average the log-normalisers: the same expectation, a smaller Monte Carlo error
    r8 = metrics.continuous_bernoulli_bound(aae, data, n_samples=8)
    assert r8["log_norm"] == pytest.approx(r["log_norm"], rel=0.02)


def test_bound_rejects_what_it_cannot_read():
    data = _grey_images(8)
    gan = build_model(GANConfig(g_hidden=(16,), d_hidden=(16,), latent_dim=4))
    with pytest.raises(ValueError, match="needs a model with a trained Gaussian q"):
        metrics.continuous_bernoulli_bound(gan, data)
    gaussian = build_model(VAEConfig(hidden_dims=(16,), latent_dim=3, decoder="gaussian"))
    with pytest.raises(ValueError, match="needs a Bernoulli decoder, got VAE without one"):
        metrics.continuous_bernoulli_bound(gaussian, data)
    with pytest.raises(ValueError, match="bernoulli_logits needs decoder 'bernoulli', got decoder 'gaussian'"):
        gaussian.bernoulli_logits(torch.zeros(2, 3))
    vae = build_model(VAEConfig(hidden_dims=(16,), latent_dim=3))
    shifted = Dataset("mnist", "test", data.x - 0.5, data.y, 10)
    with pytest.raises(ValueError, match=r"a density on \[0, 1\], got pixels in \[-0.5, 0.5\]"):
        metrics.continuous_bernoulli_bound(vae, shifted)


def test_bits_per_dim():
    assert metrics.bits_per_dim(784 * math.log(2), 784) == pytest.approx(1.0)
    assert metrics.bits_per_dim(-784 * math.log(4), 784) == pytest.approx(-2.0)  # a density's log can be positive
    with pytest.raises(ValueError, match="n_dims must be an integer >= 1, got 0"):
        metrics.bits_per_dim(1.0, 0)


def test_dequantized_moves_each_level_into_its_bin_and_bounds_the_bins_probability():
    data = _grey_images(16)
    d = metrics.dequantized(data, seed=1)
    k = torch.round(data.x * 255)
    assert torch.equal(torch.floor(d.x * 256), k) and torch.equal(d.y, data.y)
    assert abs((d.x * 256 - k).mean().item() - 0.5) < 0.01  # u ~ U(0, 1)
    assert torch.equal(metrics.dequantized(data, seed=1).x, d.x)  # seeded
    with pytest.raises(ValueError, match="pixels on the grid k/255"):
        metrics.dequantized(Dataset("mnist", "test", data.x + 1e-2, data.y, 10))
    # Jensen: log P(bin) >= E_u log p(x̃) - log(levels), for one continuous-Bernoulli pixel, 4 levels
    eta, levels = torch.tensor(2.5, dtype=torch.float64), 4
    one = Dataset(
        "toy",
        "test",
        (torch.arange(levels, dtype=torch.float64) / (levels - 1)).repeat(5000)[:, None],
        torch.zeros(4 * 5000),
        1,
    )
    x = metrics.dequantized(one, levels=levels).x
    log_p = ContinuousBernoulli(logits=eta).log_prob(x[:, 0])
    lam = torch.sigmoid(eta)
    cdf = lambda v: (lam**v * (1 - lam) ** (1 - v) - (1 - lam)) / (2 * lam - 1)  # noqa: E731  ∫_0^v of the density
    for k in range(levels):
        log_bin = math.log(cdf(torch.tensor((k + 1) / levels)) - cdf(torch.tensor(k / levels)))
        bound = log_p[k::levels].mean().item() - math.log(levels)
        assert bound <= log_bin and log_bin - bound < 0.1, (k, bound, log_bin)
