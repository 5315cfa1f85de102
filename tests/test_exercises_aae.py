"""Chapter 1.4 exercises: every reference solution passes its check, plausible wrong answers fail,
and the derivations' answers in the chapter are numerically right."""

from __future__ import annotations

import math

import pytest
import torch

from thesis_lib import losses, toy
from thesis_lib.exercises import aae as ex
from thesis_lib.priors import GaussianPrior, MixturePrior, SwissRollPrior


# ----------------------------------------------------------------------------- aggregated posterior sampler
def test_aggregated_sampler_solution_passes(capsys):
    assert ex.check_aggregated_sampler(ex.solution_aggregated_sampler)
    assert "✓ aggregated posterior sampler" in capsys.readouterr().out


def _first_component_only(mu, logvar, n, generator=None):
    return mu[0] + torch.exp(0.5 * logvar[0]) * torch.randn(n, mu.shape[1], generator=generator)


def _variance_as_std(mu, logvar, n, generator=None):  # uses exp(logvar) as the standard deviation
    i = torch.randint(0, mu.shape[0], (n,), generator=generator)
    return mu[i] + torch.exp(logvar[i]) * torch.randn(n, mu.shape[1], generator=generator)


def _moment_matched_gaussian(mu, logvar, n, generator=None):  # right mean and variance, wrong shape
    var = torch.exp(logvar).mean(0) + mu.var(0, unbiased=False)
    return mu.mean(0) + var.sqrt() * torch.randn(n, mu.shape[1], generator=generator)


def _means_only(mu, logvar, n, generator=None):  # a deterministic encoder's q(z), ignoring σ
    return mu[torch.randint(0, mu.shape[0], (n,), generator=generator)]


def _global_rng(mu, logvar, n, generator=None):  # ignores the generator
    return ex.solution_aggregated_sampler(mu, logvar, n)


