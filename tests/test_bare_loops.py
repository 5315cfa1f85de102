"""The plain loops of thesis_lib.bare_loops (Algorithms 1 and 2) give exactly the models train() gives.

Exact means ``torch.equal`` on every weight and buffer: G, D, the moving average of G (and its
batch-norm statistics), the output offset, the VAE's encoder and decoder. A loop that is wrong in
one detail (k, the noise, the moving average's decay) is caught.
"""

from __future__ import annotations

import pytest
import torch
from helpers import QUIET

from thesis_lib import GANConfig, GANSchedule, VAEConfig, VAESchedule, train
from thesis_lib.bare_loops import algorithm_1, algorithm_2, max_difference
from thesis_lib.data import Dataset

TINY_GAN = dict(latent_dim=4, g_hidden=(16,), d_hidden=(16,))
TINY_VAE = dict(hidden_dims=(16,), latent_dim=3)


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    unequal = [name for name in sa if not (sa[name].dtype == sb[name].dtype and torch.equal(sa[name], sb[name]))]
    assert not unequal, f"differ: {unequal} (max |difference| {max_difference(a, b):.3g})"
    assert max_difference(a, b) == 0.0


def both(loop, config, schedule, data):
    """The model train() gives, and the model the plain loop gives, for the same settings and data."""
    return train(config, schedule=schedule, data=data, **QUIET).model, loop(config, schedule, data)


# ============================================================================ bit for bit
# 200 images in minibatches of 32: 7 minibatches (the last of 8), so k=2 leaves one out and k=3 one.
@pytest.mark.parametrize(
    "settings",
    [
        {},  # k=1, the chapter's loss, the moving average, data_init
        {"k": 2, "dropout": 0.3, "generator_loss": "minimax"},  # D's dropout draws random numbers: their order matters
        {"k": 3, "ema": 0.0, "data_init": False},
        {"dataset": "mixture-2d", "ema": 0.0},  # toy data: G without batch norm
    ],
    ids=["k1", "k2-dropout-minimax", "k3-no-ema", "toy"],
)
def test_algorithm_1_gives_the_trainers_gan_bit_for_bit(settings, mnist_small):
    config = GANConfig(**{**TINY_GAN, **settings})
    data = mnist_small.subset(200) if config.dataset == "mnist" else _toy(config.dataset, 200)
    library, bare = both(algorithm_1, config, GANSchedule(epochs=3, batch_size=32), data)
    assert_same_weights(library, bare)
    assert not bare.training


@pytest.mark.parametrize(
    "settings, schedule",
    [
        ({}, {}),
        ({"objective": "dataset", "n_samples": 3}, {"binarize": True}),  # dynamic binarisation draws random numbers too
        ({"objective": "mean"}, {"lr": 3e-3, "adam_betas": (0.5, 0.9)}),
    ],
    ids=["sum", "dataset-L3-binarized", "mean"],
)
def test_algorithm_2_gives_the_trainers_vae_bit_for_bit(settings, schedule, mnist_small):
    config = VAEConfig(**{**TINY_VAE, **settings})
    library, bare = both(algorithm_2, config, VAESchedule(epochs=3, batch_size=32, **schedule), mnist_small.subset(200))
    assert_same_weights(library, bare)


# ============================================================================ a wrong loop is caught
def test_a_loop_that_differs_in_one_setting_is_caught(mnist_small):
    data, schedule = mnist_small.subset(200), GANSchedule(epochs=2, batch_size=32)
    library = train(GANConfig(**TINY_GAN, k=2), schedule=schedule, data=data, **QUIET).model
    assert max_difference(library, algorithm_1(GANConfig(**TINY_GAN, k=1), schedule, data)) > 1e-3  # k
    assert (
        max_difference(library, algorithm_1(GANConfig(**TINY_GAN, k=2), schedule.replace(seed=1), data)) > 1e-3
    )  # the seed
    # only the moving average's decay differs (0.2 against 0.999; in these 6 updates the warm-up
    # decay (1 + t) / (10 + t) < 0.999 rules, but exceeds 0.2 from t = 2): G and D are equal, the average is not
    other = algorithm_1(GANConfig(**TINY_GAN, k=2, ema=0.2), schedule, data)
    mine, theirs = library.state_dict(), other.state_dict()
    assert all(torch.equal(mine[name], theirs[name]) for name in mine if not name.startswith("generator_ema."))
    averaged = [name for name, _ in library.named_parameters() if name.startswith("generator_ema.")]
    assert averaged and not any(torch.equal(mine[name], theirs[name]) for name in averaged)
    assert max_difference(library, other) > 1e-4
    vae_schedule = VAESchedule(epochs=2, batch_size=32)
    vae = train(VAEConfig(**TINY_VAE, n_samples=2), schedule=vae_schedule, data=data, **QUIET).model
    assert max_difference(vae, algorithm_2(VAEConfig(**TINY_VAE, n_samples=1), vae_schedule, data)) > 1e-3  # L


