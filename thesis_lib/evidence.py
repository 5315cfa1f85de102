"""The evidence of a run's failure signatures (:mod:`thesis_lib.diagnosis`): plain numbers and lists, JSON-able,
measured in seconds.

From the history: the GAN's D(G(z)) over its first steps and its last-epoch D(x), D(G(z)); the VAE's KL term and
what its objective weighs it by; the AAE discriminator's last verdict on codes and prior samples; the last
reconstruction error. From the model, where cheap, through the shared vocabulary only: the MNIST judge's labels
of samples, or a ring model's samples per component; an encoder's active latent units; its codes against prior
samples. Each key is present only where it can be measured, and the keys present decide which signatures apply:
this module never asks which kind of model it holds.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch

from . import toy
from .config import RunConfig
from .data import load_dataset
from .history import History
from .latent import eval_mode
from .models import GenerativeModel

EARLY_STEPS = 200
"""The "early" steps: the first 200 discriminator steps, where D learns to reject G's first samples long before G
can make better ones (a minimax G that saturates does so there)."""
RING_RADIUS = 3.0
"""A ring sample belongs to a component within 3 of its (tangential) standard deviations of the component's mean."""
ACTIVE_VARIANCE = 0.01
"""A latent unit is active when Var_x E_q[z_i|x] exceeds 0.01 of the prior's variance in that unit (Burda et al.
2016 use 0.01 with the prior N(0, I))."""
CODES = 5000
"""Test images encoded, and prior samples drawn, to compare the codes with the prior."""
COVER_QUANTILE = 0.99
"""Where the codes miss: "near" is within the distance inside which a second set of prior samples has a neighbour
for 99% of the first, so codes that match the prior leave about 1% of prior samples (and of codes) uncovered."""
SAMPLES = 2000
"""Samples drawn for the mode histogram (the judge's labels, or ring components)."""
ACTIVE_IMAGES = 1000
"""Test images whose codes decide which latent units are active (as Burda et al.)."""


def measure(
    model: GenerativeModel | None, history: History | dict, config: RunConfig, *, samples: bool = True, seed: int = 0
) -> dict[str, Any]:
    """The evidence of a run (``history`` a :class:`History` or its dict): JSON-able numbers and lists, each key
    present only where it can be measured.

    From the history: ``early_fake_score`` (D(G(z)) averaged over the first ``early_steps`` discriminator steps,
    at most :data:`EARLY_STEPS`), ``real_score`` and ``fake_score`` (the last epoch's D(x) and D(G(z))), ``kl``
    (the last epoch's KL term, nats per example), ``kl_weight`` (how many times more the descended objective
    weighs the KL term than the reconstruction term: 1 for the bound), ``prior_gap`` (the last epoch's
    D(z~p) - D(z~q) of a discriminator on codes), ``recon`` (the last epoch's reconstruction error, nats per
    example); from the config: ``generator_loss`` (where the model has one). From the model,
    unless ``samples`` is false or ``model`` is None (seeded by ``seed``): ``mode_histogram`` and ``modes_of``
    (the judge's labels of :data:`SAMPLES` samples of an image model whose judge is at hand, or the ring
    components of a ``mixture-2d`` model's samples), ``active_units`` and ``latent_dim`` (an encoder's active
    units over :data:`ACTIVE_IMAGES` test images), ``prior_distance``, ``holes``, ``off_prior`` and ``radius``
    (codes of :data:`CODES` test images against as many prior samples; see :func:`_cover`).
    """
    evidence = _from_history(history if isinstance(history, History) else History.from_dict(history), config)
    if samples and model is not None:
        cuda = [model.device] if model.device.type == "cuda" else []
        with eval_mode(model), torch.random.fork_rng(devices=cuda):  # repeatable, and the caller's RNG untouched
            torch.manual_seed(seed)
            evidence.update(_from_model(model, config, torch.Generator().manual_seed(seed)))
    return evidence


def _last(series: dict[str, list[float]], name: str) -> float | None:
    values = series.get(name)
    return float(values[-1]) if values else None


