"""The four models: they learn, their phases follow the papers' algorithms, and they sample."""

from __future__ import annotations

import pytest
import torch
from helpers import QUIET, gen

from thesis_lib import toy, train
from thesis_lib.config import AAEConfig, AEConfig, GANConfig, VAEConfig, run_config
from thesis_lib.data import Dataset, minibatch_indices
from thesis_lib.models import GAN, VAE, AdversarialAutoencoder, Autoencoder, build_model
from thesis_lib.models.ae import mask_square
from thesis_lib.seed import seed_everything
from thesis_lib.trainer import Trainer


# ============================================================================ learning
@pytest.mark.parametrize(
    "cfg, key",
    [
        (run_config("ae", hidden_dims=(32,), latent_dim=4, epochs=3, batch_size=50), "recon"),
        (run_config("ae", arch="conv", latent_dim=4, epochs=2, batch_size=50, corruption="gaussian"), "recon"),
        (run_config("vae", hidden_dims=(32,), latent_dim=4, epochs=3, batch_size=50), "-elbo"),
        (
            run_config(
                "vae",
                hidden_dims=(32,),
                latent_dim=4,
                epochs=3,
                batch_size=50,
                estimator="A",
                n_samples=2,
                objective="dataset",
                binarize=True,
            ),
            "-elbo",
        ),
        (run_config("aae", hidden_dims=(32,), d_hidden=(16,), latent_dim=2, epochs=3, batch_size=50), "recon"),
    ],
    ids=["ae", "ae-conv-denoising", "vae-B", "vae-A-dataset-objective", "aae"],
)
def test_losses_fall_over_a_short_run(cfg, key, mnist_train):
    trainer = train(cfg, data=mnist_train.subset(1000), **QUIET)
    per_epoch = trainer.history.epochs[key]
    assert len(per_epoch) == cfg.schedule.epochs
    assert per_epoch[-1] < 0.8 * per_epoch[0], per_epoch
    assert trainer.model.training is False  # train() hands back the model in eval mode


def _unimodal_toy(n: int = 4096, mean: float = 3.0, std: float = 0.5) -> Dataset:
    x, y = toy.gaussian_mixture_1d(n, means=(mean,), stds=(std,), weights=(1.0,), generator=gen(0))
    return Dataset("toy-1d", "train", x, y, 2)


@pytest.mark.parametrize("generator_loss", ["nonsaturating", "minimax"])
def test_gan_samples_move_to_the_data(generator_loss):
    """On 1-D data N(3, 0.5^2), G(z) starts near 0 and its samples' mean moves to 3."""
    data = _unimodal_toy()
    cfg = run_config(
        "gan",
        dataset="toy-1d",
        latent_dim=2,
        g_hidden=(32,),
        d_hidden=(32,),
        dropout=0.0,
        lr=1e-3,
        batch_size=64,
        epochs=3,
        generator_loss=generator_loss,
    )
    seed_everything(cfg.schedule.seed)
    before = build_model(cfg).eval().sample(4000, generator=gen(1))
    trainer = train(cfg, data=data, **QUIET)
    after = trainer.model.sample(4000, generator=gen(1))
    assert after.shape == (4000, 1)
    err_before, err_after = abs(before.mean().item() - 3.0), abs(after.mean().item() - 3.0)
    assert err_before > 2.5
    assert err_after < 0.4 * err_before, (before.mean(), after.mean())
    # Logged per step: D's loss (k per iteration), D(x), D(G(z)) and G's loss.
    assert {"D", "G", "D(x)", "D(G(z))"} <= set(trainer.history.steps)


