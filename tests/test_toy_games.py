"""The live games' definition (thesis_lib/toy_games.py) and their HTML (thesis_lib/widgets/game.py),
without a browser: the settings' errors, the Python twin's samplers against the library's toy data
and priors, the JSD estimate, the torch reference, and the markup's labels and words."""

from __future__ import annotations

import math
import re

import pytest
import torch

from thesis_lib import toy, toy_games, toy_jsd
from thesis_lib.priors import make_prior
from thesis_lib.toy_games import AAEGame, GANGame, Rng
from thesis_lib.widgets import game


# ----------------------------------------------------------------------------- settings
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"k": 0}, "k must be an integer >= 1, got 0"),
        ({"k": 21}, "k must be an integer in [1, 20], got 21"),
        (
            {"generator_loss": "wasserstein"},
            "generator_loss must be one of 'minimax', 'nonsaturating', got 'wasserstein'",
        ),
        ({"dataset": "ring"}, "dataset must be one of 'toy-1d', 'mixture-2d', got 'ring'"),
        ({"noise": "laplace"}, "noise must be one of 'gaussian', 'uniform', got 'laplace'"),
        ({"lr_d": 0.0}, "lr_d must be a number in [1e-06, 1.0], got 0.0"),
        ({"lr_g": 2}, "lr_g must be a number in [1e-06, 1.0], got 2"),
        ({"seed": -1}, "seed must be an integer in [0, 4294967295], got -1"),
        ({"seed": 1.5}, "seed must be an integer in [0, 4294967295], got 1.5"),
    ],
)
def test_gan_game_settings_are_checked_with_one_line(kwargs, message):
    with pytest.raises(ValueError) as e:
        GANGame(**kwargs)
    assert str(e.value) == message


def test_widget_settings_are_checked_too():
    with pytest.raises(ValueError, match=r"^prior must be one of 'gaussian', 'mixture', 'swiss-roll', got 'ring'$"):
        game.aae_prior_game("ring")
    with pytest.raises(ValueError, match=r"^reg_lr must be a number in \[1e-06, 1.0\], got -0.1$"):
        game.aae_prior_game(reg_lr=-0.1)
    with pytest.raises(ValueError, match=r"^max_steps must be an integer in \[1, 100000\], got 0$"):
        game.gan_game(max_steps=0)
    with pytest.raises(TypeError):
        game.gan_game(epochs=3)  # not a setting of the game


def test_the_defaults_are_the_chapters_toy_run():
    from thesis_lib import AAESchedule, GANSchedule

    g = GANGame()
    assert (g.dataset, g.z_dim, g.g_hidden, g.d_hidden, g.k, g.generator_loss, g.lr_d, g.lr_g, g.batch_size) == (
        "toy-1d",
        1,
        (32, 32),
        (32, 32),
        1,
        "nonsaturating",
        1e-3,
        1e-3,
        128,
    )
    assert g.adam_betas == GANSchedule().adam_betas and g.config().ema == 0.0
    assert (AAEGame().batch_size, AAEGame().adam_betas) == (AAESchedule().batch_size, AAESchedule().adam_betas)


# ----------------------------------------------------------------------------- the twin's random numbers
def test_the_streams_are_repeatable_and_distinct():
    first = [Rng(0).u32() for _ in range(2)]
    assert first[0] == first[1] and 0 <= first[0] < 2**32
    assert len({Rng(0).u32(), Rng(1).u32(), Rng(0, stream=1).u32(), Rng(2**32 - 1).u32()}) == 4
    r = Rng(7)
    assert all(0 < r.uniform() < 1 for _ in range(1000))


def test_uniforms_and_gaussians_have_their_moments():
    r = Rng(3)
    u = torch.tensor([r.uniform() for _ in range(40_000)])
    z = torch.tensor([r.normal() for _ in range(40_000)])
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02 and abs((z**4).mean() - 3) < 0.15


def _ks(a: torch.Tensor, b: torch.Tensor) -> float:
    """The two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical CDFs."""
    a, b = a.double().flatten().sort().values, b.double().flatten().sort().values
    t = torch.cat([a, b])
    return float(
        (torch.searchsorted(a, t, right=True) / len(a) - torch.searchsorted(b, t, right=True) / len(b)).abs().max()
    )


KS_LIMIT = 0.025  # two samples of 20,000 from one distribution exceed it with probability ~1e-4


