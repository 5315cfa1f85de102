"""The loss functions of thesis_lib.losses against analytic values, Monte Carlo and autograd."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from helpers import gen
from torch import nn
from torch.distributions import Normal, kl_divergence

from thesis_lib import losses, toy
from thesis_lib.config import VAEConfig
from thesis_lib.models import build_model


def _random_gaussian(seed: int, batch: int = 4, dim: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    g = gen(seed)
    mu = 1.5 * torch.randn(batch, dim, generator=g, dtype=torch.float64)
    logvar = torch.empty(batch, dim, dtype=torch.float64).uniform_(-2.0, 1.5, generator=g)
    return mu, logvar


# ============================================================================ densities
def test_log_densities_match_torch_distributions():
    mu, logvar = _random_gaussian(1)
    z = torch.randn(5, *mu.shape, generator=gen(2), dtype=torch.float64)
    std = torch.exp(0.5 * logvar)
    torch.testing.assert_close(losses.diagonal_gaussian_log_density(z, mu, logvar), Normal(mu, std).log_prob(z).sum(-1))
    torch.testing.assert_close(losses.standard_normal_log_density(z), Normal(0.0, 1.0).log_prob(z).sum(-1))
    # gaussian_log_likelihood sums over the feature axes of x (here (1, 2, 2)) and broadcasts.
    x = torch.randn(3, 1, 2, 2, generator=gen(3), dtype=torch.float64)
    mean = torch.randn(4, 3, 1, 2, 2, generator=gen(4), dtype=torch.float64)
    lv = torch.randn(1, 2, 2, generator=gen(5), dtype=torch.float64)
    expected = Normal(mean, torch.exp(0.5 * lv)).log_prob(x).flatten(2).sum(-1)
    got = losses.gaussian_log_likelihood(x, mean, lv)
    assert got.shape == (4, 3)
    torch.testing.assert_close(got, expected)


# ============================================================================ KL
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_analytic_kl_equals_monte_carlo_kl(seed):
    """KL(q || N(0, I)) = E_q[log q(z) - log p(z)], estimated with reparameterised samples."""
    mu, logvar = _random_gaussian(seed)
    n = 100_000
    z = losses.reparameterize(mu, logvar, n_samples=n, generator=gen(100 + seed))
    assert z.shape == (n, *mu.shape)
    f = losses.diagonal_gaussian_log_density(z, mu, logvar) - losses.standard_normal_log_density(z)  # (n, B)
    estimate, se = f.mean(0), f.std(0) / math.sqrt(n)
    analytic = losses.gaussian_kl(mu, logvar)
    assert analytic.shape == (mu.shape[0],)
    assert torch.all(analytic > 0)
    assert torch.all(se < 0.05), "the Monte Carlo error must be small for the comparison to mean anything"
    assert torch.all((estimate - analytic).abs() < 4 * se), (estimate, analytic, se)


def test_gaussian_kl_two_matches_torch_kl_divergence():
    mu_q, logvar_q = _random_gaussian(10)
    mu_p, logvar_p = _random_gaussian(11)
    expected = kl_divergence(Normal(mu_q, torch.exp(0.5 * logvar_q)), Normal(mu_p, torch.exp(0.5 * logvar_p))).sum(-1)
    torch.testing.assert_close(losses.gaussian_kl_two(mu_q, logvar_q, mu_p, logvar_p), expected, rtol=1e-12, atol=1e-12)
    # KL(q || q) = 0 and KL > 0 otherwise.
    torch.testing.assert_close(
        losses.gaussian_kl_two(mu_q, logvar_q, mu_q, logvar_q), torch.zeros(mu_q.shape[0], dtype=torch.float64)
    )
    assert torch.all(expected > 0)


def test_gaussian_kl_is_kl_two_against_standard_normal():
    mu, logvar = _random_gaussian(12)
    zeros = torch.zeros_like(mu)
    torch.testing.assert_close(
        losses.gaussian_kl(mu, logvar), losses.gaussian_kl_two(mu, logvar, zeros, zeros), rtol=1e-12, atol=1e-12
    )
    assert torch.equal(losses.gaussian_kl(zeros, zeros), torch.zeros(mu.shape[0], dtype=torch.float64))


# ============================================================================ SGVB estimators
@pytest.fixture
def narrow_vae():
    """A tiny Bernoulli VAE whose posterior is narrower than the prior (sigma^2 = e^-4), as after training."""
    torch.manual_seed(0)
    model = build_model(VAEConfig(dataset="mnist", hidden_dims=(16,), latent_dim=3)).eval()
    with torch.no_grad():
        model.encoder[-1].bias[3:] = -4.0  # the log-variance half of the encoder's output
    x = torch.bernoulli(torch.full((3, 1, 28, 28), 0.2), generator=gen(0))  # binary "images"
    return model, x


def test_estimators_a_and_b_agree_in_expectation_and_b_has_lower_variance(narrow_vae):
    model, x = narrow_vae
    n = 4000
    xs = x.repeat(n, 1, 1, 1)  # n independent single-sample estimates per example
    with torch.no_grad():
        torch.manual_seed(1)
        a = model.elbo(xs, n_samples=1, estimator="A").elbo.view(n, -1).double()
        torch.manual_seed(2)
        b = model.elbo(xs, n_samples=1, estimator="B").elbo.view(n, -1).double()
    se = torch.sqrt(a.var(0) / n + b.var(0) / n)
    assert torch.all((a.mean(0) - b.mean(0)).abs() < 4 * se), (a.mean(0), b.mean(0), se)
    # The analytic KL removes the Monte Carlo noise of log q - log p: B's variance is much lower.
    assert torch.all(b.var(0) < 0.5 * a.var(0)), (a.var(0), b.var(0))


def test_elbo_with_many_samples_is_the_average(narrow_vae):
    """ELBO with L samples is the mean of L single-sample estimates (same draws)."""
    model, x = narrow_vae
    with torch.no_grad():
        torch.manual_seed(3)
        many = model.elbo(x, n_samples=7, estimator="A")
        torch.manual_seed(3)
        log_px, log_pz, log_qz = model.log_weights(x, 7)
    torch.testing.assert_close(many.elbo, (log_px + log_pz - log_qz).mean(0))
    torch.testing.assert_close(many.kl, (log_qz - log_pz).mean(0))
    torch.testing.assert_close(many.log_px_given_z, log_px.mean(0))


def test_importance_weighted_bound_with_one_sample_is_estimator_a():
    g = gen(4)
    log_px, log_pz, log_qz = (torch.randn(1, 6, generator=g) * 10 for _ in range(3))
    assert torch.equal(
        losses.importance_weighted_bound(log_px, log_pz, log_qz), losses.elbo_estimator_a(log_px, log_pz, log_qz)
    )


def test_importance_weighted_bound_is_above_elbo_and_grows_with_k(narrow_vae):
    model, x = narrow_vae
    reps, k_max = 400, 40
    with torch.no_grad():
        torch.manual_seed(5)
        log_px, log_pz, log_qz = model.log_weights(x.repeat(reps, 1, 1, 1), k_max)  # (k_max, reps * B)
    elbo = losses.elbo_estimator_a(log_px, log_pz, log_qz)
    means, ses = [], []
    for k in (1, 5, 40):
        iw = losses.importance_weighted_bound(log_px[:k], log_pz[:k], log_qz[:k])
        if k > 1:
            # Jensen: log-mean-exp >= mean, for every set of samples.
            assert torch.all(iw >= losses.elbo_estimator_a(log_px[:k], log_pz[:k], log_qz[:k]) - 1e-4)
        iw = iw.double().view(reps, -1)
        means.append(iw.mean(0))
        ses.append(iw.std(0) / math.sqrt(reps))
    elbo = elbo.double().view(reps, -1)
    assert torch.all(means[2] > elbo.mean(0))
    for (m1, s1), (m2, s2) in zip(zip(means, ses), zip(means[1:], ses[1:])):
        assert torch.all(m2 - m1 > 3 * torch.sqrt(s1**2 + s2**2)), (means, ses)


def test_minibatch_objective_is_n_times_the_mean():
    elbo = torch.randn(32, generator=gen(6), dtype=torch.float64)
    torch.testing.assert_close(losses.minibatch_objective(elbo, 50_000), 50_000 * elbo.mean())
    torch.testing.assert_close(losses.minibatch_objective(elbo, 32), elbo.sum())


def test_estimator_b_formula():
    kl = torch.tensor([1.0, 2.0])
    log_px = torch.tensor([[-3.0, -5.0], [-5.0, -7.0]])  # (L=2, B=2)
    torch.testing.assert_close(losses.elbo_estimator_b(kl, log_px), torch.tensor([-5.0, -8.0]))


# ============================================================================ reparameterisation
def test_reparameterised_gradients_of_second_moment():
    """E[z^2] = mu^2 + sigma^2: the pathwise gradients are 2 mu and exp(logvar)."""
    mu = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    logvar = torch.tensor([0.0, -1.0, 0.7], dtype=torch.float64, requires_grad=True)
    n = 200_000
    z = losses.reparameterize(mu, logvar, n_samples=n, generator=gen(7))
    (z**2).mean(0).sum().backward()
    with torch.no_grad():
        var = torch.exp(logvar)
        se_mu = 2 * var.sqrt() / math.sqrt(n)  # per-sample gradient 2z has std 2 sigma
        se_lv = torch.sqrt((2 * var**2 + mu**2 * var) / n)  # per-sample sigma^2 eps^2 + mu sigma eps
        assert torch.all((mu.grad - 2 * mu).abs() < 4 * se_mu), (mu.grad, 2 * mu)
        assert torch.all((logvar.grad - var).abs() < 4 * se_lv), (logvar.grad, var)


def test_reparameterised_gradient_equals_finite_difference_with_common_noise():
    """Autograd through the sample equals the finite difference of the same sample function."""
    mu = torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True)
    logvar = torch.tensor([-0.5, 0.4], dtype=torch.float64, requires_grad=True)

    def f(m, lv):
        z = losses.reparameterize(m, lv, n_samples=1000, generator=gen(8))  # same eps every call
        return torch.sin(z).sum(-1).mean()

    f(mu, logvar).backward()
    h = 1e-6
    with torch.no_grad():
        for i in range(2):
            e = torch.zeros(2, dtype=torch.float64)
            e[i] = h
            fd_mu = (f(mu + e, logvar) - f(mu - e, logvar)) / (2 * h)
            fd_lv = (f(mu, logvar + e) - f(mu, logvar - e)) / (2 * h)
            assert abs(fd_mu.item() - mu.grad[i].item()) < 1e-6
            assert abs(fd_lv.item() - logvar.grad[i].item()) < 1e-6


# ============================================================================ GAN
def test_gan_value_and_losses_against_hand_computation():
    g = gen(9)
    real = torch.randn(16, generator=g, dtype=torch.float64) * 2
    fake = torch.randn(16, generator=g, dtype=torch.float64) * 2
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    v = torch.log(d_real).mean() + torch.log(1 - d_fake).mean()
    torch.testing.assert_close(losses.gan_value(real, fake), v)
    assert torch.equal(losses.discriminator_loss(real, fake), -losses.gan_value(real, fake))
    torch.testing.assert_close(losses.generator_loss_minimax(fake), torch.log(1 - d_fake).mean())
    torch.testing.assert_close(losses.generator_loss_nonsaturating(fake), -torch.log(d_fake).mean())
    # At D = 1/2 everywhere, V = -log 4 (the value at the global optimum p_g = p_data).
    torch.testing.assert_close(losses.gan_value(torch.zeros(4), torch.zeros(4)), torch.tensor(-math.log(4.0)))


def test_gan_losses_are_finite_for_extreme_logits():
    big = torch.tensor([-200.0, 200.0])
    for value in (
        losses.gan_value(big, big),
        losses.generator_loss_minimax(big),
        losses.generator_loss_nonsaturating(big),
    ):
        assert torch.isfinite(value)


def test_nonsaturating_loss_has_the_stronger_gradient_when_d_rejects_samples():
    """At D(G(z)) ~ 0 (logit -6): the minimax gradient vanishes, the non-saturating one does not."""
    a_mm = torch.tensor([-6.0], dtype=torch.float64, requires_grad=True)
    a_ns = torch.tensor([-6.0], dtype=torch.float64, requires_grad=True)
    losses.generator_loss_minimax(a_mm).backward()
    losses.generator_loss_nonsaturating(a_ns).backward()
    s = torch.sigmoid(torch.tensor(-6.0, dtype=torch.float64))
    torch.testing.assert_close(a_mm.grad[0], -s)  # d/da log(1 - sigmoid(a)) = -sigmoid(a)
    torch.testing.assert_close(a_ns.grad[0], -(1 - s))  # d/da -log sigmoid(a) = -(1 - sigmoid(a))
    # Both negative: a descent step raises the logit, i.e. pushes D(G(z)) up.
    assert a_mm.grad[0] < 0 and a_ns.grad[0] < 0
    assert a_ns.grad.abs()[0] > 100 * a_mm.grad.abs()[0]


def _normal_pdf(x: torch.Tensor, std: float) -> torch.Tensor:
    return torch.exp(-0.5 * (x.double() / std) ** 2) / (std * math.sqrt(2 * math.pi))


def test_trained_discriminator_approaches_the_optimal_discriminator():
    """Proposition 1: D trained on p_data vs p_g tends to p_data / (p_data + p_g)."""
    torch.manual_seed(0)
    g = gen(0)
    steps, batch, std_g = 600, 1024, 1.5
    disc = nn.Sequential(nn.Linear(1, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
    opt = torch.optim.Adam(disc.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1 - s / steps)
    real, _ = toy.gaussian_mixture_1d(steps * batch, generator=g)
    fake = std_g * torch.randn(steps * batch, 1, generator=g)
    grid = torch.linspace(-3, 3, 121)
    p_data, p_g = toy.gaussian_mixture_1d_density(grid), _normal_pdf(grid, std_g)
    d_star = losses.optimal_discriminator(p_data, p_g)
    relevant = (p_data > 1e-2) & (p_g > 1e-2)
    assert relevant.sum() > 60

    def error() -> float:
        with torch.no_grad():
            d = torch.sigmoid(disc(grid[:, None]).squeeze(1)).double()
        return (d - d_star)[relevant].abs().max().item()

    initial = error()
    for r, f in zip(real.split(batch), fake.split(batch)):
        loss = losses.discriminator_loss(disc(r).squeeze(1), disc(f).squeeze(1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    assert initial > 0.3
    assert error() < 0.1
    # At the optimum D's loss is -E_data log D* - E_g log(1 - D*) = log 4 - 2 JSD < log 4.
    assert loss.item() < math.log(4) - 0.2


def test_optimal_discriminator_values():
    torch.testing.assert_close(
        losses.optimal_discriminator(torch.tensor([1.0, 3.0, 0.0]), torch.tensor([1.0, 1.0, 2.0])),
        torch.tensor([0.5, 0.75, 0.0]),
    )


# ============================================================================ likelihoods
def test_reconstruction_bce_is_binary_cross_entropy_per_example():
    g = gen(10)
    logits = 3 * torch.randn(5, 1, 4, 4, generator=g, dtype=torch.float64)
    x = torch.rand(5, 1, 4, 4, generator=g, dtype=torch.float64)
    x[0] = (x[0] > 0.5).double()  # binary and real-valued targets both work
    got = losses.reconstruction_bce(logits, x)
    assert got.shape == (5,)
    for i in range(5):
        torch.testing.assert_close(got[i], F.binary_cross_entropy(torch.sigmoid(logits[i]), x[i], reduction="sum"))
    torch.testing.assert_close(got.mean(), F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="sum") / 5)
    torch.testing.assert_close(losses.aae_reconstruction_loss(logits, x), got.mean())


def test_bernoulli_log_likelihood_broadcasts_over_sample_axis():
    g = gen(11)
    x = torch.bernoulli(torch.full((3, 1, 4, 4), 0.5), generator=g)
    logits = torch.randn(7, 3, 1, 4, 4, generator=g)
    ll = losses.bernoulli_log_likelihood(x, logits)
    assert ll.shape == (7, 3)
    for l in range(7):
        torch.testing.assert_close(ll[l], losses.bernoulli_log_likelihood(x, logits[l]))
    torch.testing.assert_close(ll[2, 1], -F.binary_cross_entropy_with_logits(logits[2, 1], x[1], reduction="sum"))
    assert torch.all(ll < 0)


def test_reconstruction_mse_per_example():
    x = torch.zeros(2, 1, 2, 2)
    x_hat = torch.tensor([[[[1.0, 1.0], [0.0, 0.0]]], [[[0.5, 0.0], [0.0, 0.0]]]])
    torch.testing.assert_close(losses.reconstruction_mse(x_hat, x), torch.tensor([2.0, 0.25]))


def test_pixel_mean_loss_is_the_bound_with_its_kl_weighted_d_times():
    """The loss-scaling mistake: D · (its loss) = -log p(x|z) + D · KL, and its gradient is not the bound's."""
    g = torch.Generator().manual_seed(0)
    log_px, kl = -100 * torch.rand(8, generator=g), 5 * torch.rand(8, generator=g)
    d = 784
    torch.testing.assert_close(d * losses.pixel_mean_loss(log_px, kl, d), -log_px + d * kl)
    # For the bound (-log p + KL) a nat of KL costs what a nat of reconstruction costs; here D times more.
    kl_ = kl.clone().requires_grad_(True)
    lp = log_px.clone().requires_grad_(True)
    losses.pixel_mean_loss(lp, kl_, d).sum().backward()
    torch.testing.assert_close(kl_.grad / -lp.grad, torch.full((8,), float(d)))


def test_kl_weighted_bound_is_the_bound_at_beta_one_and_trades_beta_nats_of_reconstruction_per_nat_of_kl():
    """L_β = log p(x|z) - β KL: estimator B at β = 1; its gradients weigh the KL term β times the reconstruction."""
    g = torch.Generator().manual_seed(1)
    log_px, kl = -100 * torch.rand(6, generator=g), 5 * torch.rand(6, generator=g)
    torch.testing.assert_close(losses.kl_weighted_bound(log_px, kl, 1.0), losses.elbo_estimator_b(kl, log_px[None]))
    lp, kl_ = log_px.clone().requires_grad_(True), kl.clone().requires_grad_(True)
    losses.kl_weighted_bound(lp, kl_, 8.0).sum().backward()
    torch.testing.assert_close(kl_.grad / -lp.grad, torch.full((6,), 8.0))
    assert (losses.kl_weighted_bound(log_px, kl, 8.0) < losses.kl_weighted_bound(log_px, kl, 1.0)).all()  # below
