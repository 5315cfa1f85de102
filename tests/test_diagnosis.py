"""Failure signatures (thesis_lib/diagnosis.py): each fires on evidence that has it and stays silent on a healthy
run's; measure() (thesis_lib/evidence.py) reads the right evidence off tiny real models; the CLI's exit codes and
one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from helpers import QUIET, assert_one_line_error, gen, run_cli, tiny_gan, tiny_vae

import thesis_lib as tl
from thesis_lib import cli, diagnosis, evidence, papers, toy
from thesis_lib.diagnosis import SIGNATURES, effective_modes, findings, measure, measure_run
from thesis_lib.history import History

NAMES = (
    "mode-collapse",
    "saturating-generator",
    "discriminator-wins",
    "posterior-collapse",
    "pixel-mean-loss",
    "weak-regularisation",
    "strong-regularisation",
)

# Evidence of healthy runs, with the numbers such runs give (the AAE's: the chapter's AAE after 4 epochs).
UNIFORM = [200] * 10
HEALTHY = {
    "gan": dict(
        early_fake_score=0.31, early_steps=200, generator_loss="nonsaturating", real_score=0.55, fake_score=0.47,
        mode_histogram=[180, 230, 190, 200, 160, 170, 210, 260, 190, 210], modes_of="classes by the judge",
    ),
    "gan-minimax": dict(early_fake_score=0.28, early_steps=200, generator_loss="minimax", real_score=0.56,
                        fake_score=0.46),
    "ring-gan": dict(mode_histogram=UNIFORM, modes_of="components", real_score=0.52, fake_score=0.47),
    "vae": dict(kl=25.3, kl_weight=1.0, active_units=19, latent_dim=32, recon=75.0, mode_histogram=UNIFORM,
                modes_of="classes by the judge", prior_distance=0.05, holes=0.3, off_prior=0.02),
    "aae": dict(prior_gap=0.049, recon=143.5, active_units=2, latent_dim=2, prior_distance=0.010, holes=0.033,
                off_prior=0.008, mode_histogram=[214, 291, 187, 171, 134, 97, 207, 317, 244, 138],
                modes_of="classes by the judge"),
    "aae-8d": dict(prior_gap=0.020, recon=104.8, active_units=8, latent_dim=8, prior_distance=0.0088, holes=0.027,
                   off_prior=0.004, mode_histogram=UNIFORM, modes_of="classes"),
    "aae-mixture": dict(prior_gap=0.2, recon=163.3, active_units=2, latent_dim=2, prior_distance=0.0044, holes=0.14,
                        off_prior=0.44, mode_histogram=UNIFORM, modes_of="classes by the judge"),
    "ae-2d": dict(recon=138.0, active_units=2, latent_dim=2, prior_distance=0.2, holes=0.5, off_prior=0.3,  # no D
                  mode_histogram=[2703, 1928, 130, 43, 509, 467, 200, 2204, 689, 1127], modes_of="classes"),
}  # fmt: skip

# One failing run's evidence per signature: a healthy run's with the failure's numbers.
FAILING = {
    "mode-collapse": {**HEALTHY["gan"], "mode_histogram": [0, 1500, 0, 0, 0, 0, 0, 500, 0, 0]},
    "saturating-generator": {**HEALTHY["gan-minimax"], "early_fake_score": 0.003},
    "discriminator-wins": {**HEALTHY["gan"], "real_score": 0.66, "fake_score": 0.34},
    "posterior-collapse": {**HEALTHY["vae"], "kl": 4.0, "active_units": 3},
    "pixel-mean-loss": {**HEALTHY["vae"], "kl": 0.01, "kl_weight": 784.0, "active_units": 0},
    "weak-regularisation": {**HEALTHY["aae"], "prior_gap": 0.11, "prior_distance": 0.031, "off_prior": 0.07},
    "strong-regularisation": {**HEALTHY["aae"], "prior_gap": 0.0007},
}


def names(evidence: dict) -> list[str]:
    return [f.name for f in findings(evidence)]


# ----------------------------------------------------------------------------- the signatures
def test_the_signatures_are_the_pages_anchors():
    assert tuple(s.name for s in SIGNATURES) == NAMES
    assert set(FAILING) == set(NAMES)


@pytest.mark.parametrize("run", HEALTHY)
def test_a_healthy_run_has_no_failure_signature(run):
    assert names(HEALTHY[run]) == []
    assert json.loads(json.dumps(HEALTHY[run])) == HEALTHY[run]  # what a stored row holds


@pytest.mark.parametrize("name", NAMES)
def test_each_signature_fires_on_its_failure_alone(name):
    found = findings(FAILING[name])
    assert [f.name for f in found] == [name]
    f = found[0]
    assert f.page == f"failures.html#{name}"
    assert "\n" not in f.explanation and f.title
    assert all(FAILING[name][k] == v for k, v in f.evidence.items()) and f.evidence


@pytest.mark.parametrize(
    "name, number",
    [
        ("mode-collapse", "1.8 of 10"),
        ("saturating-generator", "0.003"),
        ("discriminator-wins", "0.32"),
        ("posterior-collapse", "3 of 32"),
        ("pixel-mean-loss", "784"),
        ("weak-regularisation", "0.031"),
        ("strong-regularisation", "0.001"),
    ],
)
def test_the_explanation_names_the_measured_number(name, number):
    assert number in findings(FAILING[name])[0].explanation


def test_a_signature_needs_its_evidence():
    assert findings({}) == []
    assert names({"early_fake_score": 0.001, "early_steps": 200}) == []  # no generator loss: cannot say
    assert names({"real_score": 0.99}) == []


def test_a_consequence_is_left_to_its_cause():
    """A saturated minimax generator leaves D winning and draws blobs of one kind, a pixel mean collapses the
    posterior, and a collapsed posterior draws one average digit: the cause alone is reported, since its cure comes
    first."""
    saturated = {**FAILING["saturating-generator"], "real_score": 0.95, "fake_score": 0.02}
    assert names(saturated) == ["saturating-generator"]
    assert names({**saturated, "mode_histogram": [0, 0, 0, 33, 0, 0, 0, 0, 1967, 0], "modes_of": "classes"}) == [
        "saturating-generator"
    ]  # the 2014 setting's saturated G (SGD): blobs the judge calls 8
    assert names({**saturated, "generator_loss": "nonsaturating"}) == ["discriminator-wins"]
    assert names({**FAILING["pixel-mean-loss"], "kl_weight": 1.0}) == ["posterior-collapse"]
    one_digit = {"mode_histogram": [0, 0, 0, 0, 0, 0, 0, 0, 2000, 0], "modes_of": "classes by the judge"}
    assert names({**FAILING["pixel-mean-loss"], **one_digit}) == ["pixel-mean-loss"]  # the VAE on the pixel mean
    assert names({**FAILING["posterior-collapse"], **one_digit}) == ["posterior-collapse"]
    assert names({**HEALTHY["vae"], **one_digit}) == ["mode-collapse"]  # a VAE whose codes carry information
    assert names({**FAILING["strong-regularisation"], "prior_distance": 0.05}) == ["strong-regularisation"]


def test_effective_modes_counts_equally_common_classes():
    assert effective_modes(UNIFORM) == pytest.approx(10)
    assert effective_modes([0, 7, 0, 7]) == pytest.approx(2)
    assert effective_modes([5, 0, 0]) == pytest.approx(1)
    assert effective_modes([0, 0]) == 0.0


# ----------------------------------------------------------------------------- the evidence
def _history(steps: dict, epochs: dict) -> History:
    return History(steps, epochs, [1.0] * max((len(v) for v in epochs.values()), default=0))


def test_the_history_evidence_of_a_gan():
    d_fake = [0.01] * 150 + [0.5] * 150
    history = _history({"D(G(z))": d_fake}, {"D(x)": [0.7, 0.9], "D(G(z))": [0.3, 0.1]})
    e = measure(None, history, tl.run_config(tl.GANConfig(generator_loss="minimax")))
    assert e["early_steps"] == 200 and e["early_fake_score"] == pytest.approx((150 * 0.01 + 50 * 0.5) / 200)
    assert (e["generator_loss"], e["real_score"], e["fake_score"]) == ("minimax", 0.9, 0.1)
    assert "kl" not in e and "prior_gap" not in e
    assert measure(None, history.to_dict(), tl.run_config(tl.GANConfig(generator_loss="minimax"))) == e


@pytest.mark.parametrize("scale, kl_weight", [(32.0, 1.0), (1.0, 1.0), (32 / 784, 784.0)])
def test_kl_weight_reads_what_the_objective_weighed(scale, kl_weight):
    g = gen(0)
    recon, kl = (100 + 50 * torch.rand(60, generator=g)).tolist(), (5 + 20 * torch.rand(60, generator=g)).tolist()
    objective = [scale * (r + kl_weight * k) for r, k in zip(recon, kl)]
    objective[19::20] = [o * 0.3 for o in objective[19::20]]  # each epoch's last minibatch is short: a smaller sum
    steps = {"-elbo": [r + k for r, k in zip(recon, kl)], "-elbo objective": objective, "recon": recon, "kl": kl}
    e = measure(None, _history(steps, {"kl": [kl[-1]], "recon": [recon[-1]]}), tl.run_config(tl.VAEConfig()))
    assert e["kl_weight"] == pytest.approx(kl_weight, rel=1e-6)
    del steps["-elbo objective"]  # the bound itself was descended
    assert measure(None, _history(steps, {"kl": [1.0]}), tl.run_config(tl.VAEConfig()))["kl_weight"] == 1.0


def test_the_history_evidence_of_an_aae():
    epochs = {"recon": [170.0, 150.0, 155.0], "D(z~p)": [0.6, 0.52], "D(z~q)": [0.4, 0.47]}
    e = measure(None, _history({}, epochs), tl.run_config(tl.AAEConfig()))
    assert e == {"prior_gap": pytest.approx(0.05), "recon": 155.0}


def _constant_generator(model, x: torch.Tensor):
    """Make the GAN's generator (and its moving average) output ``x`` whatever z is."""
    for net in (model.generator, model.generator_ema):
        if net is not None:
            last = [m for m in net.modules() if isinstance(m, torch.nn.Linear)][-1]
            last.weight.data.zero_()
            last.bias.data.copy_(x.flatten() - model.output_offset)
    return model


