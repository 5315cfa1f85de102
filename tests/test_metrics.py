"""Metrics: the Parzen protocol, the diagnostics of samples, the classifier-based scores and the evaluation report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from helpers import assert_one_line_error, gen, run_cli

from thesis_lib import metrics, train
from thesis_lib.config import GANConfig, run_config
from thesis_lib.metrics import parzen


# ============================================================================ Parzen window
def test_parzen_with_one_sample_is_the_gaussian_density():
    s, x = torch.randn(1, 5, generator=gen(0)), torch.randn(7, 5, generator=gen(1))
    expected = torch.distributions.Normal(s.double(), 0.3).log_prob(x.double()).sum(1)
    torch.testing.assert_close(metrics.parzen_log_likelihood(s, x, 0.3), expected)


def test_parzen_is_the_log_mean_of_the_kernels_even_where_exp_underflows():
    s = torch.tensor([[0.0], [100.0]])
    x = torch.tensor([[101.0]])
    # exp(-101² / 2σ²) underflows to 0; the max-subtracted log-mean-exp keeps the nearest kernel.
    got = metrics.parzen_log_likelihood(s, x, 0.1, batch_size=1)
    expected = torch.distributions.Normal(torch.tensor(100.0, dtype=torch.float64), 0.1).log_prob(
        torch.tensor(101.0, dtype=torch.float64)
    ) - math.log(2)
    torch.testing.assert_close(got, expected.view(1))
    assert torch.isfinite(got).all()


def test_parzen_is_the_float64_log_mean_exp_of_every_kernel():
    """The float32 exponentials (from the nearest sample's term down to e^-80) give the float64 log-mean-exp of
    every kernel to 1e-6 nats, for the paper's σ from the smallest to the largest, on image-like data with near and
    far samples."""
    s, x = torch.rand(400, 784, generator=gen(0)), torch.rand(60, 784, generator=gen(1))
    s[:200] = s[:200].round()  # far from x: their terms fall below e^-80 for the small σ
    dist = torch.cdist(x.double(), s.double()) ** 2
    for sigma in (parzen.SIGMAS[0], parzen.SIGMAS[4], parzen.SIGMAS[-1]):
        expected = (
            torch.logsumexp(-dist / (2 * sigma**2), dim=1) - math.log(len(s)) - 392 * math.log(2 * math.pi * sigma**2)
        )
        torch.testing.assert_close(metrics.parzen_log_likelihood(s, x, sigma), expected, rtol=0, atol=1e-6)


def test_parzen_batches_agree():
    s, x = torch.rand(300, 20, generator=gen(0)), torch.rand(50, 20, generator=gen(1))
    torch.testing.assert_close(
        metrics.parzen_log_likelihood(s, x, 0.2, batch_size=7),
        metrics.parzen_log_likelihood(s, x, 0.2, batch_size=1000),
    )


def test_parzen_protocol_recovers_a_known_density():
    """With many samples and σ picked on validation data, the KDE's test LL approaches the truth."""
    # 1-D, so a few thousand samples suffice: the window's bias is about σ²/2 ≈ 0.05 nats at most here
    samples, val, test = (torch.randn(n, 1, generator=gen(i)) for i, n in enumerate((4000, 500, 2000)))
    r = metrics.parzen_evaluation(samples, val, test, sigmas=torch.logspace(-2, 0, 9).tolist())
    true_ll = -0.5 * math.log(2 * math.pi * math.e)  # E log N(x; 0, 1) under N(0, 1)
    assert abs(r["parzen_ll"] - true_ll) < 3 * r["parzen_se"] + 0.02, r
    assert 0.05 < r["parzen_sigma"] < 0.5  # neither the smallest nor the largest candidate
    assert r["n_samples"] == 4000 and r["n_val"] == 500 and r["n_test"] == 2000


def test_parzen_sigma_grid_is_the_papers():
    assert (
        parzen.SIGMAS[0] == pytest.approx(0.1) and parzen.SIGMAS[-1] == pytest.approx(1.0) and len(parzen.SIGMAS) == 10
    )
    assert parzen.SIGMAS[1] == pytest.approx(10 ** (-8 / 9))


@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_parzen_rejects_bad_sigma(bad):
    with pytest.raises(ValueError, match="sigma must be a number > 0"):
        metrics.parzen_log_likelihood(torch.zeros(2, 3), torch.zeros(1, 3), bad)


def test_parzen_rejects_mismatched_sizes():
    with pytest.raises(ValueError, match="784 dimensions but the data has 10"):
        metrics.parzen_log_likelihood(torch.zeros(2, 784), torch.zeros(1, 10), 0.1)


# ============================================================================ diagnostics of samples
def test_isolated_pixels_counts_lonely_bright_pixels_not_strokes():
    x = torch.zeros(2, 1, 28, 28)
    x[0, 0, 5, 5] = 1.0  # a stray pixel
    x[0, 0, 10, 8:20] = 1.0  # a stroke
    x[1, 0, 0, 0] = 0.9  # a stray pixel in the corner
    assert metrics.isolated_pixels(x) == pytest.approx(1.0)  # (1 + 1) / 2 images
    filtered = metrics.median_filter(x)
    assert filtered[0, 0, 5, 5] == 0 and filtered[1, 0, 0, 0] == 0
    assert metrics.isolated_pixels(filtered) == 0
    # the median keeps a thick stroke
    y = torch.zeros(1, 1, 28, 28)
    y[0, 0, 10:13, 8:20] = 1.0
    assert torch.equal(metrics.median_filter(y)[0, 0, 11, 9:19], torch.ones(10))


def test_border_brightness_is_the_mean_of_the_edge_frame():
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 0, :] = 1.0  # the top row: 28 of the 28*28 - 22*22 = 300 frame pixels
    assert metrics.border_brightness(x) == pytest.approx(28 / 300)
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 3:25, 3:25] = 1.0  # everything inside the frame
    assert metrics.border_brightness(x) == 0
    with pytest.raises(ValueError, match="width must be an integer in"):
        metrics.border_brightness(x, width=14)