# ============================================================================ Algorithm 1: k
def test_gan_k_discriminator_steps_per_generator_step(monkeypatch):
    """k=3: three D steps, each on a fresh minibatch, then one G step, per iteration."""
    data = _unimodal_toy(n=640)  # 10 minibatches of 64 -> 3 iterations of 3 batches
    cfg = run_config("gan", dataset="toy-1d", k=3, latent_dim=2, g_hidden=(8,), d_hidden=(8,), batch_size=64, epochs=1)
    seen: list[tuple[str, torch.Tensor]] = []
    d_step, g_step = GAN.discriminator_step, GAN.generator_step
    monkeypatch.setattr(
        GAN, "discriminator_step", lambda self, x, y: (seen.append(("D", x.clone())), d_step(self, x, y))[1]
    )
    monkeypatch.setattr(
        GAN, "generator_step", lambda self, x, y: (seen.append(("G", x.clone())), g_step(self, x, y))[1]
    )
    seed_everything(cfg.schedule.seed)
    model = build_model(cfg)
    trainer = Trainer(model, data, cfg.schedule, progress=False)
    assert trainer.batches_per_iteration == 3
    assert trainer.iterations_per_epoch() == 10 // 3
    trainer.fit()
    n_iter = trainer.iterations_per_epoch()
    assert len(trainer.history.steps["D"]) == 3 * len(trainer.history.steps["G"]) == 3 * n_iter
    assert len(trainer.history.epochs["D"]) == 1
    assert [kind for kind, _ in seen] == ["D", "D", "D", "G"] * n_iter
    # The D steps consume the epoch's minibatches in order, one fresh batch each (9 of 10).
    batches = minibatch_indices(len(data), cfg.schedule.batch_size, cfg.schedule.seed, 0)
    d_inputs = [x for kind, x in seen if kind == "D"]
    for i, x in enumerate(d_inputs):
        assert torch.equal(x, data.x[batches[i]])
    # G draws fresh noise; it reuses the last D batch only for the batch size (and labels).
    g_inputs = [x for kind, x in seen if kind == "G"]
    assert all(torch.equal(g, d_inputs[3 * i + 2]) for i, g in enumerate(g_inputs))


# ============================================================================ AE corruption
def _tiny_ae(**kw) -> Autoencoder:
    return build_model(AEConfig(hidden_dims=(16,), latent_dim=4, **kw))


def test_mask_square_zeros_exactly_one_square_per_image():
    x = torch.ones(50, 1, 28, 28)
    out = mask_square(x, 7, generator=gen(0))
    holes = out[:, 0] == 0
    assert holes.flatten(1).sum(1).tolist() == [49] * 50
    rows, cols = holes.any(2), holes.any(1)
    assert rows.sum(1).tolist() == [7] * 50 and cols.sum(1).tolist() == [7] * 50  # a 7x7 square
    tops = rows.float().argmax(1)
    assert len(set(tops.tolist())) > 5  # placed at random
    # Pixels outside the hole are kept; an oversized hole is clipped to the image.
    img = torch.rand(4, 1, 28, 28, generator=gen(1))
    masked = mask_square(img, 12, generator=gen(2))
    kept = masked != 0
    assert torch.equal(masked[kept], img[kept])
    assert torch.all(mask_square(img, 40) == 0)


@pytest.mark.parametrize("corruption", ["gaussian", "mask"])
def test_denoising_autoencoder_corrupts_the_input_but_targets_the_clean_image(corruption, mnist_train):
    model = _tiny_ae(corruption=corruption, noise_std=0.3, mask_size=10)
    x = mnist_train.x[:16]
    torch.manual_seed(1)
    corrupted = model.corrupt(x)
    assert corrupted.shape == x.shape and not torch.equal(corrupted, x)
    assert corrupted.min() >= 0 and corrupted.max() <= 1
    if corruption == "mask":
        changed = corrupted != x
        assert torch.all(corrupted[changed] == 0)
    # The step's loss is the error of reconstructing the *clean* x from the corrupted input.
    torch.manual_seed(2)
    loss = model.reconstruction_step(x, None)["loss"]
    torch.manual_seed(2)
    raw = model.decode_raw(model.encode(model.corrupt(x)))
    torch.testing.assert_close(loss, model.reconstruction_error(x, raw).mean(), rtol=0, atol=0)
    torch.manual_seed(2)
    xc = model.corrupt(x)
    assert not torch.allclose(loss, model.reconstruction_error(xc, raw).mean())