def _from_history(history: History, config: RunConfig) -> dict[str, Any]:
    steps, epochs, e = history.steps, history.epochs, {}
    fake = steps.get("D(G(z))", [])[:EARLY_STEPS]
    if fake:
        e["early_fake_score"], e["early_steps"] = sum(fake) / len(fake), len(fake)
    settings = config.config.to_dict()
    if "generator_loss" in settings:
        e["generator_loss"] = settings["generator_loss"]
    real, fake_last = _last(epochs, "D(x)"), _last(epochs, "D(G(z))")
    if real is not None and fake_last is not None:
        e["real_score"], e["fake_score"] = real, fake_last
    if _last(epochs, "kl") is not None:
        e["kl"] = _last(epochs, "kl")
        weight = _kl_weight(steps)
        if weight is not None:
            e["kl_weight"] = weight
    prior, codes = _last(epochs, "D(z~p)"), _last(epochs, "D(z~q)")
    if prior is not None and codes is not None:
        e["prior_gap"] = prior - codes
    if _last(epochs, "recon") is not None:
        e["recon"] = _last(epochs, "recon")
    return e


def _kl_weight(steps: dict[str, list[float]]) -> float | None:
    """The weight of the KL term relative to the reconstruction term in what the optimiser descended, b / a in
    objective = a * recon + b * kl: solved from each two consecutive steps, and the median taken (a minibatch
    sum changes its scale at an epoch's short last minibatch); 1.0 when the bound itself was descended (no objective
    logged)."""
    recon, kl = steps.get("recon"), steps.get("kl")
    if not recon or not kl or len(recon) != len(kl):
        return None
    objective = next((v for k, v in steps.items() if k.endswith(" objective") and len(v) == len(recon)), None)
    if objective is None:
        return 1.0
    r, k, o = (torch.tensor(v, dtype=torch.float64) for v in (recon, kl, objective))
    det = r[:-1] * k[1:] - r[1:] * k[:-1]  # Cramer's rule on each pair of steps
    a, b = (o[:-1] * k[1:] - o[1:] * k[:-1]) / det, (r[:-1] * o[1:] - r[1:] * o[:-1]) / det
    ratios = (b / a)[(det != 0) & (a > 0)]
    return ratios.median().item() if len(ratios) else None


def _from_model(model: GenerativeModel, config: RunConfig, g: torch.Generator) -> dict[str, Any]:
    e: dict[str, Any] = {}
    dataset = config.config.dataset
    histogram = _judge_histogram(model, dataset, g) if model.images else None
    if histogram is not None:
        e["mode_histogram"], e["modes_of"] = histogram, "classes by the judge"
    elif dataset == "mixture-2d":
        e["mode_histogram"], e["modes_of"] = _ring_histogram(model.sample(SAMPLES, generator=g).cpu()), "components"
    if model.has_encoder:
        test = load_dataset(dataset, "test")
        means = model.embed(test.x[:ACTIVE_IMAGES].to(model.device)).double()
        prior_variance = model.sample_prior(10 * ACTIVE_IMAGES, generator=g).double().var(0)
        e["active_units"] = int((means.var(0) > ACTIVE_VARIANCE * prior_variance).sum())
        e["latent_dim"] = model.latent_dim
        codes = model.encode(test.x[:CODES].to(model.device)).double().cpu()
        e.update(_cover(codes, model.sample_prior(CODES, generator=g).double().cpu(), model, g))
    return e


def _judge_histogram(model: GenerativeModel, dataset: str, g: torch.Generator) -> list[int] | None:
    """The judge's labels of :data:`SAMPLES` samples, if the judge of ``dataset`` is stored or cached (training one
    would take a minute: then None)."""
    from .metrics.classifier import ClassifierSettings, classifier_dir, load_classifier, stored_judge_state
    from .metrics.sample_quality import classifier_outputs, label_histogram

    settings = ClassifierSettings(dataset=dataset)
    if stored_judge_state(settings) is None and not (classifier_dir(settings) / "classifier.pt").exists():
        return None
    probs = classifier_outputs(load_classifier(dataset, progress=False), model.sample(SAMPLES, generator=g).cpu())[1]
    return label_histogram(probs)