def test_ring_samples_on_one_component_are_mode_collapse():
    model = tl.build_model(tl.GANConfig(dataset="mixture-2d", latent_dim=2, g_hidden=(8,), d_hidden=(8,)))
    _constant_generator(model, toy.mixture_2d_means()[3])
    e = measure(model, History(), tl.run_config(model.config))
    assert e["mode_histogram"] == [0, 0, 0, evidence.SAMPLES, 0, 0, 0, 0, 0, 0]
    assert names(e) == ["mode-collapse"]


def test_the_ring_histogram_of_the_ring_itself_is_even():
    histogram = evidence._ring_histogram(toy.gaussian_mixture_2d(2000, generator=gen(0))[0])
    assert sum(histogram) > 0.99 * 2000 and min(histogram) > 150
    assert effective_modes(histogram) > 9.9


@pytest.mark.slow  # the judge CNN
def test_a_generator_of_one_image_is_mode_collapse_by_the_judge(require_mnist):
    test = tl.load_dataset("mnist", "test")
    model = tl.build_model(tl.GANConfig(latent_dim=4, g_hidden=(8,), d_hidden=(8,))).eval()
    _constant_generator(model, torch.logit(test.x[2].clamp(1e-3, 1 - 1e-3)))  # the test set's third image: a 1
    e = measure(model, History(), tl.run_config(model.config))
    assert e["modes_of"] == "classes by the judge" and e["mode_histogram"][int(test.y[2])] == evidence.SAMPLES
    assert names(e) == ["mode-collapse"]


