"""Failure signatures: what a run's history and a few samples say about how its training went wrong.

Two steps, so that the same checks run on a live run and on a stored result:

1. :func:`measure` collects the *evidence*: plain numbers and lists (JSON-able), in seconds, from the
   history (the GAN's D(G(z)) over its first steps and its last-epoch D(x), D(G(z)); the VAE's KL
   term and what its objective weighs it by; the AAE discriminator's last verdict on codes and prior
   samples) and, where cheap, from the model through the shared vocabulary (the MNIST judge's label
   histogram of samples, or a ring model's share per component; active latent units; codes against
   prior samples). Each key is present only where it can be measured, and the keys present decide
   which signatures apply: this module never asks which kind of model it holds.
2. :data:`SIGNATURES` each test the evidence; :func:`findings` lists those that fire, each with a
   one-line explanation naming the measured number and the book page that treats it
   (``failures.html#<name>``). A stored row is checked with ``findings(row["evidence"])``.

:func:`diagnose` does both for a run folder or the trainer :func:`thesis_lib.train` returns; the CLI's
``thesis-lib diagnose RUN_DIR`` prints its findings.
"""

from __future__ import annotations

import inspect
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from . import toy
from .checkpoint import CONFIG, HISTORY
from .config import RunConfig, load_config
from .data import load_dataset
from .errors import CheckpointError
from .history import History
from .latent import eval_mode
from .models import GenerativeModel
from .trainer import Trainer

PAGE = "failures.html"
"""The book page "When training goes wrong"; each signature's section has its name as MyST label."""

# ----------------------------------------------------------------------------- thresholds
EARLY_STEPS = 200
"""The "early" steps: the first 200 discriminator steps, where D learns to reject G's first samples long before G
can make better ones (a minimax G that saturates does so there)."""
SATURATED_SCORE = 0.05
"""D(G(z)) below which the minimax loss log(1 - D(G(z))) is flat: its gradient in D's logit is -D(G(z)),
a tenth of its value at D(G(z)) = 1/2 (the non-saturating loss gets 1 - D(G(z)), about 1)."""
DISCRIMINATOR_GAP = 0.2
"""D(x) - D(G(z)) at the last epoch above which D wins: at the game's equilibrium both are 1/2; the chapter's GAN
ends about 0.05 apart, the same GAN with k = 5 about 0.32."""
MODE_COVERAGE = 0.5
"""Mode collapse: the samples cover fewer than half of the classes (components), counted as exp(entropy) of their
histogram, the number of equally common classes with the same entropy (the stored runs of the papers' experiments
cover 6.6, the 2-D autoencoder, to 9.7 of 10 digits)."""
RING_RADIUS = 3.0
"""A ring sample belongs to a component within 3 of its (tangential) standard deviations of the component's mean."""
ACTIVE_VARIANCE = 0.01
"""A latent unit is active when Var_x E_q[z_i|x] exceeds 0.01 of the prior's variance in that unit (Burda et al.
2016 use 0.01 with the prior N(0, I))."""
ACTIVE_SHARE = 0.25
"""Posterior collapse: fewer than a quarter of the latent units are active (the chapter's 32-D VAE keeps 22 after 4
epochs; Burda et al. found 19-20 of 50 active in theirs)."""
COLLAPSED_KL = 1.0
"""Posterior collapse: the KL term below 1 nat per example, so the code tells the decoder almost nothing about x."""
KL_WEIGHT = 10.0
"""The loss-scaling mistake: the optimiser weighs the KL term at least 10 times more than the reconstruction term
(the bound weighs them equally; a mean over D pixels in place of their sum weighs the KL D times more)."""
CODES = 5000
"""Test images encoded, and prior samples drawn, to compare the codes with the prior."""
PRIOR_DISTANCE = 0.02
"""Weak regularisation: the normalised energy distance between codes and prior samples above 0.02, twice the
chapter's AAE's (0.010; 0 when q(z) = p(z)): q(z) does not fill p(z) at the scale of the prior as a whole."""
COVER_QUANTILE = 0.99
"""Where the codes miss: "near" is within the distance inside which a second set of prior samples has a neighbour
for 99% of the first, so codes that match the prior leave about 1% of prior samples (and of codes) uncovered."""
CHANCE_GAP = 0.005
"""Strong regularisation: the AAE's discriminator tells prior samples from codes apart by less than 0.005 on average
(D(z~p) - D(z~q) at the last epoch; the chapter's AAE about 0.05, the 8-D one of the comparison 0.020, with a ten
times larger reg_lr 0.0007): the encoder fools D completely, at the reconstruction's cost."""
SAMPLES = 2000
"""Samples drawn for the mode histogram (the judge's labels, or ring components)."""
ACTIVE_IMAGES = 1000
"""Test images whose codes decide which latent units are active (as Burda et al.)."""