def test_twin_samples_the_librarys_1d_toy():
    x, labels = Rng(0).data("toy-1d", 20_000)
    ref, _ = toy.gaussian_mixture_1d(20_000, generator=torch.Generator().manual_seed(0))
    assert x.shape == (20_000, 1) and set(labels.tolist()) == {0, 1}
    assert _ks(x, ref) < KS_LIMIT
    assert _ks(x, ref + 0.1) > KS_LIMIT  # the test can tell a shift of a fifth of a component's width


def test_twin_samples_the_librarys_ring():
    x, labels = Rng(0).data("mixture-2d", 20_000)
    ref, _ = toy.gaussian_mixture_2d(20_000, generator=torch.Generator().manual_seed(0))
    for f in (lambda p: p[:, 0], lambda p: p[:, 1], lambda p: p.norm(dim=1), lambda p: torch.atan2(p[:, 1], p[:, 0])):
        assert _ks(f(x), f(ref)) < KS_LIMIT
    assert _ks(x.norm(dim=1), 1.02 * ref.norm(dim=1)) > KS_LIMIT
    # the label is the component: nearly always the nearest centre (the components' tails overlap)
    means = toy.mixture_2d_means().double()
    assert (torch.cdist(x, means).argmin(1) == labels).double().mean() > 0.97


@pytest.mark.parametrize("name", ["gaussian", "mixture", "swiss-roll"])
def test_twin_samples_the_librarys_priors(name):
    z = Rng(1).prior(name, 20_000, std=2.0)
    ref = make_prior(name, 2, std=2.0)(20_000, generator=torch.Generator().manual_seed(1))
    for f in (lambda p: p[:, 0], lambda p: p[:, 1], lambda p: p.norm(dim=1)):
        assert _ks(f(z), f(ref)) < KS_LIMIT, name


def test_initial_weights_follow_pytorchs_default_law():
    from thesis_lib.nets import mlp

    net = Rng(0).init(mlp([2, 64, 1]).double())
    w = net[0].weight
    bound = 1 / math.sqrt(2)
    assert w.abs().max() <= bound and abs(w.std() - bound / math.sqrt(3)) < 0.05
    assert net[2].weight.abs().max() <= 1 / 8 and not torch.equal(
        net[0].weight, Rng(1).init(mlp([2, 64, 1]).double())[0].weight
    )


# ----------------------------------------------------------------------------- densities and the JSD
def test_smoothed_density_integrates_to_one_and_is_the_toys_at_width_zero():
    x = torch.linspace(-8, 8, 4001, dtype=torch.float64)[:, None]
    for h in (0.0, 0.1, 0.5):
        assert abs(torch.trapezoid(toy_jsd.smoothed_density("toy-1d", x, h), dx=4e-3) - 1) < 1e-6
    assert torch.allclose(toy_jsd.smoothed_density("toy-1d", x, 0.0), toy.gaussian_mixture_1d_density(x[:, 0]))
    points, cell = toy_jsd.grid(-7, 7, 700, 2)
    for h in (0.0, 0.3):
        assert abs(float(toy_jsd.smoothed_density("mixture-2d", points, h).sum()) * cell - 1) < 2e-3


def test_ring_density_matches_the_librarys_samples():
    """The fraction of the library's samples in a few boxes against the density's integral over them."""
    x, _ = toy.gaussian_mixture_2d(200_000, generator=torch.Generator().manual_seed(0))
    points, cell = toy_jsd.grid(-5, 5, 200, 2)
    p = toy_jsd.smoothed_density("mixture-2d", points, 0.0) * cell
    for box in ((3, 5, -1, 1), (0, 5, 0, 5), (-5, 0, -5, 0), (1, 4, 1, 4)):
        inside = lambda q: (q[:, 0] > box[0]) & (q[:, 0] < box[1]) & (q[:, 1] > box[2]) & (q[:, 1] < box[3])  # noqa: E731
        assert abs(float(inside(x.double()).double().mean()) - float(p[inside(points)].sum())) < 0.01, box