def test_uncorrupted_autoencoder_input_is_the_data():
    model = _tiny_ae()
    x = torch.rand(3, 1, 28, 28)
    assert model.corrupt(x) is x


# ============================================================================ conditional GAN
def test_conditional_gan_samples_depend_on_labels():
    model = build_model(GANConfig(conditional=True, latent_dim=4, g_hidden=(16,), d_hidden=(16,))).eval()
    zeros = model.sample(8, labels=torch.zeros(8, dtype=torch.long), generator=gen(0))
    ones = model.sample(8, labels=torch.ones(8, dtype=torch.long), generator=gen(0))
    assert zeros.shape == (8, 1, 28, 28)
    assert not torch.allclose(zeros, ones)
    # Without labels the samples cycle through the classes 0, 1, ..., 9, 0, 1, ...
    cycled = model.sample(12, generator=gen(0))
    explicit = model.sample(12, labels=torch.arange(12) % 10, generator=gen(0))
    assert torch.equal(cycled, explicit)
    with pytest.raises(ValueError, match="needs labels"):
        model.generate(torch.zeros(2, 4))
    # The discriminator sees the label too.
    x = torch.rand(2, 1, 28, 28)
    assert not torch.allclose(model.discriminate(x, torch.tensor([0, 0])), model.discriminate(x, torch.tensor([5, 5])))


def test_conditional_gan_trains_with_labels(mnist_small):
    cfg = run_config("gan", conditional=True, latent_dim=4, g_hidden=(16,), d_hidden=(16,), epochs=1, batch_size=64)
    trainer = train(cfg, data=mnist_small, **QUIET)
    assert len(trainer.history.steps["G"]) == 4


# ============================================================================ AAE
def _code_kl_to_standard_normal(z: torch.Tensor) -> float:
    """KL(N(mean, cov) || N(0, I)) of a Gaussian fitted to codes z (n, d)."""
    z = z.double()
    mean, cov = z.mean(0), torch.cov(z.T)
    return 0.5 * (torch.trace(cov) + mean @ mean - z.shape[1] - torch.logdet(cov)).item()


def test_aae_codes_move_towards_the_prior(mnist_train):
    data = mnist_train.subset(2000)
    common = dict(latent_dim=2, hidden_dims=(64,), epochs=3, batch_size=25, lr=1e-3)
    cfg = run_config(
        "aae", d_hidden=(64, 64), reg_lr=1e-3, prior_std=1.0, **common
    )  # the prior N(0, I) the KL below measures against
    seed_everything(cfg.schedule.seed)
    init = build_model(cfg).eval()
    aae = train(cfg, data=data, **QUIET).model
    ae = train(run_config("ae", **common), data=data, **QUIET).model  # same encoder, no regularisation
    with torch.no_grad():
        kl_init, kl_aae, kl_ae = (_code_kl_to_standard_normal(m.encode(data.x)) for m in (init, aae, ae))
    assert kl_aae < 0.75 * kl_init, (kl_init, kl_aae, kl_ae)
    assert kl_aae < 0.25 * kl_ae, (kl_init, kl_aae, kl_ae)


def test_aae_uses_a_user_supplied_prior(mnist_train):
    calls = []

    def prior(n, labels=None, generator=None):
        calls.append(n)
        return 5.0 + 0.1 * torch.randn(n, 2, generator=generator)

    data = mnist_train.subset(2000)
    cfg = run_config(
        "aae", latent_dim=2, hidden_dims=(64,), d_hidden=(64, 64), epochs=3, batch_size=25, lr=1e-3, reg_lr=1e-3
    )
    seed_everything(cfg.schedule.seed)
    with torch.no_grad():
        before = build_model(cfg).eval().encode(data.x).mean(0)
    trainer = train(cfg, data=data, prior=prior, **QUIET)
    assert trainer.model.prior is prior
    assert len(calls) == trainer.global_step and set(calls) == {25}  # one prior batch per D step
    with torch.no_grad():
        after = trainer.model.encode(data.x).mean(0)
    assert torch.all(before.abs() < 1.0)
    assert torch.all((after - 5.0).abs() < 0.4 * (before - 5.0).abs()), (before, after)
    # Samples decode prior draws.
    assert trainer.model.sample(4).shape == (4, 1, 28, 28)


