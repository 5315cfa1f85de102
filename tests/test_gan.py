"""The chapter GAN's recipe: the convolutional architecture, the moving average of G and the output
offset from the data. (The diagnostics that measure samples are tested in ``tests/test_metrics.py``.)"""

from __future__ import annotations

import math

import pytest
import torch
from helpers import QUIET, assert_one_line_error, assert_same, assert_same_run, params_differ, run_cli, tiny_conv_gan

from thesis_lib import train
from thesis_lib.callbacks import StopAfter
from thesis_lib.config import GANConfig, run_config
from thesis_lib.models import build_model
from thesis_lib.nets import recalibrate_batch_norm
from thesis_lib.seed import seed_everything
from thesis_lib.trainer import Trainer


# ============================================================================ the convolutional GAN
def test_conv_gan_phases_are_algorithm_1(mnist_small, monkeypatch):
    """k D steps on fresh minibatches, then one G step; each step moves only its own player."""
    cfg = tiny_conv_gan(k=2, epochs=1)
    seed_everything(0)
    model = build_model(cfg)
    phases = model.phases()
    assert [(p.name, p.optimizer, p.repeats, p.new_batch) for p in phases] == [
        ("D", "discriminator", 2, True),
        ("G", "generator", 1, False),
    ]
    opts = model.configure_optimizers(cfg.schedule)
    d_params = {id(p) for g in opts["discriminator"].param_groups for p in g["params"]}
    g_params = {id(p) for g in opts["generator"].param_groups for p in g["params"]}
    assert d_params == {id(p) for p in model.discriminator.parameters()}
    assert g_params == {id(p) for p in model.generator.parameters()}
    assert not d_params & g_params
    assert not {id(p) for p in model.generator_ema.parameters()} & (
        d_params | g_params
    )  # the average is never optimised
    x, y = mnist_small.x[:32], mnist_small.y[:32]
    g_before = [p.clone() for p in model.generator.parameters()]
    model.zero_grad()
    phases[0].step(x, y)["loss"].backward()
    assert all(p.grad is None for p in model.generator.parameters())  # the fake batch is made under no_grad
    trainer = Trainer(model, mnist_small.subset(128), cfg.schedule, progress=False)
    trainer.fit()
    assert len(trainer.history.steps["D"]) == 2 * len(trainer.history.steps["G"])
    assert any(not torch.equal(a, b) for a, b in zip(g_before, model.generator.parameters()))


@pytest.mark.slow
def test_conv_gan_losses_fall_and_samples_are_images(mnist_train):
    """On 1,000 digits, two epochs: D learns to tell (its loss falls below guessing, 2 log 2) and G
    then learns against it (its loss falls from its peak)."""
    trainer = train(tiny_conv_gan(channels=8, epochs=3), data=mnist_train.subset(1000), **QUIET)
    d, g = trainer.history.steps["D"], trainer.history.steps["G"]
    assert sum(d[-20:]) / 20 < 2 * math.log(2)
    assert sum(g[-20:]) / 20 < max(g)
    s = trainer.model.sample(16, generator=torch.Generator().manual_seed(0))
    assert s.shape == (16, 1, 28, 28) and 0 <= s.min() and s.max() <= 1


def test_conditional_conv_gan_gives_d_the_class(mnist_small):
    model = build_model(tiny_conv_gan(conditional=True)).eval()
    x = mnist_small.x[:8]
    a = model.discriminate(x, torch.zeros(8, dtype=torch.long))
    b = model.discriminate(x, torch.ones(8, dtype=torch.long))
    assert not torch.allclose(a, b)
    z = model.sample_prior(8, generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(
        model.decode(z, torch.zeros(8, dtype=torch.long)), model.decode(z, torch.ones(8, dtype=torch.long))
    )


@pytest.mark.slow
def test_resume_mid_epoch_of_a_conv_gan_equals_uninterrupted_run(mnist_small, tmp_path):
    """The moving average (weights, batch-norm statistics, update count) is saved and resumed bit for bit."""
    straight = train(tiny_conv_gan(), data=mnist_small, **QUIET)
    first = train(tiny_conv_gan(), tmp_path, callbacks=[StopAfter(3)], data=mnist_small, **QUIET)
    assert first.interrupted and params_differ(first, straight)
    resumed = train(tiny_conv_gan(), tmp_path, resume=True, data=mnist_small, **QUIET)
    assert_same_run(resumed, straight)
    state = resumed.model.state_dict()
    assert any(k.startswith("generator_ema.") for k in state) and int(state["ema_updates"]) == len(
        straight.history.steps["G"]
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"arch": "dcgan"}, "arch must be one of 'mlp', 'conv', got 'dcgan'"),
        (
            {"arch": "conv", "dataset": "toy-1d"},
            "arch 'conv' needs an image dataset ('mnist' or 'fashion-mnist'), got dataset 'toy-1d'",
        ),
        ({"ema": 1.0}, "ema must be a number in [0.0, 1.0), got 1.0"),
        ({"channels": 0}, "channels must be an integer >= 1, got 0"),
    ],
)
def test_bad_gan_settings_name_field_value_and_choices(kwargs, message):
    with pytest.raises(ValueError) as e:
        GANConfig(**kwargs)
    assert str(e.value) == message