def _vae_encoder_scaled(scale: float):
    model = tl.build_model(tl.VAEConfig(latent_dim=4, hidden_dims=(16,))).eval()
    first = next(m for m in model.encoder.modules() if isinstance(m, torch.nn.Linear))
    first.weight.data.mul_(scale)
    return model


def test_a_vae_whose_encoder_ignores_x_has_no_active_unit(require_mnist, monkeypatch):
    monkeypatch.setattr(evidence, "CODES", 500)  # the codes against the prior are not what this test is about
    e = measure(_vae_encoder_scaled(0.0), _history({}, {"kl": [0.0]}), tl.run_config(tl.VAEConfig(latent_dim=4)))
    assert (e["active_units"], e["latent_dim"]) == (0, 4)
    assert "posterior-collapse" in names(e)
    e = measure(_vae_encoder_scaled(50.0), History(), tl.run_config(tl.VAEConfig(latent_dim=4)), samples=True)
    assert e["active_units"] == 4


def test_codes_against_the_prior(require_mnist):
    """Codes drawn from the prior itself leave about 1% uncovered each way; codes squeezed into the prior's centre
    leave holes; codes moved away sit off the prior."""
    model = tl.build_model(tl.AAEConfig(hidden_dims=(8,), d_hidden=(8,)))
    prior = model.sample_prior(5000, generator=gen(1)).double()
    codes = model.sample_prior(5000, generator=gen(2)).double()
    same = evidence._cover(codes, prior, model, gen(3))
    assert same["holes"] < 0.03 and same["off_prior"] < 0.03 and same["radius"] > 0
    assert same["prior_distance"] < 0.1 * diagnosis.PRIOR_DISTANCE
    squeezed = evidence._cover(codes * 0.2, prior, model, gen(3))
    assert squeezed["holes"] > 0.5 and squeezed["off_prior"] < 0.03
    moved = evidence._cover(codes + 40.0, prior, model, gen(3))
    assert moved["off_prior"] > 0.5
    for far in (squeezed, moved):
        assert far["prior_distance"] > 5 * diagnosis.PRIOR_DISTANCE