@pytest.mark.parametrize("encoder", ["deterministic", "gaussian", "universal"])
def test_aae_encoder_kinds(encoder, mnist_small):
    cfg = run_config(
        "aae", latent_dim=3, hidden_dims=(16,), d_hidden=(8,), encoder=encoder, noise_dim=4, epochs=1, batch_size=64
    )
    trainer = train(cfg, data=mnist_small, **QUIET)
    model = trainer.model
    assert [len(trainer.history.steps[k]) for k in ("recon", "D", "E")] == [4, 4, 4]
    x = mnist_small.x[:10]
    with torch.no_grad():
        z1, z2 = model.encode(x), model.encode(x)
        m1, m2 = model.embed(x), model.embed(x)
    assert z1.shape == (10, 3) and m1.shape == (10, 3)
    assert torch.equal(m1, m2)
    if encoder == "deterministic":
        assert torch.equal(z1, z2) and torch.equal(z1, m1)
    else:  # q(z|x) is stochastic given x
        assert not torch.allclose(z1, z2)
    assert model.decode(z1).shape == (10, 1, 28, 28)


def test_aae_label_prior_gives_each_class_its_region():
    model = build_model(AAEConfig(prior="mixture", label_prior=True, hidden_dims=(16,), d_hidden=(8,)))
    labels = torch.full((300,), 4)
    z = model.sample_prior(300, labels, generator=gen(0))
    assert (z.mean(0) - toy.mixture_2d_means()[4]).norm() < 0.5
    # D is conditioned on the one-hot label.
    assert model.discriminator[0].in_features == 2 + 10


# ============================================================================ sampling
SAMPLERS = [
    AEConfig(hidden_dims=(16,), latent_dim=4),
    GANConfig(latent_dim=4, g_hidden=(16,), d_hidden=(16,)),
    VAEConfig(hidden_dims=(16,), latent_dim=4),
    AAEConfig(hidden_dims=(16,), d_hidden=(8,)),
]


@pytest.mark.parametrize("cfg", SAMPLERS, ids=[c.model for c in SAMPLERS])
def test_sample_shapes_ranges_and_repeatability(cfg):
    model = build_model(cfg).eval()
    s = model.sample(10, generator=gen(0))
    assert s.shape == (10, 1, 28, 28) and s.dtype == torch.float32
    assert s.min() >= 0 and s.max() <= 1
    assert torch.equal(s, model.sample(10, generator=gen(0)))
    assert not torch.equal(s, model.sample(10, generator=gen(1)))
    assert not s.requires_grad


def test_autoencoder_samples_from_the_fitted_code_distribution(mnist_small):
    trainer = train(
        run_config("ae", hidden_dims=(16,), latent_dim=3, epochs=1, batch_size=64), data=mnist_small, **QUIET
    )
    model = trainer.model
    with torch.no_grad():
        z = model.encode(mnist_small.x)
    torch.testing.assert_close(model.latent_mean, z.mean(0))
    torch.testing.assert_close(
        model.latent_scale_tril @ model.latent_scale_tril.T, torch.cov(z.T), atol=1e-4, rtol=1e-4
    )


def test_toy_models_sample_in_data_space():
    vae = build_model(VAEConfig(dataset="mixture-2d", hidden_dims=(8,), latent_dim=2, decoder="gaussian")).eval()
    assert vae.sample(5).shape == (5, 2)
    gan = build_model(GANConfig(dataset="toy-1d", latent_dim=2, g_hidden=(8,), d_hidden=(8,))).eval()
    assert gan.sample(5).shape == (5, 1)


def test_models_refuse_the_wrong_config():
    with pytest.raises(TypeError, match="VAE needs a VAEConfig"):
        VAE(AEConfig())
    assert isinstance(build_model(AAEConfig(hidden_dims=(8,), d_hidden=(8,))), AdversarialAutoencoder)