def test_pytorchs_default_adam_rounds_differently_and_adam_amplifies_it(mnist_small, monkeypatch):
    """Why the loops create Adam with fused=True, as the library does. One VAE step with PyTorch's
    default Adam differs by rounding only; one GAN iteration already differs by about 1e-5 in the
    bias of G's first layer: batch norm subtracts the minibatch mean right after it, so its exact
    gradient is zero and its float gradient rounding noise, which Adam divides by its own scale."""
    data = mnist_small.subset(32)  # one minibatch: one step, one iteration
    vae_config, vae_schedule = VAEConfig(**TINY_VAE), VAESchedule(epochs=1, batch_size=32)
    gan_config, gan_schedule = GANConfig(**TINY_GAN), GANSchedule(epochs=1, batch_size=32)
    vae, gan = algorithm_2(vae_config, vae_schedule, data), algorithm_1(gan_config, gan_schedule, data)
    adam = torch.optim.Adam
    monkeypatch.setattr(torch.optim, "Adam", lambda params, fused=None, **kw: adam(params, **kw))
    vae_default, gan_default = algorithm_2(vae_config, vae_schedule, data), algorithm_1(gan_config, gan_schedule, data)
    assert 0 < max_difference(vae, vae_default) < 1e-8
    mine, theirs = gan.state_dict(), gan_default.state_dict()
    difference = {name: (mine[name].double() - theirs[name].double()).abs().max().item() for name in mine}
    before_batch_norm = ("generator.0.bias", "generator_ema.0.bias", "generator_ema.1.running_mean")
    assert min(difference[name] for name in before_batch_norm) > 1e-6
    assert max(d for name, d in difference.items() if name not in before_batch_norm) < 1e-7


# ============================================================================ what the loops refuse
@pytest.mark.parametrize(
    "loop, config, schedule, message",
    [
        (algorithm_1, GANConfig(**TINY_GAN), GANSchedule(optimizer="sgd"), "use Adam .* got optimizer 'sgd'"),
        (algorithm_1, GANConfig(**TINY_GAN, conditional=True), GANSchedule(), "unconditional GAN .* must be False"),
        (algorithm_1, GANConfig(**TINY_GAN), GANSchedule(binarize=True), "unconditional GAN .* must be False"),
        (
            algorithm_1,
            GANConfig(**TINY_GAN, k=5),
            GANSchedule(batch_size=64),
            "k=5 discriminator steps need at least 5 minibatches per epoch, got 256 examples",
        ),
        (algorithm_1, GANConfig(**TINY_GAN), VAESchedule(), "a gan run needs a GANSchedule"),
        (algorithm_2, VAEConfig(**TINY_VAE, estimator="A"), VAESchedule(), "estimator 'B' .* got estimator 'A'"),
        (algorithm_2, VAEConfig(**TINY_VAE, decoder="gaussian"), VAESchedule(), "decoder 'gaussian'"),
        (algorithm_2, VAEConfig(**TINY_VAE), VAESchedule(optimizer="adagrad"), "got optimizer 'adagrad'"),
    ],
)
def test_the_loops_refuse_what_they_do_not_write_out(loop, config, schedule, message, mnist_small):
    with pytest.raises(ValueError, match=message):
        loop(config, schedule, mnist_small)


def test_max_difference_needs_the_same_weights():
    with pytest.raises(ValueError, match="different weights"):
        max_difference(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2, bias=False))


# ============================================================================ the chapters' settings
@pytest.mark.slow
def test_the_chapter_gan_for_200_iterations(mnist_train):
    """GANConfig() and its schedule, two epochs of 6,400 images: 200 iterations (as in book/gan.ipynb)."""
    library, bare = both(algorithm_1, GANConfig(), GANSchedule(epochs=2), mnist_train.subset(6400))
    assert_same_weights(library, bare)


@pytest.mark.slow
def test_the_chapter_vae_for_200_steps(mnist_train):
    """VAEConfig() and its schedule, two epochs of 12,800 images: 200 steps (as in book/vae.ipynb)."""
    library, bare = both(algorithm_2, VAEConfig(), VAESchedule(epochs=2), mnist_train.subset(12800))
    assert_same_weights(library, bare)


def _toy(name: str, n: int) -> Dataset:
    from thesis_lib.data import load_dataset

    return load_dataset(name, "train").subset(n)