# ============================================================================ classifier scores
def test_frechet_distance_of_gaussians_matches_the_formula():
    """For diagonal covariances d² = |μ1 - μ2|² + Σ (σ1 - σ2)²."""
    n = 200_000
    mu1, sd1 = torch.tensor([0.0, 1.0, -1.0]), torch.tensor([1.0, 2.0, 0.5])
    mu2, sd2 = torch.tensor([1.0, 1.0, 0.0]), torch.tensor([1.0, 1.0, 1.5])
    a = mu1 + sd1 * torch.randn(n, 3, generator=gen(0), dtype=torch.float64)
    b = mu2 + sd2 * torch.randn(n, 3, generator=gen(1), dtype=torch.float64)
    expected = ((mu1 - mu2) ** 2).sum() + ((sd1 - sd2) ** 2).sum()
    assert metrics.frechet_distance(a, b) == pytest.approx(expected.item(), abs=0.03)
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_with_correlated_features():
    """Rotating both sets by the same orthogonal matrix leaves the distance unchanged."""
    a, b = (
        torch.randn(5000, 4, generator=gen(0), dtype=torch.float64),
        2 * torch.randn(5000, 4, generator=gen(1), dtype=torch.float64) + 1,
    )
    q, _ = torch.linalg.qr(torch.randn(4, 4, generator=gen(2), dtype=torch.float64))
    assert metrics.frechet_distance(a @ q, b @ q) == pytest.approx(metrics.frechet_distance(a, b), rel=1e-8)


def test_frechet_distance_agrees_with_scipy_sqrtm():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    import numpy as np

    g = torch.Generator().manual_seed(0)
    f1 = torch.randn(500, 16, generator=g, dtype=torch.float64) @ torch.randn(16, 16, generator=g, dtype=torch.float64)
    f2 = torch.randn(400, 16, generator=g, dtype=torch.float64) * 1.5 + 0.3
    mu1, mu2 = f1.mean(0).numpy(), f2.mean(0).numpy()
    s1, s2 = np.cov(f1.numpy(), rowvar=False), np.cov(f2.numpy(), rowvar=False)
    covmean = scipy_linalg.sqrtm(s1 @ s2).real
    expected = float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))
    assert metrics.frechet_distance(f1, f2) == pytest.approx(expected, rel=1e-6)
    assert metrics.frechet_distance(f1, f1) == pytest.approx(0.0, abs=1e-6)


