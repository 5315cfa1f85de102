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


def _one_noise_per_sample(mu, logvar, n, generator=None):  # eps of shape (n, 1): the coordinates move together
    i = torch.randint(0, mu.shape[0], (n,), generator=generator)
    return mu[i] + torch.exp(0.5 * logvar[i]) * torch.randn(n, 1, generator=generator)


def _never_the_last_point(mu, logvar, n, generator=None):  # randint's upper end is exclusive
    i = torch.randint(0, mu.shape[0] - 1, (n,), generator=generator)
    return mu[i] + torch.exp(0.5 * logvar[i]) * torch.randn(n, mu.shape[1], generator=generator)


def _points_in_turn(mu, logvar, n, generator=None):  # i = 0, 1, ..., N - 1, 0, 1, ...: not a random draw
    i = torch.arange(n) % mu.shape[0]
    return mu[i] + torch.exp(0.5 * logvar[i]) * torch.randn(n, mu.shape[1], generator=generator)


def _component_per_coordinate(mu, logvar, n, generator=None):  # a data point per coordinate, not per sample
    i = torch.randint(0, mu.shape[0], (n, mu.shape[1]), generator=generator)
    eps = torch.randn(n, mu.shape[1], generator=generator)
    return torch.gather(mu, 0, i) + torch.exp(0.5 * torch.gather(logvar, 0, i)) * eps


def _fixed_seed_inside(mu, logvar, n, generator=None):  # its own generator: the argument is ignored
    return ex.solution_aggregated_sampler(mu, logvar, n, generator=torch.Generator().manual_seed(0))


def _noise_from_global_rng(mu, logvar, n, generator=None):  # the generator for i but not for eps
    i = torch.randint(0, mu.shape[0], (n,), generator=generator)
    return mu[i] + torch.exp(0.5 * logvar[i]) * torch.randn(n, mu.shape[1])


def _average_sigma(mu, logvar, n, generator=None):  # the right centres, but one σ for all components
    i = torch.randint(0, mu.shape[0], (n,), generator=generator)
    return mu[i] + torch.exp(0.5 * logvar).mean(0) * torch.randn(n, mu.shape[1], generator=generator)


def _halves_logvar_in_place(mu, logvar, n, generator=None):
    std = logvar.mul_(0.5).exp_()  # overwrites the caller's logvar
    i = torch.randint(0, mu.shape[0], (n,), generator=generator)
    return mu[i] + std[i] * torch.randn(n, mu.shape[1], generator=generator)


def test_aggregated_sampler_counts_its_checks(capsys):
    ex.check_aggregated_sampler(ex.solution_aggregated_sampler)
    assert "✓ aggregated posterior sampler: all 9 checks passed" in capsys.readouterr().out


def _multinomial_and_normal(mu, logvar, n, generator=None):
    i = torch.multinomial(torch.ones(mu.shape[0]), n, replacement=True, generator=generator)
    return torch.normal(mu[i], torch.exp(0.5 * logvar[i]), generator=generator)


def _shuffled_equal_shares(mu, logvar, n, generator=None):  # stratified: exact shares, random order
    i = torch.randperm(n, generator=generator) % mu.shape[0]
    return mu[i] + torch.exp(0.5 * logvar[i]) * torch.randn(n, mu.shape[1], generator=generator)


@pytest.mark.parametrize("right", [_multinomial_and_normal, _shuffled_equal_shares])
def test_aggregated_sampler_other_correct_samplers_pass(right, capsys):
    assert ex.check_aggregated_sampler(right)
    assert "✓ aggregated posterior sampler" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong",
    [
        _first_component_only,
        _variance_as_std,
        _moment_matched_gaussian,
        _means_only,
        _global_rng,
        _not_implemented,
        _one_noise_per_sample,
        _never_the_last_point,
        _points_in_turn,
        _component_per_coordinate,
        _fixed_seed_inside,
        _noise_from_global_rng,
        _average_sigma,
        _halves_logvar_in_place,
    ],
)
def test_aggregated_sampler_wrong_answers_fail(wrong, capsys):
    assert not ex.check_aggregated_sampler(wrong)
    assert "✗ aggregated posterior sampler" in capsys.readouterr().out


# ----------------------------------------------------------------------------- ring prior
def test_ring_prior_solution_passes(capsys):
    assert ex.check_ring_prior(ex.solution_ring_prior)
    assert "✓ ring prior: all 8 checks passed" in capsys.readouterr().out


def _ring(
    radius=ex.RING_RADIUS,
    std=ex.RING_STD,
    span=2 * math.pi,
    use_labels=True,
    use_generator=True,
    radial_generator=True,
    arc="uniform",
    noise="radial",
    dtype=torch.float32,
):
    def prior(n, labels=None, generator=None):
        g = generator if use_generator else None
        u = torch.rand(n, generator=g)
        if labels is not None and use_labels:
            c = labels.long() % ex.RING_ARCS
            if arc == "uniform":
                u = (c + u) / ex.RING_ARCS
            elif arc == "reversed":  # class c on arc 9 - c
                u = (ex.RING_ARCS - 1 - c + u) / ex.RING_ARCS
            elif arc == "not divided":  # u not scaled to the arc: c / 10 + u covers the whole ring
                u = c / ex.RING_ARCS + u
            elif arc == "bunched":  # a bump at the arc's centre (sd 1/6 of the arc), like a mixture prior
                u = (c + (0.5 + torch.randn(n, generator=g) / 6).clamp(0, 1 - 1e-6)) / ex.RING_ARCS
        a = span * u
        if noise == "isotropic":  # 2-D noise around the circle: points leave their arc
            return (
                radius * torch.stack([torch.cos(a), torch.sin(a)], dim=1) + std * torch.randn(n, 2, generator=g)
            ).to(dtype)
        r = radius + std * torch.randn(n, generator=g if radial_generator else None)
        return torch.stack([r * torch.cos(a), r * torch.sin(a)], dim=1).to(dtype)

    return prior