def test_jsd_is_zero_for_equal_and_log_2_for_disjoint_densities():
    p = torch.tensor([0.5, 0.5, 0.0, 0.0])
    q = torch.tensor([0.0, 0.0, 0.5, 0.5])
    assert toy_jsd.jsd(p, p, 1.0) == 0.0 and abs(toy_jsd.jsd(p, q, 1.0) - math.log(2)) < 1e-12
    assert toy_jsd.jsd(p, q * 0, 1.0) == pytest.approx(math.log(2))  # q's mass is outside the grid
    v = game.VIEWS["toy-1d"]
    samples = Rng(0).data("toy-1d", 4000)[0]
    est = toy_jsd.jsd_estimate("toy-1d", samples, v["lo"], v["hi"], v["cells"], v["bandwidth"])
    assert 0 <= est < 0.01  # data against data: ~0, whatever the bandwidth
    assert toy_jsd.jsd_estimate("toy-1d", samples * 0, v["lo"], v["hi"], v["cells"], v["bandwidth"]) > 0.68


# ----------------------------------------------------------------------------- the torch reference
def test_gan_reference_is_algorithm_1_of_the_librarys_gan():
    out = toy_games.gan_reference(GANGame(k=3, batch_size=16), 4)
    h = out["history"]
    assert len(h["V"]) == len(h["loss_g"]) == 4 and h["V"] == [-v for v in h["loss_d"]]
    assert all(0 < d < 1 for d in h["d_real"] + h["d_fake"])
    assert len(out["G"]) == 6 and len(out["G"][0]) == 32 and len(out["D"][-1]) == 1  # 1 -> 32 -> 32 -> 1
    assert out == toy_games.gan_reference(GANGame(k=3, batch_size=16), 4)  # repeatable
    again = toy_games.gan_reference(GANGame(k=3, batch_size=16, seed=1), 4)
    assert again["G"] != out["G"]


def test_aae_reference_mirrors_the_aaes_phases():
    out = toy_games.aae_reference(AAEGame(batch_size=20), 3)
    h = out["history"]
    assert [len(h[k]) for k in ("recon", "loss_d", "loss_e", "d_prior", "d_code")] == [3] * 5
    # the encoder's loss is the non-saturating one: -log D(E(x)); D's is -(log D(z') + log(1 - D(E(x))))
    assert all(v > 0 for v in h["loss_e"] + h["loss_d"])
    assert set(out) == {"E", "Dec", "D", "history"}


# ----------------------------------------------------------------------------- the markup
SLOVENE_TERMS = [
    "generator",
    "diskriminator",
    "minimaks izguba",
    "nenasičujoča izguba",
    "stopnja učenja",
    "seme",
    "šum",
    "priorna porazdelitev",
    "koraki",
    "Zaženi",
    "Ustavi",
    "En korak",
    "Ponastavi",
    "vzorci",
    "odločitvena ploskev",
    "Jensen–Shannonova divergenca",
    "enkoder",
    "kode",
    "mešanica",
    "švicarska rolada",
    "funkcija vrednosti",
]


def test_both_languages_have_every_word():
    assert set(game.LABELS["en"]) == set(game.LABELS["sl"])
    text = " ".join(game.LABELS["sl"].values())
    missing = [t for t in SLOVENE_TERMS if t.lower() not in text.lower()]
    assert not missing, missing


@pytest.mark.parametrize(
    "make", [lambda: game.gan_game(), lambda: game.gan_game("mixture-2d"), lambda: game.aae_prior_game("mixture")]
)
def test_widget_html_is_self_contained_small_and_labelled(make):
    w = make()
    html = w._repr_html_()
    assert html.startswith('<div id="tl-game-') and 'class="tl-game mathjax_ignore"' in html
    assert len(html.encode()) < 45_000, len(html.encode())
    assert "http" not in html and "fetch(" not in html and "import(" not in html and " src=" not in html
    ids = re.findall(r'<(?:select|input)[^>]* id="([^"]+)"', html)
    assert len(ids) >= 4 and all(f'<label for="{i}"' in html for i in ids)
    assert html.count("<button") == 3 and "window.thesisLibGame(document.getElementById(" in html
    assert "\n" not in html.split("<script>")[0]  # one line of markup: Markdown cannot break it


def test_game_script_is_package_data():
    import fnmatch
    from pathlib import Path

    import tomllib

    root = Path(__file__).resolve().parents[1]
    assert (root / "thesis_lib" / "widgets" / "game.js").is_file()
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["thesis_lib"]
    assert any(fnmatch.fnmatch("widgets/game.js", pattern) for pattern in data)