def test_confident_share_counts_rows_above_the_threshold():
    probs = torch.tensor([[0.95, 0.05], [0.5, 0.5], [0.05, 0.95], [0.89, 0.11]])
    assert metrics.confident_share(probs) == pytest.approx(0.5)
    assert metrics.confident_share(probs, threshold=0.8) == pytest.approx(0.75)
    assert metrics.confident_share(torch.full((10, 10), 0.1)) == 0.0
    with pytest.raises(ValueError, match="threshold must be in \\(0, 1\\), got 1.5"):
        metrics.confident_share(probs, threshold=1.5)


def test_mnist_score_and_label_entropy_bounds():
    confident_all = torch.eye(10).repeat(100, 1)  # every class, each predicted with certainty
    assert metrics.mnist_score(confident_all) == pytest.approx(10.0, rel=1e-6)
    assert metrics.label_entropy(confident_all) == pytest.approx(math.log(10))
    collapsed = torch.eye(10)[torch.zeros(1000, dtype=torch.long)]  # mode collapse onto "0"
    assert metrics.mnist_score(collapsed) == pytest.approx(1.0)
    assert metrics.label_entropy(collapsed) == 0.0
    unsure = torch.full((1000, 10), 0.1)  # blurry samples: no confident class
    assert metrics.mnist_score(unsure) == pytest.approx(1.0)
    two_classes = torch.eye(10)[torch.arange(1000) % 2]
    assert metrics.mnist_score(two_classes) == pytest.approx(2.0, rel=1e-6)
    assert metrics.label_entropy(two_classes) == pytest.approx(math.log(2))


@pytest.fixture(scope="module")
def classifier():
    from conftest import image_data_available

    if not image_data_available("MNIST"):
        pytest.skip("MNIST not found")
    return metrics.load_classifier("mnist", progress=False)


def test_classifier_is_accurate_and_is_the_stored_judge(classifier):
    from thesis_lib.metrics.classifier import stored_judge_state

    assert classifier.test_accuracy >= 0.985
    stored = stored_judge_state()
    for name, p in classifier.state_dict().items():
        assert torch.equal(p, stored["model"][name]), name


def test_the_stored_judge_was_trained_by_the_current_code():
    """The package's judge is used only while its code fingerprint matches (else every cold build
    trains one for a minute): after changing the classifier's code, run scripts/store_judge.py."""
    from thesis_lib.metrics.classifier import ClassifierSettings, stored_judge_path, stored_judge_state

    assert stored_judge_path().exists()
    assert stored_judge_state() is not None, (
        "the stored judge is stale (its code or settings changed): run scripts/store_judge.py"
    )
    assert stored_judge_state(ClassifierSettings(epochs=4)) is None  # other settings: not this judge


def test_a_stale_stored_judge_is_not_used(monkeypatch, tmp_path):
    """When the code that trains the judge changes, the stored weights are ignored and the run
    cache's judge is used (here a fake one, so nothing trains)."""
    from thesis_lib.metrics import classifier as judge

    monkeypatch.setenv("THESIS_LIB_RUNS", str(tmp_path))
    fake = judge.Classifier()
    torch.nn.init.zeros_(fake.head[1].weight)
    path = judge.classifier_dir(judge.ClassifierSettings()) / "classifier.pt"
    path.parent.mkdir(parents=True)
    torch.save({"model": fake.state_dict(), "test_accuracy": 0.99, "settings": {}}, path)
    assert torch.count_nonzero(metrics.load_classifier("mnist", progress=False).head[1].weight) > 0  # the stored judge
    monkeypatch.setattr(judge, "judge_code", lambda: "some other code")
    assert judge.stored_judge_state() is None
    assert torch.count_nonzero(metrics.load_classifier("mnist", progress=False).head[1].weight) == 0  # the run cache's


