"""Every metric for one trained model, or for real data as the reference row, in one dict.

:func:`evaluate_model` is what ``thesis-lib evaluate DIR`` prints and what the comparison
chapter tabulates; :func:`evaluate_real` scores 10,000 real training images *as if they were
samples*, the row a perfect model would get.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import torch

from ..cache import cached_json, key, runs_root, source_fingerprint
from ..data import IMAGE_DATASETS, load_dataset
from ..models import GenerativeModel
from ..profiling import stage
from .classifier import STORED_JUDGES, ClassifierSettings, classifier_dir, load_classifier
from .diagnostics import border_brightness, isolated_pixels
from .likelihood import binarized, importance_sampled_nll, reconstruction_error, test_elbo
from .parzen import parzen_evaluation
from .sample_quality import classifier_outputs, sample_quality

METRICS = ("parzen", "quality", "likelihood", "reconstruction")
"""Metric groups: Parzen LL; classifier FID/score/label entropy; test ELBO and IS NLL; reconstruction.
A model says which apply (``model.metric_groups``)."""

N_SAMPLES = 10_000
N_PARZEN_VAL = 1_000


def _check_metrics(metrics: tuple[str, ...]) -> None:
    for m in metrics:
        if m not in METRICS:
            raise ValueError(f"unknown metric {m!r}; allowed: {', '.join(METRICS)}")


_TEST_FEATURES: dict[str, torch.Tensor] = {}  # the judge's features of a test set, once per process


def _test_features(classifier, dataset: str, test: torch.Tensor) -> torch.Tensor:
    """The judge's features of ``dataset``'s test images, computed once per process and judge."""
    name = f"{classifier_dir(ClassifierSettings(dataset=dataset))}:{len(test)}"
    if name not in _TEST_FEATURES:
        _TEST_FEATURES[name] = classifier_outputs(classifier, test)[0]
    return _TEST_FEATURES[name]


def _sample_metrics(
    samples: torch.Tensor, test: torch.Tensor, dataset: str, metrics: tuple[str, ...], progress: bool
) -> dict[str, object]:
    out: dict[str, object] = {}
    if "parzen" in metrics:
        with stage("parzen"):
            val = load_dataset(dataset, "val").subset(N_PARZEN_VAL)
            out.update(parzen_evaluation(samples, val.x, test))
    if "quality" in metrics:
        with stage("quality"):
            classifier = load_classifier(dataset, progress=progress)
            out.update(
                sample_quality(classifier, samples, reference_features=_test_features(classifier, dataset, test))
            )
            out["classifier_accuracy"] = classifier.test_accuracy
            out["border_brightness"] = border_brightness(samples)
            out["isolated_pixels"] = isolated_pixels(samples)
    return out


def evaluate_model(
    model: GenerativeModel,
    metrics: tuple[str, ...] = METRICS,
    *,
    n_samples: int = N_SAMPLES,
    k: int = 100,
    n_test: int | None = None,
    binarize: bool = False,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, object]:
    """All ``metrics`` that apply to ``model`` (nats per image where it applies).

    Args:
        metrics: any of :data:`METRICS`; groups that do not apply (``model.metric_groups``: a
            GAN has no reconstruction, an AE no likelihood) are skipped.
        n_samples: samples for the Parzen window and the classifier metrics (the papers: 10,000).
        k: importance samples per test image for the NLL (the IWAE paper: 5,000).
        n_test: likelihood and reconstruction on the first ``n_test`` test images only.
        binarize: score likelihoods on dynamically binarised test images (fixed seed); pass the
            run's ``schedule.binarize`` to score as it was trained (:func:`evaluate_run` does).
        seed: seed of the samples and of the Monte Carlo estimates.
    """
    _check_metrics(metrics)
    dataset = model.config.dataset
    if not model.images:
        raise ValueError(f"evaluation needs an image model ({', '.join(IMAGE_DATASETS)}), got dataset {dataset!r}")
    applies = [m for m in metrics if m in model.metric_groups]
    result: dict[str, object] = {"model": model.config.model, "dataset": dataset}
    with _timed(result):
        test = load_dataset(dataset, "test")
        if "parzen" in applies or "quality" in applies:
            with stage("sample"):
                samples = model.sample(n_samples, generator=torch.Generator().manual_seed(seed)).cpu()
            result.update(_sample_metrics(samples, test.x, dataset, applies, progress))
        if n_test is not None:
            test = test.subset(n_test)
        if binarize:
            test = binarized(test, seed=seed)
        result.update({"n_test": len(test), "binarized": bool(binarize)})
        if "reconstruction" in applies:
            with stage("reconstruction"):
                result.update({f"test_{k_}": v for k_, v in reconstruction_error(model, test).items()})
        if "likelihood" in applies:
            with stage("likelihood"):
                elbo = test_elbo(model, test, seed=seed)
                nll = importance_sampled_nll(model, test, k=k, seed=seed)
            result.update({"test_neg_elbo": -elbo["elbo"], "test_kl": elbo["kl"]})
            result.update({"test_nll": nll["nll"], "test_nll_se": nll["nll_se"], "nll_k": k})
    return result


@contextmanager
def _timed(result: dict[str, object]) -> Iterator[None]:
    """Add the seconds the block took to ``result`` as ``result["seconds"]``."""
    start = time.perf_counter()
    yield
    result["seconds"] = round(time.perf_counter() - start, 1)


def stored_judges_digest() -> str:
    """A hash of the judges stored in the package (their files' bytes): re-storing one (``scripts/store_judge.py``)
    changes every score it gives."""
    files = sorted(STORED_JUDGES.glob("*.pt"))
    return _files_digest(tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files))


@functools.lru_cache(maxsize=8)
def _files_digest(stamps: tuple[tuple[str, int, int], ...]) -> str:
    """The hash of the files named in ``stamps`` (path, size, modification time: a changed file is hashed again)."""
    digest = hashlib.sha256()
    for name, _, _ in stamps:
        digest.update(Path(name).name.encode() + b"\0" + Path(name).read_bytes())
    return digest.hexdigest()


def metrics_fingerprint() -> str:
    """A hash of the source an evaluation imports (this module's import graph) and of the judges stored in the
    package (whose weights score every sample): a cached evaluation is redone when either changes."""
    return key(source_fingerprint([__name__.removeprefix("thesis_lib.")]), stored_judges_digest())


def evaluate_run(run_dir: str | Path, metrics: tuple[str, ...] = METRICS, **kwargs) -> dict[str, object]:
    """:func:`evaluate_model` of the run saved in ``run_dir``, cached beside its checkpoint.

    Likelihoods are scored on binarised test images when the run was trained on them (unless
    ``binarize`` is given). The result is stored as ``run_dir/evaluation-<key>.json``, keyed by
    the arguments, the checkpoint file and the metrics' source, so a book chapter that is
    executed twice (by nbval, then by the book build) evaluates once and never shows a stale number.
    """
    from ..api import load

    _check_metrics(metrics)
    ckpt, binarize = _checkpoint_and_binarize(run_dir)
    kwargs.setdefault("binarize", binarize)
    arguments = {"metrics": list(metrics), **{k: v for k, v in kwargs.items() if k != "progress"}}
    return _cached_beside(ckpt, "evaluation", arguments, lambda: evaluate_model(load(ckpt), metrics, **kwargs))


def nll_of_run(
    run_dir: str | Path,
    *,
    n_test: int | None = None,
    k: int = 100,
    proposal_scale: float | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """:func:`~thesis_lib.metrics.importance_sampled_nll` of the run saved in ``run_dir`` on the first ``n_test``
    test images (all with ``None``), binarised when the run trained on binarised images, cached beside its
    checkpoint as :func:`evaluate_run` caches (``run_dir/nll-<key>.json``): the comparison chapter's scan of
    proposal scales (``proposal_scale``: the Gaussian N(f(x), s² I) around the code) runs once, not again when
    the chapter is executed a second time."""
    from ..api import load

    ckpt, binarize = _checkpoint_and_binarize(run_dir)

    def compute() -> dict[str, float]:
        model = load(ckpt)
        test = load_dataset(model.config.dataset, "test")
        test = test.subset(n_test) if n_test is not None else test
        with stage("likelihood"):
            return importance_sampled_nll(
                model, binarized(test, seed=seed) if binarize else test, k=k, seed=seed, proposal_scale=proposal_scale
            )

    arguments = {"n_test": n_test, "k": k, "proposal_scale": proposal_scale, "seed": seed, "binarize": binarize}
    return _cached_beside(ckpt, "nll", arguments, compute)


def _checkpoint_and_binarize(run_dir: str | Path) -> tuple[Path, bool]:
    """The run's checkpoint file and whether it trained on binarised images (then its likelihoods are scored on
    binarised test images)."""
    from ..checkpoint import checkpoint_config, checkpoint_path, load_checkpoint

    ckpt = checkpoint_path(run_dir)
    return ckpt, checkpoint_config(load_checkpoint(ckpt)).schedule.binarize


def _cached_beside(ckpt: Path, prefix: str, arguments: dict, compute) -> dict:
    """``compute()``, stored beside the checkpoint ``ckpt`` as ``<prefix>-<key>.json``, keyed by ``arguments``, the
    checkpoint file (its size and modification time) and :func:`metrics_fingerprint`."""
    stat = ckpt.stat()
    key_data = json.dumps({**arguments, "ckpt": [stat.st_size, stat.st_mtime_ns]}, sort_keys=True)
    return cached_json(ckpt.parent / f"{prefix}-{key(key_data, metrics_fingerprint())}.json", compute)


def evaluate_samples(
    samples: torch.Tensor,
    dataset: str = "mnist",
    metrics: tuple[str, ...] = ("parzen", "quality"),
    progress: bool = True,
) -> dict[str, object]:
    """The sample metrics (``parzen``, ``quality``) of any images ``samples`` (n, 1, 28, 28) in [0, 1],
    cached under the run cache by the samples' content (``$THESIS_LIB_RUNS/samples/``): e.g. a GAN's
    samples drawn without its moving average, or filtered samples."""
    bad = [m for m in metrics if m not in ("parzen", "quality")]
    if bad:
        raise ValueError(f"evaluate_samples scores samples only: metrics must be 'parzen' or 'quality', got {bad[0]!r}")
    samples = samples.detach().float().cpu().contiguous()
    digest = hashlib.sha256(samples.numpy().tobytes()).hexdigest()

    def compute() -> dict[str, object]:
        result: dict[str, object] = {"dataset": dataset, "n_samples": len(samples)}
        with _timed(result):
            result.update(_sample_metrics(samples, load_dataset(dataset, "test").x, dataset, metrics, progress))
        return result

    return cached_json(
        runs_root() / "samples" / f"{key(digest, json.dumps([dataset, list(metrics)]), metrics_fingerprint())}.json",
        compute,
    )


def evaluate_real(
    dataset: str = "mnist",
    metrics: tuple[str, ...] = ("parzen", "quality"),
    n: int = N_SAMPLES,
    progress: bool = True,
    cache: bool = False,
) -> dict[str, object]:
    """The reference row: the first ``n`` training images scored as if a model had sampled them.

    With ``cache=True`` the row is stored under the run cache (``$THESIS_LIB_RUNS/reference``),
    keyed by the arguments and the metrics' source.
    """
    _check_metrics(metrics)
    train = load_dataset(dataset, "train")
    if not 1 <= n <= len(train):
        raise ValueError(f"n must be an integer in [1, {len(train)}], got {n}")

    def compute() -> dict[str, object]:
        result: dict[str, object] = {"model": "real data", "dataset": dataset}
        with _timed(result):
            result.update(_sample_metrics(train.x[:n], load_dataset(dataset, "test").x, dataset, metrics, progress))
        return result

    if not cache:
        return compute()
    return cached_json(
        runs_root()
        / "reference"
        / f"{dataset}-{key(json.dumps([dataset, list(metrics), n]), metrics_fingerprint())}.json",
        compute,
    )
