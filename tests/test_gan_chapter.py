"""Library pieces the GAN chapter added: the 1-D snapshot callback, its plot, the generator-gradient
plot, the generated-images scatter, and batch normalisation in the image GAN's generator."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from torch import nn  # noqa: E402

import thesis_lib as tl  # noqa: E402
from thesis_lib import plots  # noqa: E402
from thesis_lib.callbacks import GAN1DSnapshots  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_snapshots_at_the_chosen_iterations_and_the_end():
    cfg = tl.run_config(
        "gan", dataset="toy-1d", latent_dim=1, g_hidden=(8,), d_hidden=(8,), dropout=0.0, batch_size=500, epochs=1
    )
    cb = GAN1DSnapshots(steps=(1, 5, 10_000), n_samples=500, n_mapping=5)
    run = tl.train(cfg, callbacks=[cb], progress=False, validate=False, device="cpu")
    assert [s for s, _ in cb.snapshots] == [1, 5, run.global_step]  # 10_000 never reached; the end once
    curves = cb.snapshots[-1][1]
    assert set(curves) == {"x", "p_data", "p_g", "d", "z", "g_z"} and curves["g_z"].shape == (5,)
    fig = plots.gan_1d_snapshots(cb.snapshots, ncols=2)
    assert isinstance(fig, Figure) and len([a for a in fig.axes if a.axison]) == 3
    assert [a.get_title() for a in fig.axes[:3]] == [
        "(a) iteration 1",
        "(b) iteration 5",
        f"(c) iteration {run.global_step}",
    ]


def test_snapshots_do_not_change_training():
    cfg = tl.run_config(
        "gan", dataset="toy-1d", latent_dim=1, g_hidden=(8,), d_hidden=(8,), dropout=0.2, batch_size=500, epochs=1
    )
    plain = tl.train(cfg, progress=False, validate=False, device="cpu")
    watched = tl.train(
        cfg, callbacks=[GAN1DSnapshots(steps=(1, 3), n_samples=300)], progress=False, validate=False, device="cpu"
    )
    for a, b in zip(plain.model.state_dict().values(), watched.model.state_dict().values()):
        assert torch.equal(a, b)


def test_gan_1d_snapshots_needs_snapshots():
    with pytest.raises(ValueError, match="no snapshots"):
        plots.gan_1d_snapshots([])


def test_generator_gradients_are_d_and_one_minus_d():
    fig = plots.generator_gradients()
    grad_ax = fig.axes[1]
    (mm, ns) = grad_ax.get_lines()
    d = mm.get_xdata()
    np.testing.assert_allclose(mm.get_ydata(), d, atol=1e-6)  # |d/da log(1 - sigmoid(a))| = D
    np.testing.assert_allclose(ns.get_ydata(), 1 - d, atol=1e-6)  # |d/da -log sigmoid(a)| = 1 - D


def test_generated_scatter_for_a_conditional_gan():
    torch.manual_seed(0)
    cgan = tl.build_model(tl.GANConfig(conditional=True, latent_dim=4, g_hidden=(16,), d_hidden=(16,))).eval()
    data = tl.Dataset("mnist", "test", torch.rand(200, 1, 28, 28), torch.arange(200) % 10, 10)
    fig = plots.generated_scatter(cgan, data, n_per_class=5, n_data=200)
    assert isinstance(fig, Figure)
    assert sum(len(c.get_offsets()) for c in fig.axes[1].collections) == 50
    gan = tl.build_model(tl.GANConfig(latent_dim=4, g_hidden=(16,), d_hidden=(16,)))
    with pytest.raises(ValueError, match="conditional"):
        plots.generated_scatter(gan, data)


def test_image_generator_has_batch_norm_and_toy_generator_not():
    image = tl.build_model(tl.GANConfig(latent_dim=4, g_hidden=(16, 8), d_hidden=(16,)))
    toy = tl.build_model(tl.GANConfig(dataset="toy-1d", latent_dim=1, g_hidden=(16, 8), d_hidden=(16,)))
    assert sum(isinstance(m, nn.BatchNorm1d) for m in image.generator) == 2
    assert not any(isinstance(m, nn.BatchNorm1d) for m in toy.generator)
    assert not any(isinstance(m, nn.BatchNorm1d) for m in image.discriminator)
    image.eval()
    with torch.no_grad():  # eval mode: running statistics, so one noise vector works
        assert image.decode(torch.randn(1, 4)).shape == (1, 1, 28, 28)