def _not_implemented(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize("wrong", [_first_component_only, _variance_as_std, _moment_matched_gaussian, _means_only, _global_rng, _not_implemented])
def test_aggregated_sampler_wrong_answers_fail(wrong, capsys):
    assert not ex.check_aggregated_sampler(wrong)
    assert "✗ aggregated posterior sampler" in capsys.readouterr().out


# ----------------------------------------------------------------------------- ring prior
def test_ring_prior_solution_passes(capsys):
    assert ex.check_ring_prior(ex.solution_ring_prior)
    assert "✓ ring prior: all 7 checks passed" in capsys.readouterr().out


def _ring(radius=ex.RING_RADIUS, std=ex.RING_STD, span=2 * math.pi, use_labels=True, use_generator=True):
    def prior(n, labels=None, generator=None):
        g = generator if use_generator else None
        u = torch.rand(n, generator=g)
        if labels is not None and use_labels:
            u = (labels.long() % ex.RING_ARCS + u) / ex.RING_ARCS
        a = span * u
        r = radius + std * torch.randn(n, generator=g)
        return torch.stack([r * torch.cos(a), r * torch.sin(a)], dim=1)

    return prior


def _uniform_square(n, labels=None, generator=None):
    return 6 * torch.rand(n, 2, generator=generator) - 3


def _no_labels_argument(n, generator=None):  # the model passes labels=...
    return ex.solution_ring_prior(n, generator=generator)


@pytest.mark.parametrize("wrong", [
    _ring(radius=1.0), _ring(std=0.5), _ring(span=math.pi), _ring(use_labels=False), _ring(use_generator=False),
    _uniform_square, _no_labels_argument, _not_implemented,
])
def test_ring_prior_wrong_answers_fail(wrong, capsys):
    assert not ex.check_ring_prior(wrong)
    assert "✗ ring prior" in capsys.readouterr().out


# ----------------------------------------------------------------------------- derivations in the chapter
def _normal_pdf(z, m=0.0, s=1.0):
    return torch.exp(-0.5 * ((z - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))


def test_optimal_discriminator_on_z_minimises_the_loss():
    """D*(z) = p(z) / (p(z) + q(z)) minimises E_p[-log D] + E_q[-log(1 - D)], pointwise and in total."""
    z = torch.linspace(-12, 14, 200_001, dtype=torch.float64)
    dz = z[1] - z[0]
    p, q = _normal_pdf(z), _normal_pdf(z, 2.0, 1.0)
    d_star = losses.optimal_discriminator(p, q)

    def expected_loss(d):
        return (-(p * torch.log(d) + q * torch.log1p(-d)) * dz).sum().item()

    best = expected_loss(d_star)
    logit = torch.log(d_star) - torch.log1p(-d_star)
    for shift in (-0.5, -0.1, 0.1, 0.5):
        assert expected_loss(torch.sigmoid(logit + shift)) > best
    assert expected_loss(torch.sigmoid(logit * 1.2)) > best
    # The chapter's exercise answers: D*(1) = 1/2 (halfway between the means) and D*(0) = 1/(1 + e^-2).
    assert losses.optimal_discriminator(_normal_pdf(torch.tensor(1.0)), _normal_pdf(torch.tensor(1.0), 2.0)).item() == pytest.approx(0.5)
    assert losses.optimal_discriminator(_normal_pdf(torch.tensor(0.0)), _normal_pdf(torch.tensor(0.0), 2.0)).item() == pytest.approx(1 / (1 + math.exp(-2)))
    # At D*, L_D = log 4 - 2 JSD(p || q).
    m = 0.5 * (p + q)
    jsd = 0.5 * ((p * torch.log(p / m)).sum() + (q * torch.log(q / m)).sum()).item() * dz.item()
    assert best == pytest.approx(math.log(4) - 2 * jsd, abs=1e-6)
    # and the discriminator's loss on logits is the same functional
    assert losses.aae_discriminator_loss(torch.tensor([0.3]), torch.tensor([-0.2])).item() == pytest.approx(
        -(math.log(torch.sigmoid(torch.tensor(0.3)).item()) + math.log(1 - torch.sigmoid(torch.tensor(-0.2)).item())))


def test_aggregated_posterior_moments():
    """Mixture mean = E[μ_i], variance = E[σ_i²] + Var[μ_i] (the exercise's law of total variance)."""
    mu = torch.tensor([[-2.0], [0.5], [3.0]])
    sd = torch.tensor([[0.3], [1.0], [0.6]])
    z = ex.solution_aggregated_sampler(mu, 2 * torch.log(sd), 400_000, generator=torch.Generator().manual_seed(0))
    assert z.mean().item() == pytest.approx(mu.mean().item(), abs=0.01)
    assert z.var().item() == pytest.approx((sd**2).mean().item() + mu.var(unbiased=False).item(), rel=0.01)


def test_aggregate_matches_prior_while_per_example_kl_does_not():
    """The chapter's toy: x ~ N(0, 1), q(z|x) = N(a x, 1 - a²) gives q(z) = N(0, 1) = p(z) exactly,
    while the VAE's per-example KL averages -log(1 - a²) / 2."""
    a = 0.9
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200_000, 1, generator=g)
    mu, logvar = a * x, torch.full_like(x, math.log(1 - a**2))
    z = losses.reparameterize(mu, logvar, generator=g)[0]
    assert z.mean().item() == pytest.approx(0.0, abs=0.01)
    assert z.var().item() == pytest.approx(1.0, rel=0.01)
    assert losses.gaussian_kl(mu, logvar).mean().item() == pytest.approx(-0.5 * math.log(1 - a**2), rel=0.01)


def test_priors_documented_statistics():
    g = torch.Generator().manual_seed(0)
    z = GaussianPrior(2, 1.0)(50_000, generator=g)
    assert z.shape == (50_000, 2) and z.std().item() == pytest.approx(1.0, abs=0.02)
    z, labels = MixturePrior()(50_000, generator=g), torch.arange(10)
    assert z.shape == (50_000, 2) and z.norm(dim=1).mean().item() == pytest.approx(4.0, abs=0.05)
    means = toy.mixture_2d_means(10, 4.0)
    z = MixturePrior()(10, labels=labels, generator=g)
    assert torch.equal(torch.cdist(z, means).argmin(1), labels)
    z = SwissRollPrior()(50_000, generator=g)
    assert z.shape == (50_000, 2) and z.abs().max().item() <= 4.0 + 1e-4


# ----------------------------------------------------------------------------- the chapter's library additions
def test_encoding_distributions_plot_one_panel_per_encoder():
    """plots.encoding_distributions: one panel per model; a deterministic encoder has zero spread."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from thesis_lib import AAEConfig, plots
    from thesis_lib.data import Dataset
    from thesis_lib.models.aae import AdversarialAutoencoder

    data = Dataset("mnist", "test", torch.rand(60, 1, 28, 28), torch.arange(60) % 10, 10)
    models = {kind: AdversarialAutoencoder(AAEConfig(encoder=kind, hidden_dims=(16,), d_hidden=(8,))) for kind in ("deterministic", "gaussian", "universal")}
    state = torch.get_rng_state()
    fig = plots.encoding_distributions(models, data, n_samples=20, n=50)
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is left as it was
    axes = fig.axes
    assert [a.get_title() for a in axes] == ["deterministic", "gaussian", "universal"]
    texts = [a.texts[0].get_text() for a in axes]
    assert texts[0].startswith("sd of q(z|x): 0\n") and not texts[1].startswith("sd of q(z|x): 0\n")
    plt.close(fig)


def test_prior_vs_posterior_names_a_custom_prior():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from thesis_lib import AAEConfig, plots
    from thesis_lib.data import Dataset
    from thesis_lib.models.aae import AdversarialAutoencoder

    data = Dataset("mnist", "test", torch.rand(30, 1, 28, 28), torch.arange(30) % 10, 10)
    model = AdversarialAutoencoder(AAEConfig(hidden_dims=(16,), d_hidden=(8,)), prior=ex.solution_ring_prior)
    fig = plots.prior_vs_posterior(model, data, n=30)
    assert fig.axes[0].get_title() == "prior p(z): solution_ring_prior"
    plt.close(fig)