# ----------------------------------------------------------------------------- signatures
@dataclass(frozen=True)
class Signature:
    """A failure signature: ``test(evidence)`` decides, ``explanation(evidence)`` says why in one line.

    It applies only to evidence that has every key of ``needs``; it is left out of the findings when one of
    ``unless`` (a signature that causes it, whose cure comes first) is found too.
    """

    name: str
    title: str
    explanation: Callable[[dict], str]
    test: Callable[[dict], bool]
    needs: tuple[str, ...]
    unless: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    """A signature found in a run: its name, title, one-line explanation, book page and the evidence it read."""

    name: str
    title: str
    explanation: str
    page: str
    evidence: dict


def effective_modes(histogram: list[int]) -> float:
    """exp(entropy) of a histogram: the number of equally common classes with the same entropy (0 if empty)."""
    total = sum(histogram)
    if total == 0:
        return 0.0
    return math.exp(-sum(c / total * math.log(c / total) for c in histogram if c > 0))


def _modes(e: dict) -> str:
    histogram = e["mode_histogram"]
    return (
        f"the samples cover {effective_modes(histogram):.1f} of {len(histogram)} {e['modes_of']} (exp of the entropy "
        f"of their histogram {histogram}): the model puts its mass on a few of them"
    )


SIGNATURES: tuple[Signature, ...] = (
    Signature(
        "mode-collapse",
        "Mode collapse",
        _modes,
        lambda e: effective_modes(e["mode_histogram"]) < MODE_COVERAGE * len(e["mode_histogram"]),
        ("mode_histogram", "modes_of"),
    ),
    Signature(
        "saturating-generator",
        "The minimax generator loss saturates",
        lambda e: (
            f"D(G(z)) averaged {e['early_fake_score']:.3f} over the first {e['early_steps']} steps: the minimax "
            "loss log(1 - D(G(z))) is flat there, so G gets almost no gradient"
        ),
        lambda e: e["generator_loss"] == "minimax" and e["early_fake_score"] < SATURATED_SCORE,
        ("generator_loss", "early_fake_score", "early_steps"),
    ),
    Signature(
        "discriminator-wins",
        "The discriminator overpowers the generator",
        lambda e: (
            f"at the last epoch D(x) = {e['real_score']:.2f} and D(G(z)) = {e['fake_score']:.2f}, apart by "
            f"{e['real_score'] - e['fake_score']:.2f} (1/2 each at the equilibrium): D tells G's samples from data"
        ),
        lambda e: e["real_score"] - e["fake_score"] > DISCRIMINATOR_GAP,
        ("real_score", "fake_score"),
        unless=("saturating-generator",),
    ),
    Signature(
        "posterior-collapse",
        "Posterior collapse: inactive latent units",
        lambda e: (
            f"{_active(e)}the KL term is {e['kl']:.2f} nats per example: q(z|x) has fallen back to the prior, and "
            "the decoder does without the code"
        ),
        lambda e: (
            e["kl"] < COLLAPSED_KL or ("active_units" in e and e["active_units"] < ACTIVE_SHARE * e["latent_dim"])
        ),
        ("kl",),
        unless=("pixel-mean-loss",),
    ),
    Signature(
        "pixel-mean-loss",
        "The loss averages over pixels where the bound sums",
        lambda e: (
            f"the optimiser weighed the KL term {e['kl_weight']:.0f} times more than the reconstruction term "
            "(the bound weighs them equally): a mean over pixels where the bound needs their sum"
        ),
        lambda e: e["kl_weight"] >= KL_WEIGHT,
        ("kl_weight",),
    ),
    Signature(
        "weak-regularisation",
        "The AAE's regularisation is too weak",
        lambda e: (
            f"codes and prior samples are {e['prior_distance']:.3f} apart by the normalised energy distance (0 for a "
            f"match): {e['off_prior']:.0%} of the codes lie off the prior and {e['holes']:.0%} of prior samples have "
            "no code near them (holes; about 1% each for a match): q(z) does not fill p(z)"
        ),
        lambda e: e["prior_distance"] > PRIOR_DISTANCE,
        ("prior_distance", "holes", "off_prior", "prior_gap"),
        unless=("strong-regularisation",),
    ),
    Signature(
        "strong-regularisation",
        "The AAE's regularisation is too strong",
        lambda e: (
            f"D tells prior samples from codes apart by {e['prior_gap']:.3f} (D(z~p) - D(z~q) at the last epoch): the "
            f"encoder fools D completely, and its reconstructions pay for it ({e['recon']:.1f} nats per image)"
        ),
        lambda e: abs(e["prior_gap"]) < CHANCE_GAP,
        ("prior_gap", "recon"),
    ),
)
"""Every failure signature, in the order they are reported. Names are the anchors of the book's page."""


