"""Settings validation (model configs, schedules, the system) and JSON serialisation."""

from __future__ import annotations

import json
import math

import pytest

from thesis_lib.config import (
    CONFIGS,
    AAEConfig,
    AEConfig,
    AESchedule,
    GANConfig,
    GANSchedule,
    RunConfig,
    System,
    VAEConfig,
    VAESchedule,
    config_from_dict,
    load_config,
    run_config,
)

BAD_VALUES = [
    # (config class, field, bad value, text the message must show for the value)
    (VAEConfig, "latent_dim", 0, "0"),
    (AEConfig, "latent_dim", -3, "-3"),
    (VAEConfig, "latent_dim", True, "True"),
    (GANConfig, "k", 0, "0"),
    (VAESchedule, "lr", 0, "0"),
    (VAESchedule, "lr", -1, "-1"),
    (VAESchedule, "lr", math.nan, "nan"),
    (GANSchedule, "lr", math.inf, "inf"),
    (AESchedule, "optimizer", "rmsprop", "'rmsprop'"),
    (VAEConfig, "estimator", "C", "'C'"),
    (AAEConfig, "prior", "laplace", "'laplace'"),
    (AAEConfig, "encoder", "x", "'x'"),
    (GANSchedule, "batch_size", 0, "0"),
    (VAEConfig, "dataset", "cifar", "'cifar'"),
    (AEConfig, "hidden_dims", (0,), "0"),
    (VAEConfig, "hidden_dims", (), "[]"),
    (GANConfig, "g_hidden", (64, -1), "-1"),
    (GANConfig, "generator_loss", "wasserstein", "'wasserstein'"),
    (GANConfig, "dropout", 1.0, "1.0"),
    (VAEConfig, "objective", "total", "'total'"),
    (VAEConfig, "n_samples", 0, "0"),
    (VAEConfig, "kl_weight", 0.0, "0.0"),
    (VAEConfig, "kl_weight", -1.0, "-1.0"),
    (AEConfig, "corruption", "blur", "'blur'"),
    (AESchedule, "epochs", 0, "0"),
    (AESchedule, "momentum", 1.0, "1.0"),
    (System, "device", "tpu", "'tpu'"),
    (AESchedule, "seed", -1, "-1"),
]


@pytest.mark.parametrize(
    "cls, name, value, shown", BAD_VALUES, ids=[f"{c.__name__}-{n}={v!r}" for c, n, v, _ in BAD_VALUES]
)
def test_bad_value_raises_value_error_naming_field_and_value(cls, name, value, shown):
    with pytest.raises(ValueError) as info:
        cls(**{name: value})
    message = str(info.value)
    assert message.startswith(name), message
    assert shown in message, message
    assert "\n" not in message


def test_aae_two_dimensional_priors_need_latent_dim_2():
    for prior in ("mixture", "swiss-roll"):
        with pytest.raises(ValueError, match=rf"prior '{prior}'.*latent_dim must be 2, got 8"):
            AAEConfig(prior=prior, latent_dim=8)
        assert AAEConfig(prior=prior, latent_dim=2).prior == prior
    assert AAEConfig(prior="gaussian", latent_dim=8).latent_dim == 8


def test_conv_autoencoder_needs_images():
    with pytest.raises(ValueError, match="arch 'conv'.*'toy-1d'"):
        AEConfig(arch="conv", dataset="toy-1d")


def test_replace_validates_again():
    cfg = VAESchedule()
    assert cfg.replace(lr=0.5).lr == 0.5
    assert cfg.lr == VAESchedule().lr  # the original is untouched
    with pytest.raises(ValueError, match="lr"):
        cfg.replace(lr=0)


def test_lists_become_tuples():
    cfg, schedule = GANConfig(g_hidden=[8, 4]), GANSchedule(adam_betas=[0.1, 0.2])
    assert cfg.g_hidden == (8, 4) and schedule.adam_betas == (0.1, 0.2)
    assert cfg == GANConfig(g_hidden=(8, 4)) and schedule == GANSchedule(adam_betas=(0.1, 0.2))


ROUND_TRIP = [
    run_config(
        "ae",
        dataset="fashion-mnist",
        hidden_dims=(),
        latent_dim=3,
        corruption="mask",
        mask_size=7,
        lr=3e-4,
        adam_betas=(0.8, 0.99),
    ),
    run_config(
        "gan",
        dataset="toy-1d",
        k=3,
        g_hidden=(16,),
        d_hidden=(32, 8),
        generator_loss="minimax",
        conditional=True,
        seed=7,
        dropout=0.0,
    ),
    run_config(
        "vae",
        estimator="A",
        n_samples=5,
        objective="dataset",
        decoder="gaussian",
        optimizer="adagrad",
        lr=0.01,
        binarize=True,
    ),
    run_config(
        "aae",
        prior="swiss-roll",
        encoder="universal",
        noise_dim=3,
        label_prior=True,
        reg_lr=1.5e-4,
        optimizer="sgd",
        momentum=0.9,
    ),
    AEConfig(dataset="fashion-mnist", hidden_dims=(), latent_dim=3, corruption="mask", mask_size=7),
    AAEConfig(prior="swiss-roll", encoder="universal", noise_dim=3, label_prior=True),
]