def modes_over_training(snapshots: dict) -> list[list[int]]:
    """The mode histogram of each snapshot's samples (:mod:`thesis_lib.snapshots`): the ring components of a
    ``mixture-2d`` run's points, or the judge's labels of an image run's samples (the judge must be stored or cached);
    one list per snapshot, in recorded order. Where a model puts its mass as it trains: a collapsing GAN's
    histograms hold one or two modes each, and which ones changes from snapshot to snapshot."""
    samples = snapshots["samples"]
    if snapshots.get("dataset") == "mixture-2d":
        return [_ring_histogram(x.float()) for x in samples]
    if not snapshots.get("images"):
        raise ValueError(
            f"modes_over_training: dataset {snapshots.get('dataset')!r} has no modes to count; expected mixture-2d or "
            "an image dataset with a judge"
        )
    from .metrics.classifier import load_classifier
    from .metrics.sample_quality import classifier_outputs, label_histogram

    judge = load_classifier(snapshots["dataset"], progress=False)
    return [label_histogram(classifier_outputs(judge, x.float() / 255)[1]) for x in samples]


def mode_hops(histograms: list[list[int]], samples: int, occupied_share: float = 0.04) -> dict[str, int]:
    """How a generator moved its samples between modes over its snapshots (``histograms``: each snapshot's mode
    histogram, :func:`modes_over_training`, of ``samples`` samples each). A snapshot counts when at least
    ``occupied_share`` of its samples lie near a mode; over those: ``most_modes``, the most modes that hold a tenth of
    a snapshot's near samples, and the mode holding most of them (the *dominant* mode): how many times it changes
    from one counted snapshot to the next (``changes``) and how many modes it visits (``visited``)."""
    counted = [h for h in histograms if sum(h) >= occupied_share * samples]
    dominant = [max(range(len(h)), key=h.__getitem__) for h in counted]
    return {
        "snapshots": len(histograms),
        "occupied": len(counted),
        "most_modes": max((sum(c >= 0.1 * sum(h) for c in h) for h in counted), default=0),
        "changes": sum(a != b for a, b in zip(dominant, dominant[1:])),
        "visited": len(set(dominant)),
    }


def _ring_histogram(x: torch.Tensor) -> list[int]:
    """How many of the 2-D points ``x`` lie within :data:`RING_RADIUS` standard deviations of each ring component's
    mean (points near none are not counted)."""
    std = inspect.signature(toy.gaussian_mixture_2d).parameters["std"].default
    distances = torch.cdist(x.float(), toy.mixture_2d_means())
    nearest = distances.min(1)
    return torch.bincount(nearest.indices[nearest.values < RING_RADIUS * std], minlength=distances.shape[1]).tolist()


def _nearest(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """For each row of ``a``, the distance to its nearest row of ``b`` (in chunks: 5,000 x 5,000 at most)."""
    return torch.cat([torch.cdist(chunk, b).min(1).values for chunk in a.split(1000)])


def _energy_distance(x: torch.Tensor, y: torch.Tensor) -> float:
    """Székely's normalised energy distance (2 E|X-Y| - E|X-X'| - E|Y-Y'|) / (2 E|X-Y|) between the rows of ``x``
    and ``y``: 0 when they come from the same distribution, at most 1."""

    def mean_distance(a: torch.Tensor, b: torch.Tensor) -> float:
        return sum(torch.cdist(chunk, b).sum().item() for chunk in a.split(1000)) / (len(a) * len(b))

    xy = mean_distance(x, y)
    return (2 * xy - mean_distance(x, x) - mean_distance(y, y)) / (2 * xy) if xy > 0 else 0.0


def _cover(codes: torch.Tensor, prior: torch.Tensor, model: GenerativeModel, g: torch.Generator) -> dict[str, float]:
    """``prior_distance`` (:func:`_energy_distance` of codes and ``prior``), ``holes`` (the share of ``prior``
    samples with no code within the radius) and ``off_prior`` (the share of codes with no prior sample within it);
    the radius is :data:`COVER_QUANTILE` of the distances from a second set of prior samples to ``prior``."""
    other = model.sample_prior(len(prior), generator=g).double().cpu()
    radius = torch.quantile(_nearest(other, prior), COVER_QUANTILE).item()
    return {
        "prior_distance": _energy_distance(codes, prior),
        "holes": (_nearest(prior, codes) > radius).double().mean().item(),
        "off_prior": (_nearest(codes, prior) > radius).double().mean().item(),
        "radius": radius,
    }