def test_re_storing_the_judge_redoes_the_cached_evaluations(monkeypatch, tmp_path):
    """Every cached evaluation is keyed by the stored judges' bytes as well as by the metrics' code: re-storing the
    judge (scripts/store_judge.py) never serves a score the old judge gave; the same files keep the key."""
    from thesis_lib.metrics import report

    monkeypatch.setattr(report, "STORED_JUDGES", tmp_path)
    (tmp_path / "classifier-mnist.pt").write_bytes(b"one judge's weights")
    before = report.metrics_fingerprint()
    assert report.metrics_fingerprint() == before
    (tmp_path / "classifier-mnist.pt").write_bytes(b"another judge's weights")
    assert report.metrics_fingerprint() != before
    (tmp_path / "classifier-mnist.pt").write_bytes(b"one judge's weights")
    assert report.metrics_fingerprint() == before


@pytest.mark.slow
def test_retraining_the_judge_gives_the_stored_weights():
    """The stored judge is what train_classifier makes from the current code: bit for bit on the torch and CPU that
    stored it (CPU training is deterministic for a torch version, a thread count and a CPU), elsewhere the same
    classifier up to float rounding (its accuracy, and its label for 99 % of the test images). A fresh process
    retrains it (scripts/store_judge.py --check), on one core beside the other tests."""
    import subprocess
    import sys

    from conftest import image_data_available

    if not image_data_available("MNIST"):
        pytest.skip("MNIST not found")
    script = Path(__file__).resolve().parent.parent / "scripts" / "store_judge.py"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "bit for bit" in done.stdout or "the same classifier up to float rounding" in done.stdout, done.stdout


@pytest.mark.slow
def test_the_judges_check_elsewhere_tells_a_rounded_judge_from_another_one(monkeypatch, capsys):
    """On another torch or CPU, --check compares classifiers: the stored judge itself passes, and one whose last layer
    is scrambled (a judge that classifies differently) fails (here without training: the retrained judge is given)."""
    import store_judge as script  # (scripts/ is on the tests' path: tests/conftest.py)

    from conftest import image_data_available
    from thesis_lib.metrics.classifier import Classifier, ClassifierSettings, stored_judge_state

    if not image_data_available("MNIST"):
        pytest.skip("MNIST not found")
    stored = stored_judge_state()
    judge = Classifier()
    judge.load_state_dict(stored["model"])
    monkeypatch.setattr(script, "train_classifier", lambda settings, progress: (judge, stored["test_accuracy"]))
    assert script.compare_as_classifiers(stored, ClassifierSettings(), ("torch", "another CPU")) == 0
    assert "the same classifier up to float rounding" in capsys.readouterr().out
    with torch.no_grad():
        judge.head[-1].weight.copy_(
            judge.head[-1].weight[torch.randperm(10, generator=torch.Generator().manual_seed(0))]
        )
    assert script.compare_as_classifiers(stored, ClassifierSettings(), ("torch", "another CPU")) == 1
    assert "not the same classifier" in capsys.readouterr().err