def _active(e: dict) -> str:
    return f"{e['active_units']} of {e['latent_dim']} latent units are active; " if "active_units" in e else ""


def findings(evidence: dict) -> list[Finding]:
    """The signatures found in ``evidence`` (from :func:`measure`, or a stored row's ``"evidence"``), in the
    order of :data:`SIGNATURES`; an empty list for a run with no known failure signature."""
    fired = [s for s in SIGNATURES if all(k in evidence for k in s.needs) and s.test(evidence)]
    names = {s.name for s in fired}
    return [
        Finding(s.name, s.title, s.explanation(evidence), f"{PAGE}#{s.name}", {k: evidence[k] for k in s.needs})
        for s in fired
        if not names.intersection(s.unless)
    ]


# ----------------------------------------------------------------------------- the evidence
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
        with eval_mode(model), torch.random.fork_rng(devices=[]):
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


# ----------------------------------------------------------------------------- a run
def measure_run(run: str | Path | Trainer, *, samples: bool = True, seed: int = 0) -> dict[str, Any]:
    """:func:`measure` for a run folder (its ``config.json``, ``history.json`` and, with ``samples``, its
    checkpoint) or for the trainer :func:`thesis_lib.train` returns. What a stored row's ``"evidence"`` holds."""
    if isinstance(run, Trainer):
        config = RunConfig(run.model.config, run.schedule)
        return measure(run.model, run.history, config, samples=samples, seed=seed)
    folder = Path(run)
    history, config = read_history(folder), _read_config(folder)
    model = None
    if samples:
        from .api import load

        model = load(folder)
    return measure(model, history, config, samples=samples, seed=seed)


def diagnose(run: str | Path | Trainer, *, samples: bool = True, seed: int = 0) -> list[Finding]:
    """The failure signatures found in a run (a run folder, or what :func:`thesis_lib.train` returns); an empty
    list when none is. ``samples=False`` reads the history only (no model is loaded or sampled).

    >>> for f in diagnose("runs/gan"):                  # doctest: +SKIP
    ...     print(f.name, f.explanation, f.page)
    """
    return findings(measure_run(run, samples=samples, seed=seed))


def _check_folder(folder: Path) -> None:
    if not folder.exists():
        raise CheckpointError(f"no run folder at {folder}: give the folder that 'thesis-lib train --out' wrote")
    if not folder.is_dir():
        raise ValueError(f"{folder} is a file, not a run folder: give the folder that holds its history.json")
    for name in (CONFIG, HISTORY):
        if not (folder / name).is_file():
            raise CheckpointError(
                f"{folder} holds no run: {name} is missing (thesis-lib train --out {folder} writes it)"
            )


def read_history(folder: str | Path) -> History:
    """The :class:`History` of the run in ``folder`` (its ``history.json``); a one-line error if there is none or
    it is not a history: a JSON object of ``steps`` and ``epochs`` (lists of numbers by name) and
    ``train_seconds``."""
    folder = Path(folder)
    _check_folder(folder)
    path = folder / HISTORY
    try:
        data = json.loads(path.read_text())
        history = History.from_dict(data)
        numbers = [v for series in (history.steps, history.epochs) for values in series.values() for v in values]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers):
            raise TypeError("a logged value is not a number")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise CheckpointError(
            f"{path} is not a readable training history ({e.__class__.__name__}): expected the JSON that training "
            "writes, with steps, epochs and train_seconds"
        ) from None
    return history


def _read_config(folder: Path) -> RunConfig:
    config = load_config(folder / CONFIG)
    if not isinstance(config, RunConfig):
        raise CheckpointError(f"{folder / CONFIG} has no training schedule: it is not a run's config.json")
    return config
