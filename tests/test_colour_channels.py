"""Colour is never the only channel (WCAG 1.4.1) in the class scatter plots (``thesis_lib/plots/style.py``).

* The class palette (``CLASS_COLORS``) and the prior's grey stay apart under the common
  colour-vision deficiencies: deuteranomaly, protanomaly and tritanomaly at severity 100, simulated
  by ``colorspacious`` (Machado et al. 2009), measured as the least pairwise distance in CAM02-UCS
  (also in normal vision); every class colour also stays away from the white background. The old
  palette (matplotlib's tab10) fails the same check, so the check can fail.
* Every class scatter also names each class (its digit) at the centre of its points: the codes
  (``latent_scatter``, ``prior_vs_posterior``), a conditional GAN's images and the real ones
  (``generated_scatter``) and the AAE's encoding distributions (``encoding_distributions``).
"""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

import thesis_lib as tl  # noqa: E402
from thesis_lib import latent, plots  # noqa: E402
from thesis_lib.data import Dataset  # noqa: E402
from thesis_lib.plots import style  # noqa: E402

VISIONS = (None, "deuteranomaly", "protanomaly", "tritanomaly")
TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def _ucs(colours, vision):
    cs = pytest.importorskip("colorspacious", reason="colorspacious (requirements.txt) measures the palette")
    rgb = np.array([to_rgb(c) for c in colours])
    if vision is not None:
        rgb = np.clip(cs.cspace_convert(rgb, {"name": "sRGB1+CVD", "cvd_type": vision, "severity": 100}, "sRGB1"), 0, 1)
    return cs.cspace_convert(rgb, "sRGB1", "CAM02-UCS")


def least_distances(colours) -> dict:
    """Per vision: (the least CAM02-UCS distance between two of ``colours``, that pair; the least distance to white)."""
    out = {}
    for vision in VISIONS:
        u, white = _ucs(colours, vision), _ucs(["#ffffff"], vision)[0]
        d, i, j = min(
            (float(np.linalg.norm(u[i] - u[j])), i, j) for i, j in itertools.combinations(range(len(colours)), 2)
        )
        out[vision or "normal"] = (d, (colours[i], colours[j]), float(np.linalg.norm(u - white, axis=1).min()))
    return out


def test_class_colours_and_the_prior_stay_apart_under_colour_vision_deficiencies():
    measured = least_distances([*style.CLASS_COLORS, style.PRIOR_COLOR])
    print({k: (round(d, 1), pair) for k, (d, pair, _) in measured.items()})
    for vision, (d, pair, _) in measured.items():
        assert d >= style.MIN_CVD_DISTANCE, (
            f"{vision}: {pair} only {d:.1f} apart in CAM02-UCS (need {style.MIN_CVD_DISTANCE})"
        )
    classes = least_distances(list(style.CLASS_COLORS))
    for vision, (_, _, white) in classes.items():
        assert white >= style.MIN_WHITE_DISTANCE, (
            f"{vision}: a class colour is {white:.1f} from white (need {style.MIN_WHITE_DISTANCE})"
        )
    assert len(set(style.CLASS_COLORS)) == 10


def test_the_check_fails_matplotlibs_tab10():
    """The palette used before: orange and green merge under protanomaly."""
    measured = least_distances(list(TAB10))
    assert measured["protanomaly"][0] < 2 < style.MIN_CVD_DISTANCE, measured
    assert min(d for d, _, _ in measured.values()) < style.MIN_CVD_DISTANCE


def _labels(ax) -> dict[str, tuple[float, float]]:
    """The class names written in ``ax`` by style.label_classes: name -> position."""
    return {t.get_text(): t.get_position() for t in ax.texts if (t.get_gid() or "").startswith("class-label-")}


def test_scatter_names_each_class_at_the_median_of_its_points():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 50)
    points = rng.normal(size=(500, 2)) + 5 * np.stack([np.cos(labels), np.sin(labels)], 1)
    _, ax = plt.subplots()
    style.scatter_classes(ax, points, labels, [str(i) for i in range(10)], 3.0, 0.6)
    named = _labels(ax)
    assert sorted(named) == [str(i) for i in range(10)]
    for c in range(10):
        assert np.allclose(named[str(c)], np.median(points[labels == c], axis=0)), c
    _, ax = plt.subplots()
    style.scatter_classes(ax, points, labels, [str(i) for i in range(10)], 3.0, 0.6, centres=False)
    assert not _labels(ax)
    plt.close("all")


@pytest.fixture(scope="module")
def data() -> Dataset:
    g = torch.Generator().manual_seed(0)
    return Dataset("mnist", "train", torch.rand(300, 1, 28, 28, generator=g).pow(4), torch.arange(300) % 10, 10)


def _untrained(cfg):
    tl.seed_everything(0)
    return tl.build_model(cfg).eval()


def test_every_class_scatter_of_the_library_names_its_classes(data):
    import matplotlib.pyplot as plt

    ae = _untrained(tl.AEConfig(latent_dim=2, hidden_dims=(16,)))
    fig = plots.latent_scatter(ae, data, n=300)
    codes, _ = latent.embed_dataset(ae, data, 300)
    named = _labels(fig.axes[0])
    assert sorted(named) == [str(i) for i in range(10)]
    pts = latent.project_2d(codes).numpy()
    assert np.allclose(named["3"], np.median(pts[data.y[:300].numpy() == 3], axis=0), atol=1e-5)
    aae = _untrained(tl.AAEConfig(prior="mixture", hidden_dims=(16,), d_hidden=(16,)))
    for overlay in (False, True):
        fig = plots.prior_vs_posterior(aae, data, n=300, overlay=overlay)
        assert sorted(_labels(fig.axes[-1 if not overlay else 0])) == [str(i) for i in range(10)], overlay
    cgan = _untrained(tl.GANConfig(conditional=True, g_hidden=(16,), d_hidden=(16,)))
    fig = plots.generated_scatter(cgan, data, n_per_class=5, n_data=300)
    assert all(sorted(_labels(ax)) == [str(i) for i in range(10)] for ax in fig.axes[:2])
    fig = plots.encoding_distributions({"one": ae, "two": ae}, data, n_samples=10, n=100)
    picked = sorted({str(int(data.y[int((data.y == c).nonzero()[0])])) for c in (0, 1, 2, 4, 7)})
    assert all(sorted(_labels(ax)) == picked for ax in fig.axes[:2])
    plt.close("all")