@pytest.mark.slow
def test_cli_refuses_conv_on_a_toy_dataset_in_one_line(tmp_path):
    r = run_cli("train", "gan", "--arch", "conv", "--dataset", "toy-1d", "--out", str(tmp_path / "run"))
    assert r.returncode == 2
    assert_one_line_error(r.stderr, "arch 'conv' needs an image dataset")
    assert not (tmp_path / "run").exists()


# ============================================================================ the moving average of G
def test_moving_average_follows_its_formula_and_is_what_sampling_uses(mnist_small):
    cfg = run_config("gan", latent_dim=4, g_hidden=(16,), d_hidden=(16,), ema=0.9, batch_size=32, epochs=1)
    seed_everything(0)
    model = build_model(cfg)
    trainer = Trainer(model, mnist_small.subset(96), cfg.schedule, progress=False)
    before = [p.clone() for p in model.generator_ema.parameters()]
    d_phase, g_phase = model.phases()
    x, y = mnist_small.x[:32], mnist_small.y[:32]
    for t in range(3):  # three G updates by hand, as the trainer does them
        model.zero_grad()
        g_phase.step(x, y)["loss"].backward()
        trainer.optimizers["generator"].step()
        g_phase.after_step()
        decay = min(0.9, (1 + t) / (10 + t))
        before = [decay * b + (1 - decay) * p for b, p in zip(before, model.generator.parameters())]
        for b, p in zip(before, model.generator_ema.parameters()):
            torch.testing.assert_close(p, b)
    assert int(model.ema_updates) == 3
    model.eval()
    z = model.sample_prior(8, generator=torch.Generator().manual_seed(1))
    assert torch.equal(model.decode(z), model.generate(z, averaged=True))
    assert not torch.allclose(model.generate(z, averaged=True), model.generate(z, averaged=False))
    no_average = build_model(run_config("gan", latent_dim=4, g_hidden=(16,), d_hidden=(16,), ema=0.0))
    assert no_average.generator_ema is None and torch.equal(
        no_average.generate(z), no_average.generate(z, averaged=False)
    )


def test_the_average_does_not_change_what_is_trained(mnist_small):
    """G and D train exactly the same with and without the average: it never plays the game."""
    with_avg = train(
        run_config("gan", latent_dim=4, g_hidden=(16,), d_hidden=(16,), epochs=2, batch_size=32),
        data=mnist_small,
        **QUIET,
    )
    without = train(
        run_config("gan", latent_dim=4, g_hidden=(16,), d_hidden=(16,), epochs=2, batch_size=32, ema=0.0),
        data=mnist_small,
        **QUIET,
    )
    for name in ("generator", "discriminator"):
        assert_same(getattr(with_avg.model, name).state_dict(), getattr(without.model, name).state_dict(), name)
    assert with_avg.history.steps == without.history.steps


def test_recalibrated_batch_norm_statistics_are_the_batches_average():
    net = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.BatchNorm1d(5))
    inputs = [torch.randn(100, 3, generator=torch.Generator().manual_seed(i)) for i in range(4)]
    recalibrate_batch_norm(net, lambda i: inputs[i], 4)
    assert not net.training and net[1].momentum == 0.1
    with torch.no_grad():
        h = [net[0](x) for x in inputs]
    torch.testing.assert_close(net[1].running_mean, torch.stack([a.mean(0) for a in h]).mean(0))
    torch.testing.assert_close(net[1].running_var, torch.stack([a.var(0) for a in h]).mean(0))


# ============================================================================ G starts at the mean digit
def test_untrained_generator_draws_the_data_mean_image(mnist_small):
    seed_everything(0)
    model = build_model(run_config("gan"))
    model.setup(mnist_small)
    mean = mnist_small.x.mean(0).clamp(1e-3, 1 - 1e-3)
    torch.testing.assert_close(torch.sigmoid(model.output_offset).view_as(mean), mean)
    with torch.no_grad():
        model.generator.apply(lambda m: torch.nn.init.zeros_(m.weight) if isinstance(m, torch.nn.Linear) else None)
        model.generator.apply(lambda m: torch.nn.init.zeros_(m.bias) if isinstance(m, torch.nn.Linear) else None)
    model.eval()
    out = model.generate(model.sample_prior(4), averaged=False)
    torch.testing.assert_close(out, mean.expand(4, 1, 28, 28))
    off = build_model(run_config("gan", data_init=False))
    off.setup(mnist_small)
    assert torch.count_nonzero(off.output_offset) == 0


def test_d_lr_factor_sets_only_the_discriminators_learning_rate():
    """GANSchedule(d_lr_factor=10): D's Adam runs at ten times lr, G's at lr; 1 (the default) is one rate."""
    cfg = run_config(GANConfig(), lr=1e-3, d_lr_factor=10.0)
    opts = build_model(cfg).configure_optimizers(cfg.schedule)
    assert opts["discriminator"].param_groups[0]["lr"] == pytest.approx(1e-2)
    assert opts["generator"].param_groups[0]["lr"] == 1e-3
    same = build_model(cfg).configure_optimizers(run_config(GANConfig(), lr=1e-3).schedule)
    assert same["discriminator"].param_groups[0]["lr"] == same["generator"].param_groups[0]["lr"] == 1e-3
    with pytest.raises(ValueError, match="d_lr_factor"):
        run_config(GANConfig(), d_lr_factor=0.0)