# ----------------------------------------------------------------------------- a run
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A tiny VAE trained for 2 epochs on 256 MNIST images, saved in a folder; and its trainer."""
    from conftest import image_data_available

    if not image_data_available("MNIST"):
        pytest.skip("MNIST is not available")
    out = tmp_path_factory.mktemp("runs") / "vae"
    data = tl.load_dataset("mnist", "train").subset(256)
    return out, tl.train(tiny_vae(), out, data=data, **QUIET)


def test_a_run_folder_and_its_trainer_give_the_same_evidence(tiny_run, monkeypatch):
    monkeypatch.setattr(evidence, "CODES", 500)
    out, run = tiny_run
    e = measure_run(out)
    assert e == measure_run(run)
    assert {"kl", "kl_weight", "recon", "active_units", "latent_dim", "prior_distance", "holes", "off_prior"} <= set(e)
    assert e["kl_weight"] == pytest.approx(1.0, rel=1e-3) and e["latent_dim"] == 3  # logged in float32
    assert json.loads(json.dumps(e)) == e
    assert set(measure_run(out, samples=False)) == {"kl", "kl_weight", "recon"}
    assert [f.name for f in tl.diagnose(out, samples=False)] == names(measure_run(out, samples=False))


@pytest.mark.parametrize(
    "settings, kl_weight",
    [
        ({"objective": "pixel-mean"}, 784.0),
        ({"objective": "sum"}, 1.0),
        ({"objective": "dataset"}, 1.0),
        ({"objective": "sum", "kl_weight": 8.0}, 8.0),
        ({"objective": "dataset", "kl_weight": 3.0}, 3.0),
        ({"objective": "mean", "kl_weight": 4.0}, 4.0),
    ],
)
def test_a_vae_trained_on_the_pixel_mean_is_found_out(settings, kl_weight, mnist_small):
    """The KL weight is read off the logged objective (pixel mean: D = 784; a β-VAE: β), whatever the scaling."""
    run = tl.train(tiny_vae(**settings), data=mnist_small, **QUIET)
    e = measure_run(run, samples=False)
    assert e["kl_weight"] == pytest.approx(kl_weight, rel=1e-3)  # objective, recon and kl are logged in float32
    assert ("pixel-mean-loss" in names(e)) == (settings["objective"] == "pixel-mean")


# ----------------------------------------------------------------------------- the gallery of failures
@pytest.mark.parametrize("name", papers.FAILURES)
def test_every_stored_failure_is_flagged_with_its_name_and_every_cure_with_none_of_it(name):
    """The gallery's stored rows (thesis-lib reproduce NAME): each failing run shows exactly the signatures the
    registry expects of it, each cure none of its experiment's failures; the findings stored beside the evidence are
    what findings() says of it now (a changed threshold makes the stored page stale)."""
    exp, result = papers.EXPERIMENTS[name], papers.load_result(name)
    failures = {s for expected in exp.expect.values() for s in expected} - set(exp.expect.get("cured", ()))
    assert failures, f"{name} has no failing run"
    for row in result["runs"]:
        found = names(row["evidence"])
        assert found == list(exp.expect[row["label"]]), (row["label"], found, row["evidence"])
        assert row["findings"] == found, f"results/papers/{name}.json is stale: run 'thesis-lib reproduce {name}'"
        if exp.fails(row["label"]):  # a failing run: its replay's snapshots
            assert (papers.stored_results_dir() / row["snapshots"]).is_file()
        else:
            assert not failures & set(found)
    assert {s for expected in exp.expect.values() for s in expected} <= set(NAMES)


def test_mode_hops_counts_the_dominant_modes_changes():
    """Snapshots with too few samples near a mode are left out; the dominant mode's changes and visits are counted
    over the rest."""
    histograms = [[0, 0, 0], [9, 1, 0], [0, 0, 1], [0, 8, 2], [5, 0, 5], [0, 10, 0]]  # 10 samples each
    assert evidence.mode_hops(histograms, samples=10, occupied_share=0.2) == {
        "snapshots": 6,
        "occupied": 4,
        "most_modes": 2,
        "changes": 3,
        "visited": 2,
    }  # dominant: 0, 1, 0 (a tie goes to the first), 1


def test_the_gallery_covers_every_signature():
    """Each signature the CLI can print has a failing run on the page it points to."""
    failing = papers.failing_runs()
    assert {s for _, _, expected in failing for s in expected} == set(NAMES)
    assert all(label != "cured" for _, label, _ in failing)


def _write_run(folder: Path, history: dict, config=None) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps((config or tl.run_config(tl.GANConfig())).to_dict()))
    (folder / "history.json").write_text(json.dumps(history))
    return folder


def _gan_history(early: float) -> dict:
    return {
        "steps": {"D(G(z))": [early] * 300, "D(x)": [0.5] * 300},
        "epochs": {"D(x)": [0.55], "D(G(z))": [0.45]},
        "train_seconds": [1.0],
    }


def test_the_cli_names_each_finding_and_exits_1(tmp_path: Path, capsys):
    minimax = tl.run_config(tl.GANConfig(generator_loss="minimax", data_init=False))
    failing = _write_run(tmp_path / "failing", _gan_history(0.002), minimax)
    assert cli.main(["diagnose", str(failing), "--no-samples"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("saturating-generator: D(G(z)) averaged 0.002 over the first 200 steps")
    assert "see: failures.html#saturating-generator" in out


def test_the_cli_says_so_for_a_healthy_run(tmp_path: Path, capsys):
    healthy = _write_run(tmp_path / "healthy", _gan_history(0.3))
    assert cli.main(["diagnose", str(healthy), "--no-samples"]) == 0
    assert capsys.readouterr().out == f"no known failure signature found in {healthy}\n"


@pytest.mark.parametrize(
    "make, needles",
    [
        (lambda p: p / "nowhere", ("no run folder", "nowhere")),
        (lambda p: (p / "file.txt").write_text("x") and p / "file.txt", ("file.txt", "is a file")),
        (lambda p: p, ("holds no run", "config.json")),
        (lambda p: _write_run(p / "r", {}).joinpath("history.json").write_text("{not json") and p / "r",
         ("history.json", "not a readable training history")),
        (lambda p: _write_run(p / "r", {"steps": [], "epochs": {}, "train_seconds": []}) and p / "r",
         ("history.json", "not a readable training history")),
        (lambda p: _write_run(p / "r", {"steps": {"D(x)": ["high"]}, "epochs": {}, "train_seconds": []}) and p / "r",
         ("history.json", "not a readable training history")),
        (lambda p: _write_run(p / "r", _gan_history(0.3)) and p / "r",
         ("no checkpoint", "checkpoint.pt", "--no-samples")),
    ],
    ids=["missing", "a-file", "no-run", "bad-json", "bad-steps", "not-numbers", "no-checkpoint"],
)  # fmt: skip
def test_bad_input_gives_one_line(make, needles, tmp_path: Path, capsys):
    assert cli.main(["diagnose", str(make(tmp_path))]) == 2
    assert_one_line_error(capsys.readouterr().err, *needles)


@pytest.mark.slow  # a subprocess, and the judge on a trained GAN
def test_the_command_on_a_trained_run(tmp_path: Path, require_mnist):
    run = tl.train(tiny_gan(), tmp_path / "gan", data=tl.load_dataset("mnist", "train").subset(256), **QUIET)
    expected = names(measure_run(run))
    r = run_cli("diagnose", str(tmp_path / "gan"))
    assert r.returncode == (1 if expected else 0), r.stderr
    assert [line.split(":")[0] for line in r.stdout.splitlines() if not line.startswith(" ")] == (
        expected or [f"no known failure signature found in {tmp_path / 'gan'}"]
    )
    assert "Traceback" not in r.stderr
