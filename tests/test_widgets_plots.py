"""Fast tests of thesis_lib.latent, thesis_lib.plots and thesis_lib.widgets (tiny models, no kernel)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import thesis_lib as tl  # noqa: E402
from thesis_lib import latent, plots, toy_models, widgets  # noqa: E402
from thesis_lib.data import Dataset  # noqa: E402
from thesis_lib.errors import DataError  # noqa: E402


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def data() -> Dataset:
    """The first 2000 MNIST training images; random blobs where MNIST is not available."""
    try:
        return tl.load_dataset("mnist", "train").subset(2000)
    except DataError:
        g = torch.Generator().manual_seed(0)
        return Dataset("mnist", "train", torch.rand(2000, 1, 28, 28, generator=g).pow(4), torch.arange(2000) % 10, 10)


def _train(cfg, data):
    return tl.train(cfg, data=data, progress=False, validate=False)


def _untrained(cfg):
    tl.seed_everything(0)
    return tl.build_model(cfg).eval()


@pytest.fixture(scope="module")
def vae(data):
    """A 1-epoch VAE with a 2-D latent space (and its trainer, for the history)."""
    return _train(tl.run_config("vae", epochs=1, latent_dim=2, hidden_dims=(64,)), data)


@pytest.fixture(scope="module")
def cgan():
    return _untrained(tl.GANConfig(conditional=True, latent_dim=8, g_hidden=(32,), d_hidden=(32,)))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


class FakeDecoder(torch.nn.Module):
    """Stands in for a model: decode returns z itself, so a test sees the exact latent points."""

    needs_labels = False

    def __init__(self, latent_dim: int = 2):
        super().__init__()
        self.latent_dim = latent_dim

    def decode(self, z, labels=None):
        return z.clone()


# ----------------------------------------------------------------------------- latent
def test_pca_recovers_known_directions():
    g = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(6, 6, generator=g))
    mean = torch.arange(6.0)
    scores = torch.randn(20_000, 2, generator=g) * torch.tensor([3.0, 1.0])
    codes = mean + scores @ q[:, :2].T + 0.01 * torch.randn(20_000, 6, generator=g)
    m, comps, var = latent.pca(codes, k=2)
    assert comps.shape == (2, 6) and var.shape == (2,)
    assert torch.allclose(m, mean, atol=0.1)
    assert torch.allclose((comps @ q[:, :2]).abs(), torch.eye(2), atol=0.01)  # the same directions up to sign
    assert torch.allclose(var, torch.tensor([9.0, 1.0]), rtol=0.05)
    assert torch.allclose(comps @ comps.T, torch.eye(2), atol=1e-5)
    assert bool((comps.gather(1, comps.abs().argmax(1, keepdim=True)) > 0).all())  # fixed sign convention
    proj = latent.project_2d(codes)
    assert proj.shape == (20_000, 2) and proj[:, 0].var() > proj[:, 1].var()
    two = torch.randn(10, 2, generator=g)
    assert latent.project_2d(two) is two


def test_gaussian_cdf_grid_decodes_the_right_points():
    steps = 4
    z = latent.gaussian_cdf_grid(FakeDecoder(), steps=steps)
    assert z.shape == (steps * steps, 2)
    v = torch.special.ndtri((torch.arange(steps, dtype=torch.float64) + 0.5) / steps).float()
    grid = z.view(steps, steps, 2)  # image order: rows top to bottom, columns left to right
    assert torch.allclose(grid[:, :, 0], v.expand(steps, steps))  # z1 increases to the right
    assert torch.allclose(grid[:, :, 1], v.flip(0)[:, None].expand(steps, steps))  # z2 increases upwards
    assert torch.isfinite(z).all() and torch.allclose(z.sum(0), torch.zeros(2), atol=1e-5)
    # more dimensions: the other coordinates come from base
    z3 = latent.gaussian_cdf_grid(FakeDecoder(3), steps=3, dims=(0, 2), base=torch.tensor([0.0, 7.0, 0.0]))
    assert torch.all(z3[:, 1] == 7.0) and torch.allclose(
        z3[:, 2].view(3, 3)[:, 0], torch.special.ndtri(torch.tensor([5 / 6, 0.5, 1 / 6])), atol=1e-6
    )


def test_latent_grid_limits_and_order():
    z = latent.latent_grid(FakeDecoder(), limits=((-1, 1), (10, 20)), steps=3)
    grid = z.view(3, 3, 2)
    assert grid[0, 0].tolist() == [-1.0, 20.0] and grid[2, 2].tolist() == [1.0, 10.0]


def test_interpolation_endpoints_are_the_decoded_embeddings(data):
    vae = _untrained(tl.VAEConfig(latent_dim=4, hidden_dims=(32,)))
    xa, xb = data.x[0], data.x[1]
    with torch.no_grad():
        ends = vae.decode(vae.embed(torch.stack([xa, xb])))
    for spherical in (False, True):
        images = latent.interpolate(vae, xa, xb, steps=5, slerp=spherical)
        assert images.shape == (5, 1, 28, 28)
        assert torch.allclose(images[0], ends[0], atol=1e-6) and torch.allclose(images[-1], ends[1], atol=1e-6)
    batch = latent.interpolate(vae, data.x[:3], data.x[3:6], steps=4)
    assert batch.shape == (3, 4, 1, 28, 28)
    assert torch.allclose(batch[1, 0], latent.interpolate(vae, data.x[1], data.x[4], steps=4)[0], atol=1e-6)


def test_interpolate_noise_for_a_conditional_gan(cgan):
    g = torch.Generator().manual_seed(1)
    za, zb = torch.randn(2, 8, generator=g)
    images = latent.interpolate_noise(cgan, za, zb, steps=6, labels=3, slerp=True)
    assert images.shape == (6, 1, 28, 28)
    with torch.no_grad():
        ends = cgan.decode(torch.stack([za, zb]), torch.tensor([3, 3]))
    assert torch.allclose(images[0], ends[0], atol=1e-6) and torch.allclose(images[-1], ends[1], atol=1e-6)
    with pytest.raises(ValueError, match="labels"):
        latent.interpolate_noise(cgan, za, zb)
    with pytest.raises(NotImplementedError, match="interpolate_noise"):
        latent.interpolate(cgan, torch.zeros(1, 28, 28), torch.zeros(1, 28, 28))


def test_embed_dataset_is_deterministic(vae, data):
    codes, labels = latent.embed_dataset(vae.model, data, n=300, batch=128)
    again, _ = latent.embed_dataset(vae.model, data.x, n=300)
    assert codes.shape == (300, 2) and torch.equal(labels, data.y[:300]) and torch.equal(codes, again)


# ----------------------------------------------------------------------------- widgets
def test_explorer_decode_at_matches_manual_decode(data):
    vae = _untrained(tl.VAEConfig(latent_dim=6, hidden_dims=(32,)))
    ex = widgets.explore(vae, data, n_sliders=3, n=500)
    assert ex.slider_labels == ["PC1", "PC2", "PC3"] and ex.slider_limits(ex.option_names[0]) == [(-2.5, 2.5)] * 3
    codes, _ = latent.embed_dataset(vae, data, 500)
    mean, comps, var = latent.pca(codes, 3)
    values = [0.3, -1.2, 2.0]
    z = mean + torch.tensor(values) @ (comps * var.sqrt()[:, None])
    with torch.no_grad():
        manual = vae.decode(z[None])[0, 0]
    assert torch.allclose(ex.decode_at(ex.option_names[0], values), manual, atol=1e-5)


def test_precompute_shape_and_entries():
    ex = widgets.LatentExplorer(
        {
            "a": lambda z: z[:, :1, None, None] + torch.zeros(1, 1, 28, 28),
            "b": lambda z: -z[:, :1, None, None] + torch.zeros(1, 1, 28, 28),
        },
        base=torch.tensor([1.0, 0.0]),
        directions=torch.eye(2),
        limits={"a": (-1, 1), "b": [(0, 2), (-4, 4)]},
        steps=5,
    )
    grids = ex.precompute()
    assert set(grids) == {"a", "b"} and grids["a"].shape == (5, 5, 28, 28)
    ga = ex.grid("a")
    assert torch.allclose(grids["a"][3, 1], ex.decode_at("a", [ga[0][3], ga[1][1]]))
    assert torch.allclose(grids["b"][4, 0], torch.full((28, 28), -(1.0 + 2.0)))
    assert ex.initial_values("b") == [1.0, 0.0]


def test_widget_sliders_and_selector(vae, cgan):
    box = widgets.explore(vae.model).widget()
    assert box.selector is None and len(box.sliders) == 2
    assert not any(isinstance(c, type(None)) for c in box.children)
    before = box.image.value
    assert before[:8] == b"\x89PNG\r\n\x1a\n" and box.sliders[0].continuous_update
    box.sliders[0].value = box.sliders[0].min
    assert box.image.value != before
    after_first = box.image.value
    box.sliders[1].value = box.sliders[1].max
    assert box.image.value != after_first

    box = widgets.explore(cgan).widget()
    assert box.selector is not None and list(box.selector.options) == [str(i) for i in range(10)]
    assert box.selector.description == "class"
    before = box.image.value
    box.selector.value = "7"
    assert box.image.value != before
    box.sliders[1].value = 0.5
    ex = widgets.explore(cgan)
    assert torch.equal(ex.decode_at("7", [s.value for s in box.sliders]), ex.decode_at("7", [0.0, 0.5]))


def test_explore_priors_switches_limits():
    aaes = {p: _untrained(tl.AAEConfig(prior=p, hidden_dims=(16,), d_hidden=(16,))) for p in ("gaussian", "swiss-roll")}
    ex = widgets.explore_priors(aaes, n=2000)
    assert ex.selector_label == "prior" and ex.option_names == ["gaussian", "swiss-roll"]
    box = ex.widget()
    box.sliders[0].value = box.sliders[0].max
    box.selector.value = "swiss-roll"
    (lo, hi), _ = ex.slider_limits("swiss-roll")
    assert (box.sliders[0].min, box.sliders[0].max) == pytest.approx((lo, hi)) and box.sliders[
        0
    ].value == pytest.approx(hi)
    assert ex.slider_limits("gaussian") != ex.slider_limits("swiss-roll")


def _sprite(html: str):
    import base64
    import io
    import re

    from PIL import Image

    png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1))
    return Image.open(io.BytesIO(png)), int(re.search(r'data-steps="(\d+)"', html).group(1))


def test_static_html_sprite_layout_and_controls():
    """Tile t = option * steps**n + flat slider index, cols = ceil(sqrt(tiles)); 8-bit when it fits."""
    import numpy as np

    def fill(sign):
        return lambda z: (0.5 + sign * (0.3 * z[:, :1] + 0.1 * z[:, 1:2]))[:, :, None, None] + torch.zeros(1, 1, 28, 28)

    ex = widgets.LatentExplorer(
        {"a": fill(1), "b<&>": fill(-1)},
        torch.zeros(2),
        torch.eye(2),
        (-1.0, 1.0),
        ["x", "y"],
        "kind",
        steps=3,
        title="T <b>",
    )
    html = ex.static_html(continuous=False)
    img, steps = _sprite(html)
    assert steps == 3 and img.mode == "L" and img.size == (5 * 28, 4 * 28)  # 18 tiles, 5 per row
    sheet = np.asarray(img, dtype=np.float32) / 255
    grids = ex.precompute()
    for o, name in enumerate(ex.option_names):
        for i in range(3):
            for j in range(3):
                t = o * 9 + i * 3 + j
                tile = sheet[(t // 5) * 28 : (t // 5 + 1) * 28, (t % 5) * 28 : (t % 5 + 1) * 28]
                assert np.abs(tile - grids[name][i, j].numpy()).max() <= 0.5 / 255 + 1e-6
    assert (
        html.count('type="range"') == 2
        and html.count("<option") == 2
        and "b&lt;&amp;&gt;" in html
        and "T &lt;b&gt;" in html
    )
    assert 'data-tile="4"' in html and "left:-672px;top:0px" in html  # the middle image without JavaScript
    assert "http://" not in html and "https://" not in html and "<script src" not in html
    assert ex.static_html(continuous=False).split('"')[1] != html.split('"')[1]  # a fresh element id per widget


def test_static_html_keeps_the_budget(cgan):
    ex = widgets.explore(cgan)
    html = ex.static_html(continuous=False)
    assert len(html.encode()) <= widgets.STATIC_MAX_BYTES
    img, steps = _sprite(html)
    assert steps >= 5 and img.size[0] * img.size[1] >= 10 * steps**2 * 28 * 28
    tiny, steps = _sprite(
        ex.static_html(max_bytes=1000, continuous=False)
    )  # cannot fit: the coarsest grid, 16 grey levels
    assert steps == 2 and tiny.mode == "P"


def test_the_static_export_runs_only_in_the_book_build(cgan, monkeypatch):
    """A display in Jupyter is the live widget alone; the static HTML (seconds of export) only when the
    book is built."""
    from thesis_lib.widgets import decoder_view, explorer

    ex = widgets.explore(cgan)
    monkeypatch.delenv(explorer.STATIC_ENV, raising=False)
    monkeypatch.setattr(
        decoder_view, "static_html", lambda *a, **k: pytest.fail("the static export ran on a live display")
    )
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "text/html" not in bundle
    assert bundle["text/plain"].startswith("<LatentExplorer")
    monkeypatch.undo()
    monkeypatch.setenv(explorer.STATIC_ENV, "1")
    bundle = ex._repr_mimebundle_()
    assert {"application/vnd.jupyter.widget-view+json", "text/html", "text/plain"} <= set(bundle)
    assert bundle["text/html"].startswith('<div id="tl-latent-')


# ----------------------------------------------------------------------------- plots
@pytest.mark.slow
def test_nbconvert_writes_the_static_widget_as_the_readme_says(tmp_path):
    """README, 'Widgets in the static book': an explorer in a notebook of one's own, exported with
    ``THESIS_LIB_STATIC_WIDGETS=1 jupyter nbconvert --to html --execute
    --ExecutePreprocessor.store_widget_state=False``, is the static widget with its decoder's weights.
    (With the widgets' state stored, nbconvert shows the live widget, which needs a kernel.)"""
    import os
    import subprocess
    import sys

    import nbformat

    nb = nbformat.v4.new_notebook()
    code = (
        "import torch\nimport thesis_lib as tl\nfrom thesis_lib import widgets\nfrom thesis_lib.data import Dataset\n"
        "from thesis_lib.models import build_model\ntorch.manual_seed(0)\n"
        "model = build_model(tl.VAEConfig(latent_dim=2, hidden_dims=(16,))).eval()\n"
        "x = torch.rand(50, 1, 28, 28)\n"
        "widgets.explore(model, Dataset('mnist', 'test', x, torch.zeros(50, dtype=torch.long), 10), steps=5)"
    )
    nb.cells = [nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, tmp_path / "mine.ipynb")
    env = {**os.environ, "THESIS_LIB_STATIC_WIDGETS": "1"}
    command = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--execute"]
    done = subprocess.run(
        [*command, "--ExecutePreprocessor.store_widget_state=False", "mine.ipynb"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    html = (tmp_path / "mine.html").read_text()
    assert 'class="tl-latent' in html and "tl-latent-controls" in html
    assert 'class="tl-latent-weights"' in html  # the decoder's weights: the page decodes, not a sprite sheet


def test_plots_return_figures(vae, cgan, data):
    dae = _untrained(tl.AEConfig(latent_dim=5, hidden_dims=(32,), corruption="mask"))
    aae = _untrained(tl.AAEConfig(prior="mixture", hidden_dims=(16,), d_hidden=(16,)))
    hist = tl.History(
        steps={"D": [1.0, 0.9, 0.8, 0.7], "G": [2.0, 1.5], "D(x)": [0.5] * 4},
        epochs={"D": [0.8], "G": [1.7], "val/V(D,G)": [-1.3]},
    )
    x = torch.linspace(-5, 5, 200)
    figures = [
        plots.show_images(data.x[:16], nrow=4, title="data"),
        plots.show_images(latent.gaussian_cdf_grid(vae.model, steps=5), nrow=5, padding=0),
        plots.plot_history(vae),
        plots.plot_history(vae.history, keys=["kl", "recon"], per="step", smooth=3, logy=True),
        plots.plot_history(hist, per="step"),
        plots.plot_history(hist.to_dict(), keys=["D"]),
        plots.show_reconstructions(vae.model, data, n=6),
        plots.latent_scatter(vae.model, data, n=500),
        plots.latent_scatter(dae, data, n=500),
        plots.prior_vs_posterior(aae, data, n=500),
        plots.prior_vs_posterior(aae, data, n=500, overlay=True),
        plots.latent_activity(dae, data, n=500),
        plots.samples_per_class(cgan, n_per_class=3),
        plots.plot_gan_1d(
            x,
            torch.exp(-(x**2) / 2) / 2.5066,
            samples=torch.randn(1000) + 1,
            d=torch.sigmoid(-x),
            z=torch.linspace(-2, 2, 10),
            g_z=torch.linspace(-2, 2, 10) + 1,
        ),
    ]
    assert all(isinstance(f, Figure) for f in figures)
    _, ax = plt.subplots()
    assert plots.show_images(data.x[:4], ax=ax) is ax.figure
    with pytest.raises(KeyError, match="nope"):
        plots.plot_history(hist, keys=["nope"])


def test_activity_finds_the_dimensions_that_ignore_the_input(data):
    """A code dimension whose encoder weights are zero has activity 0 (it carries nothing); the others
    have the variance of their codes, and the plot's title counts the active ones."""
    ae = _untrained(tl.AEConfig(latent_dim=6, hidden_dims=(32,)))
    last = ae.encoder[-1][-1]  # the linear layer that outputs the code
    with torch.no_grad():
        last.weight[[1, 4]] = 0.0
        last.bias[[1, 4]] = 0.7
    act = latent.activity(ae, data, n=300)
    codes, _ = latent.embed_dataset(ae, data, 300)
    assert torch.equal(act, codes.var(0)) and act[[1, 4]].abs().max() == 0 and (act[[0, 2, 3, 5]] > 0).all()
    n_active = int((act > 0.01).sum())
    assert plots.latent_activity(ae, data, n=300).axes[0].get_title().startswith(f"{n_active} of 6 dimensions active")


def test_gan_1d_curves():
    gan = _untrained(tl.GANConfig(dataset="toy-1d", latent_dim=1, g_hidden=(8,), d_hidden=(8,)))
    curves = toy_models.gan_1d_curves(gan, n_samples=2000, n_mapping=7)
    assert curves["x"].shape == curves["p_data"].shape == curves["p_g"].shape == curves["d"].shape == (500,)
    assert curves["z"].shape == curves["g_z"].shape == (7,)
    dx = curves["x"][1] - curves["x"][0]
    assert abs(curves["p_data"].sum() * dx - 1) < 0.01 and abs(curves["p_g"].sum() * dx - 1) < 0.1
    assert isinstance(plots.plot_gan_1d(**curves), Figure)


def _texts(fig: Figure) -> list[str]:
    """Every text of the figure's axes: labels, annotations, titles."""
    return [t.get_text() for ax in fig.axes for t in ax.findobj(Text)]


def test_block_diagrams_draw_their_labels():
    gan, cgan = _texts(plots.gan_diagram()), _texts(plots.gan_diagram(conditional=True))
    for texts in (gan, cgan):
        assert any("generator" in t for t in texts) and any("discriminator" in t for t in texts)
        assert any("p_{\\mathrm{data}}(x)" in t for t in texts) and any("probability" in t for t in texts)
    assert any("$c$" in t for t in cgan) and not any("$c$" in t or "class label" in t for t in gan)
    vae = " ".join(_texts(plots.vae_diagram()))
    for label in ("\\epsilon", "\\mu", "\\log \\sigma^2", "\\mathrm{KL}", "\\log p_\\theta(x \\mid z)", "gradients"):
        assert label in vae, label
    aae = _texts(plots.aae_diagram(title="AAE"))
    assert any("p(z)" in t for t in aae) and any("$D$" in t for t in aae) and "AAE" in aae
    assert any("generator of" in t for t in aae) and any("or code" in t for t in aae)
    for draw in (plots.gan_diagram, plots.vae_diagram, plots.aae_diagram, plots.autoencoder_diagram):
        _, ax = plt.subplots()
        assert draw(ax=ax) is ax.figure
    with pytest.raises(ValueError, match="conditional"):
        plots.gan_diagram(conditional="yes")


def test_glue_figure_hands_the_figure_to_the_page_and_shows_it_only_live(monkeypatch):
    """In the book build the figure is glued and closed (the page's glue:figure shows it once); run live it is shown
    too."""
    import matplotlib.pyplot as plt
    import myst_nb

    from thesis_lib import plots

    glued, shown = [], []
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=True: glued.append((name, value, display)))
    monkeypatch.setattr(plt, "show", lambda *a, **k: shown.append(True))
    monkeypatch.setenv(plots.book.BOOK_ENV, "1")
    fig = plt.figure()
    plots.glue_figure("fig-test")
    assert glued == [("fig-test", fig, False)] and not shown
    assert not plt.fignum_exists(fig.number), "the book build's figure stays open and would be shown twice"
    monkeypatch.delenv(plots.book.BOOK_ENV)
    fig2 = plt.figure()
    plots.glue_figure("fig-test-2", fig2)
    assert glued[-1] == ("fig-test-2", fig2, False) and shown == [True]
    plt.close(fig2)
    with pytest.raises(ValueError, match="expected a matplotlib Figure"):
        plots.glue_figure("fig-x", "not a figure")
    with pytest.raises(ValueError, match="name=''"):
        plots.glue_figure("", fig2)


def test_the_failure_pages_figures_draw_what_they_are_given(tmp_path):
    """plots.failures: panels lettered in order; the hops grid shows each snapshot's share of its near-mode samples
    (a row of zeros stays white); the per-step curves are trailing means of the given logs."""
    import numpy as np

    picture = tmp_path / "p.png"
    plt.imsave(picture, np.zeros((4, 4)))
    fig = plots.pictures([picture, picture, picture])
    assert [ax.get_title() for ax in fig.axes] == ["(a)", "(b)", "(c)"]
    fig = plots.mode_hops([([0, 5, 9], [[0, 4], [2, 2], [0, 0]])])
    shown = fig.axes[0].images[0].get_array()
    assert shown.tolist() == [[0, 1], [0.5, 0.5], [0, 0]] and [t.get_text() for t in fig.axes[0].get_yticklabels()] == [
        "0",
        "5",
        "9",
    ]
    fig = plots.discriminator_scores([{"D(x)": [1.0] * 30, "D(G(z))": [0.0] * 10 + [1.0] * 20}])
    fake = fig.axes[0].lines[1].get_ydata()
    assert fake[0] == 0 and fake[-1] == pytest.approx(20 / 25)  # the last 25 steps: 5 zeros, 20 ones
    fig = plots.samples_and_shares([picture, picture], [[1, 3], [2, 2]])
    assert [ax.get_title() for ax in fig.axes] == ["(a)", "(b)", "(c)", "(d)"]
    assert [p.get_height() for p in fig.axes[2].patches] == [0.25, 0.75]
    plt.close("all")