def _uniform_square(n, labels=None, generator=None):
    return 6 * torch.rand(n, 2, generator=generator) - 3


def _no_labels_argument(n, generator=None):  # the model passes labels=...
    return ex.solution_ring_prior(n, generator=generator)


@pytest.mark.parametrize(
    "wrong",
    [
        _ring(radius=1.0),
        _ring(std=0.5),
        _ring(span=math.pi),
        _ring(use_labels=False),
        _ring(use_generator=False),
        _uniform_square,
        _no_labels_argument,
        _not_implemented,
        pytest.param(_ring(std=ex.RING_STD**2), id="variance-where-std-is-meant"),
        pytest.param(_ring(span=360.0), id="degrees-not-radians"),
        pytest.param(_ring(radial_generator=False), id="radius-from-the-global-rng"),
        pytest.param(_ring(arc="reversed"), id="arcs-in-reverse-order"),
        pytest.param(_ring(arc="not divided"), id="arc-position-not-divided-by-10"),
        pytest.param(_ring(arc="bunched"), id="bunched-at-the-arc-centre"),
        pytest.param(_ring(noise="isotropic"), id="isotropic-2d-noise"),
        pytest.param(_ring(dtype=torch.float64), id="float64-points"),
    ],
)
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
    assert losses.optimal_discriminator(
        _normal_pdf(torch.tensor(1.0)), _normal_pdf(torch.tensor(1.0), 2.0)
    ).item() == pytest.approx(0.5)
    assert losses.optimal_discriminator(
        _normal_pdf(torch.tensor(0.0)), _normal_pdf(torch.tensor(0.0), 2.0)
    ).item() == pytest.approx(1 / (1 + math.exp(-2)))
    # At D*, L_D = log 4 - 2 JSD(p || q).
    m = 0.5 * (p + q)
    jsd = 0.5 * ((p * torch.log(p / m)).sum() + (q * torch.log(q / m)).sum()).item() * dz.item()
    assert best == pytest.approx(math.log(4) - 2 * jsd, abs=1e-6)
    # and the discriminator's loss on logits is the same functional
    assert losses.aae_discriminator_loss(torch.tensor([0.3]), torch.tensor([-0.2])).item() == pytest.approx(
        -(math.log(torch.sigmoid(torch.tensor(0.3)).item()) + math.log(1 - torch.sigmoid(torch.tensor(-0.2)).item()))
    )


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
    models = {
        kind: AdversarialAutoencoder(AAEConfig(encoder=kind, hidden_dims=(16,), d_hidden=(8,)))
        for kind in ("deterministic", "gaussian", "universal")
    }
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


# ----------------------------------------------------------------------------- what the checks say is wrong
def _fails_with(check, fn, number, message, capsys):
    """The check fails at check ``number`` and its one line says ``message`` (what is wrong, not only which check)."""
    assert not check(fn)
    out = capsys.readouterr().out
    assert f"check {number} of" in out and message in out and out.count("\n") == 1, out


def _logvar_as_std(mu, logvar, n, generator=None):
    i = torch.randint(0, mu.shape[0], (n,), generator=generator)
    return mu[i] + logvar[i] * torch.randn(n, mu.shape[1], generator=generator)


@pytest.mark.parametrize(
    "wrong, number, message",
    [
        pytest.param(_variance_as_std, 7, "exp(logvar) = σ², the variance", id="variance-as-sigma"),
        pytest.param(_logvar_as_std, 4, "spread by about 30 for logvar = -30", id="logvar-as-sigma"),
        pytest.param(_means_only, 7, "Yours adds no noise", id="means-only"),
        pytest.param(_average_sigma, 7, "the same spread", id="one-sigma-for-all"),
        pytest.param(_never_the_last_point, 5, "upper end is exclusive", id="never-the-last-point"),
        pytest.param(_first_component_only, 5, "All samples come from data point 0", id="first-point-only"),
        pytest.param(_component_per_coordinate, 4, "come from different data points", id="point-per-coordinate"),
        pytest.param(_points_in_turn, 6, "not taken in turn", id="in-turn"),
    ],
)
def test_aggregated_sampler_says_what_is_wrong(wrong, number, message, capsys):
    _fails_with(ex.check_aggregated_sampler, wrong, number, message, capsys)


@pytest.mark.parametrize(
    "wrong, number, message",
    [
        pytest.param(_ring(std=ex.RING_STD**2), 3, "0.1 is the standard deviation", id="variance-where-std-is-meant"),
        pytest.param(_ring(radius=1.0), 3, "Your radius has mean 0.999", id="unit-circle"),
        pytest.param(_ring(span=math.pi), 4, "5 of 10 equal sectors of the ring get no points", id="half-ring"),
        pytest.param(_ring(use_labels=False), 5, "lie on their class's arc", id="labels-ignored"),
        pytest.param(_ring(arc="not divided"), 5, "2π (c + u) / 10", id="arc-not-divided"),
        pytest.param(_ring(span=360.0), 5, "radians", id="degrees"),
        pytest.param(_ring(arc="reversed"), 5, "Class c lies on arc 9 - c", id="arcs-reversed"),
        pytest.param(_ring(noise="isotropic"), 5, "the noise is radial", id="isotropic-noise"),
        pytest.param(_ring(dtype=torch.float64), 7, "return float32", id="float64"),
    ],
)
def test_ring_prior_says_what_is_wrong(wrong, number, message, capsys):
    _fails_with(ex.check_ring_prior, wrong, number, message, capsys)