@pytest.mark.parametrize("cfg", ROUND_TRIP, ids=[f"{type(c).__name__}-{c.model}" for c in ROUND_TRIP])
def test_json_round_trip(cfg, tmp_path):
    path = tmp_path / "config.json"
    cfg.to_json(path)
    saved = json.loads(path.read_text())
    assert saved["model"] == cfg.model
    loaded = load_config(path)
    assert type(loaded) is type(cfg)
    assert loaded == cfg
    assert loaded.to_dict() == cfg.to_dict()
    assert config_from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("cls", [AEConfig, GANConfig, VAEConfig, AAEConfig])
def test_default_configs_round_trip(cls, tmp_path):
    cls().to_json(tmp_path / "c.json")
    assert load_config(tmp_path / "c.json") == cls()


def test_config_from_dict_rejects_unknown_field():
    d = VAEConfig().to_dict()
    d["latnet_dim"] = 4
    with pytest.raises(ValueError, match="unknown vae config field 'latnet_dim'"):
        config_from_dict(d)


def test_config_from_dict_rejects_fields_of_another_model():
    d = VAEConfig().to_dict()
    d["k"] = 2  # a GAN field
    with pytest.raises(ValueError, match="'k'"):
        config_from_dict(d)


@pytest.mark.parametrize("model", ["diffusion", None])
def test_config_from_dict_rejects_unknown_model(model):
    d = VAEConfig().to_dict()
    if model is None:
        del d["model"]
    else:
        d["model"] = model
    with pytest.raises(ValueError, match=r"^model must be one of 'ae', 'gan', 'vae', 'aae'"):
        config_from_dict(d)


def test_config_from_dict_validates_values():
    d = GANConfig().to_dict()
    d["k"] = 0
    with pytest.raises(ValueError, match="k must be an integer >= 1, got 0"):
        config_from_dict(d)


def test_load_config_rejects_bad_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_config(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON object"):
        load_config(bad)


# ============================================================================ split by owner
@pytest.mark.parametrize("cls", [AEConfig, GANConfig, VAEConfig, AAEConfig])
def test_default_run_configs_round_trip_with_the_chapter_schedule(cls, tmp_path):
    run = RunConfig(cls())
    assert type(run.schedule) is cls.schedule_class and run.schedule == cls.schedule_class()
    run.to_json(tmp_path / "c.json")
    assert load_config(tmp_path / "c.json") == run


def test_every_setting_has_exactly_one_owner():
    for cls in CONFIGS.values():
        model, schedule, system = (
            set(cls.field_names()),
            set(cls.schedule_class.field_names()),
            set(System.field_names()),
        )
        assert not (model & schedule) and not (model & system) and not (schedule & system), cls


def test_run_config_routes_settings_to_their_owner():
    run = run_config("vae", latent_dim=2, epochs=6, lr=0.01)
    assert run == RunConfig(VAEConfig(latent_dim=2), VAESchedule(epochs=6, lr=0.01))
    assert run_config(VAEConfig(latent_dim=2), epochs=6, lr=0.01) == run
    assert run.replace(epochs=7).schedule.epochs == 7 and run.schedule.epochs == 6
    with pytest.raises(
        ValueError, match=r"^unknown vae setting 'epoch'; model settings: .*latent_dim.*; schedule: .*epochs"
    ):
        run_config("vae", epoch=3)
    with pytest.raises(ValueError, match=r"unknown vae setting 'device'"):  # the system is not part of a run
        run_config("vae", device="cpu")
    with pytest.raises(ValueError, match="a vae run needs a VAESchedule as its schedule, got GANSchedule"):
        RunConfig(VAEConfig(), GANSchedule())


def test_run_config_json_names_each_owner(tmp_path):
    run = run_config("aae", latent_dim=8, reg_lr=1e-4)
    run.to_json(tmp_path / "config.json")
    saved = json.loads((tmp_path / "config.json").read_text())
    assert (
        saved == {**AAEConfig(latent_dim=8).to_dict(), "schedule": run.schedule.to_dict()} and saved["model"] == "aae"
    )
    assert saved["latent_dim"] == 8 and saved["schedule"]["reg_lr"] == 1e-4 and "device" not in json.dumps(saved)
    with pytest.raises(ValueError, match="unknown aae config field 'epochs'"):
        config_from_dict({"model": "aae", "epochs": 3, "schedule": {}})
    with pytest.raises(ValueError, match="unknown schedule field 'latent_dim'"):
        config_from_dict({"model": "aae", "schedule": {"latent_dim": 3}})


def test_a_flat_config_is_refused_with_the_field_it_does_not_know():
    """Model and schedule fields side by side (no ``schedule`` entry) are a model config with unknown fields."""
    flat = {"model": "vae", "dataset": "mnist", "latent_dim": 50, "epochs": 60}
    with pytest.raises(ValueError, match="unknown vae config field 'epochs'"):
        config_from_dict(flat)


def test_choices_are_literal_types_listed_once():
    from thesis_lib.config import choices, field_types
    from thesis_lib.data import DATASETS

    assert choices(field_types(AESchedule)["optimizer"]) == ("sgd", "adagrad", "adam")
    assert choices(field_types(VAEConfig)["dataset"]) == DATASETS
    assert choices(field_types(System)["device"]) == ("auto", "cpu", "cuda", "mps")