def test_classifier_scores_real_images_like_a_perfect_model(classifier, mnist_train):
    from thesis_lib.data import load_dataset

    test = load_dataset("mnist", "test")
    r = metrics.sample_quality(classifier, mnist_train.x[:5000], test.x)
    assert r["mnist_score"] > 9.0 and r["label_entropy"] > 0.99 * math.log(10)
    assert r["fid"] < 10.0  # not 0: finite samples, and train and test images differ a little
    assert r["confident_share"] > 0.95  # real digits are recognisable
    blank = torch.zeros(500, 1, 28, 28)
    noise = torch.rand(500, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    assert (
        metrics.sample_quality(classifier, torch.cat([blank, noise]), test.x)["confident_share"]
        < 0.6 * r["confident_share"]
    )
    # a collapsed "model" that only draws ones is caught by every score
    ones = mnist_train.x[mnist_train.y == 1][:1000]
    c = metrics.sample_quality(classifier, ones, test.x)
    assert c["mnist_score"] < 1.2 and c["label_entropy"] < 0.1 and c["fid"] > 20 * r["fid"]
    assert c["label_histogram"][1] > 0.95 * len(ones)


def test_load_classifier_rejects_a_toy_dataset():
    with pytest.raises(ValueError, match="needs an image dataset.*'swiss-roll'"):
        metrics.load_classifier("swiss-roll")


# ============================================================================ likelihood with any proposal
def _two_d_models():
    """Untrained 2-D image models that define a likelihood without a trained q(z|x), and the VAE."""
    from thesis_lib import AAEConfig, AEConfig, VAEConfig
    from thesis_lib.models import build_model

    torch.manual_seed(0)
    ae = build_model(AEConfig(latent_dim=2, hidden_dims=(32,))).eval()
    ae.latent_mean.copy_(torch.tensor([0.3, -0.2]))
    ae.latent_scale_tril.copy_(torch.tensor([[0.8, 0.0], [0.3, 0.6]]))
    return {
        "ae": ae,
        "aae-gaussian-prior": build_model(
            AAEConfig(latent_dim=2, hidden_dims=(32,), d_hidden=(8,), prior_std=1.5)
        ).eval(),
        "aae-mixture-prior": build_model(
            AAEConfig(latent_dim=2, hidden_dims=(32,), d_hidden=(8,), prior="mixture")
        ).eval(),
        "vae": build_model(VAEConfig(latent_dim=2, hidden_dims=(32,))).eval(),
    }


def _log_px_by_quadrature(model, x, half_width=8.0, n=161):
    """log p(x) = log ∫ p(x|z) p(z) dz on a 2-D grid (the exact answer, up to the quadrature)."""
    t = torch.linspace(-half_width, half_width, n, dtype=torch.float64)
    zz = torch.stack(torch.meshgrid(t, t, indexing="ij"), -1).reshape(-1, 2)
    log_cell = 2 * math.log(float(t[1] - t[0]))
    with torch.no_grad():
        parts = [
            model.log_px_given_z(x, zb.float()[:, None].expand(-1, len(x), -1)).double()
            + model.log_prior(zb.float())[:, None].double()
            for zb in zz.split(4096)
        ]
    return torch.logsumexp(torch.cat(parts), 0) + log_cell


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ae", "aae-gaussian-prior", "aae-mixture-prior", "vae"])
def test_importance_sampling_around_the_code_estimates_the_exact_likelihood(name):
    """Every model with a decoder density and a prior density defines p(x): importance sampling
    with the proposal N(f(x), s² I) recovers the quadrature's log p(x) with many samples and a
    reasonable s, and with few samples it is a bound (the estimate of -log p(x) lies above it on average)."""
    from thesis_lib.data import Dataset

    model = _two_d_models()[name]
    assert model.defines_likelihood
    x = torch.rand(3, 1, 28, 28, generator=gen(3)).round()  # binary images: a proper Bernoulli likelihood
    exact = -_log_px_by_quadrature(model, x)
    data = Dataset("mnist", "test", x, torch.zeros(3, dtype=torch.long), 10)
    r = metrics.importance_sampled_nll(model, data, k=3000, proposal_scale=2.0, seed=0)
    assert r["nll"] == pytest.approx(exact.mean().item(), abs=0.05), (r, exact)
    loose = [metrics.importance_sampled_nll(model, data, k=2, proposal_scale=2.0, seed=s)["nll"] for s in range(40)]
    assert sum(loose) / len(loose) > exact.mean().item()  # Jensen: E[-log mean w] >= -log p(x)


def test_a_model_without_a_prior_density_defines_no_likelihood():
    from thesis_lib import AAEConfig
    from thesis_lib.data import Dataset
    from thesis_lib.models import build_model

    roll = build_model(AAEConfig(latent_dim=2, hidden_dims=(16,), d_hidden=(8,), prior="swiss-roll")).eval()
    assert not roll.defines_likelihood
    data = Dataset("mnist", "test", torch.rand(2, 1, 28, 28), torch.zeros(2, dtype=torch.long), 10)
    with pytest.raises(ValueError, match="does not define a likelihood"):
        metrics.importance_sampled_nll(roll, data, k=2, proposal_scale=1.0)
    with pytest.raises(ValueError, match="proposal_scale must be a number > 0, got 0"):
        metrics.importance_sampled_nll(_two_d_models()["ae"], data, k=2, proposal_scale=0)
    with pytest.raises(ValueError, match="pass proposal_scale"):
        metrics.importance_sampled_nll(_two_d_models()["ae"], data, k=2)


@pytest.mark.parametrize("name", ["ae", "aae-gaussian-prior", "vae"])
def test_reconstruction_bce_is_the_training_loss_even_on_saturated_pixels(name):
    """The metric's BCE is the decoder's Bernoulli -log p(x|z) at z = embed(x), from the logits as in
    training; a pixel the decoder is sure is off (logit -40) but is on costs its 40 nats, where
    probabilities clipped at 1e-6 would have counted 13.8."""
    from thesis_lib import losses
    from thesis_lib.data import Dataset

    model = _two_d_models()[name]
    assert model.has_bernoulli_decoder
    x = torch.rand(4, 1, 28, 28, generator=gen(5)).round()
    x[:, 0, 0, 0] = 1.0
    data = Dataset("mnist", "test", x, torch.zeros(4, dtype=torch.long), 10)
    with torch.no_grad():
        expected = losses.reconstruction_bce(model.bernoulli_logits(model.embed(x)), x).mean().item()
        got = metrics.reconstruction_error(model, data)["recon_bce"]
        assert got == pytest.approx(expected, rel=1e-6)
        last = [m for m in model.decoder.modules() if isinstance(m, torch.nn.Linear)][-1]
        last.bias[0] = -40.0 - last.weight[0].abs().sum() * 50  # pixel (0, 0): a logit far below -13.8
        logits = model.bernoulli_logits(model.embed(x))
        assert (logits[:, 0, 0, 0] < -39).all()
        saturated = metrics.reconstruction_error(model, data)["recon_bce"]
    assert saturated == pytest.approx(losses.reconstruction_bce(logits, x).mean().item(), rel=1e-6)
    assert saturated - got > 39 - 14  # the clipped probabilities would have added at most 13.8 nats


# ============================================================================ report and CLI
def test_evaluate_samples_is_cached_by_content(tmp_path, monkeypatch, require_mnist):
    monkeypatch.setenv("THESIS_LIB_RUNS", str(tmp_path))
    from thesis_lib.metrics import report

    calls = []
    monkeypatch.setattr(report, "_sample_metrics", lambda s, *a, **k: calls.append(1) or {"parzen_ll": float(s.sum())})
    x = torch.rand(10, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    a = metrics.evaluate_samples(x, metrics=("parzen",))
    b = metrics.evaluate_samples(x.clone(), metrics=("parzen",))
    c = metrics.evaluate_samples(x * 0.5, metrics=("parzen",))
    assert a == b and len(calls) == 2 and c["parzen_ll"] != a["parzen_ll"]
    with pytest.raises(ValueError, match="metrics must be 'parzen' or 'quality', got 'likelihood'"):
        metrics.evaluate_samples(x, metrics=("likelihood",))


@pytest.fixture(scope="module")
def tiny_vae(tmp_path_factory, require_mnist_module):
    from thesis_lib.data import load_dataset

    out = tmp_path_factory.mktemp("vae")
    cfg = run_config("vae", hidden_dims=(64,), latent_dim=4, epochs=2)
    train(cfg, out, data=load_dataset("mnist", "train").subset(2000), progress=False, validate=False, device="cpu")
    return out


@pytest.fixture(scope="module")
def require_mnist_module():
    from conftest import image_data_available

    if not image_data_available("MNIST"):
        pytest.skip("MNIST not found")


def test_evaluate_model_reports_every_metric_that_applies(tiny_vae, classifier):
    from thesis_lib import load

    r = metrics.evaluate_model(load(tiny_vae), n_samples=500, k=20, n_test=300, progress=False)
    for key in (
        "parzen_ll",
        "parzen_se",
        "parzen_sigma",
        "fid",
        "mnist_score",
        "label_entropy",
        "test_neg_elbo",
        "test_nll",
        "test_recon_bce",
    ):
        assert math.isfinite(r[key]), key
    assert r["n_samples"] == 500 and r["n_test"] == 300 and r["nll_k"] == 20
    assert r["test_nll"] < r["test_neg_elbo"] + 0.5  # the k-sample bound is tighter than the ELBO
    assert any(r["parzen_sigma"] == pytest.approx(s) for s in parzen.SIGMAS)


def test_nll_of_run_is_the_estimate_of_the_saved_model_computed_once_per_setting(tiny_vae, monkeypatch):
    """The comparison chapter's scan of proposal scales: ``nll_of_run`` gives what ``importance_sampled_nll`` gives on
    the loaded run, stores it beside the checkpoint, serves it again without computing, and computes anew for
    another scale."""
    from thesis_lib import load
    from thesis_lib.data import load_dataset
    from thesis_lib.metrics import report

    test = load_dataset("mnist", "test").subset(40)
    direct = metrics.importance_sampled_nll(load(tiny_vae), test, k=10, proposal_scale=0.3)
    calls = []
    estimate = report.importance_sampled_nll
    monkeypatch.setattr(report, "importance_sampled_nll", lambda *a, **kw: calls.append(kw) or estimate(*a, **kw))
    first = metrics.nll_of_run(tiny_vae, n_test=40, k=10, proposal_scale=0.3)
    again = metrics.nll_of_run(tiny_vae, n_test=40, k=10, proposal_scale=0.3)
    other = metrics.nll_of_run(tiny_vae, n_test=40, k=10, proposal_scale=1.0)
    own_q = metrics.nll_of_run(tiny_vae, n_test=40, k=10)
    assert first == again == direct and len(calls) == 3
    assert [c["proposal_scale"] for c in calls] == [0.3, 1.0, None]
    assert other["nll"] != first["nll"] and own_q["nll"] != first["nll"]
    assert len(list(Path(tiny_vae).glob("nll-*.json"))) == 3


def test_evaluate_model_skips_what_does_not_apply(require_mnist_module):
    from thesis_lib.models import build_model

    gan = build_model(GANConfig(g_hidden=(16,), d_hidden=(16,), latent_dim=4)).eval()
    r = metrics.evaluate_model(gan, ("parzen", "likelihood", "reconstruction"), n_samples=200, progress=False)
    assert "parzen_ll" in r and "test_nll" not in r and "test_recon_bce" not in r and "fid" not in r
    with pytest.raises(ValueError, match="unknown metric 'fidd'; allowed: parzen, quality, likelihood, reconstruction"):
        metrics.evaluate_model(gan, ("fidd",))


@pytest.mark.slow
def test_cli_evaluate_writes_json(tiny_vae, tmp_path: Path):
    out = tmp_path / "results" / "vae.json"
    r = run_cli(
        "evaluate",
        str(tiny_vae),
        "--metrics",
        "parzen",
        "likelihood",
        "--n-samples",
        "300",
        "--k",
        "5",
        "--n",
        "100",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    printed, saved = json.loads(r.stdout), json.loads(out.read_text())
    assert printed == saved and saved["run"] == str(tiny_vae) and saved["n_samples"] == 300 and "test_nll" in saved


@pytest.mark.slow
def test_cli_evaluate_real_reference_row(require_mnist_module):
    r = run_cli("evaluate", "--real", "mnist", "--metrics", "parzen", "--n-samples", "2000")
    assert r.returncode == 0, r.stderr
    row = json.loads(r.stdout)
    assert row["model"] == "real data" and row["n_samples"] == 2000 and row["parzen_ll"] > 100


@pytest.mark.parametrize(
    "args, words",
    [
        ((), ["either a run folder DIR or --real"]),
        (("--real", "mnist", "--metrics", "likelihood"), ["--real", "'likelihood'"]),
        (("somewhere", "--k", "0"), ["--k", ">= 1", "0"]),
        (("somewhere", "--real", "mnist"), ["not both"]),
    ],
)
def test_cli_evaluate_bad_input_is_one_line(args, words, capsys):
    from thesis_lib import cli

    assert cli.main(["evaluate", *args]) == 2
    assert_one_line_error(capsys.readouterr().err, *words)


def test_classifier_outputs_accept_non_contiguous_images(classifier, mnist_train):
    """A grid of images from latent.interpolate (rows, steps, 1, 28, 28) is a non-contiguous view;
    it is scored image by image, like its contiguous copy."""
    x = mnist_train.x[:30]
    grid = x.view(10, 3, 1, 28, 28).transpose(0, 1)  # (3, 10, 1, 28, 28), the layout interpolate returns
    assert not grid.is_contiguous()
    f_grid, p_grid = metrics.classifier_outputs(classifier, grid)
    f, p = metrics.classifier_outputs(classifier, grid.reshape(30, 1, 28, 28))
    assert p_grid.shape == (30, 10) and torch.allclose(f_grid, f) and torch.allclose(p_grid, p)
