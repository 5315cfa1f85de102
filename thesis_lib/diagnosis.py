"""Failure signatures: what a run's history and a few samples say about how its training went wrong.

Two steps, so that the same checks run on a live run and on a stored result:

1. :func:`~thesis_lib.evidence.measure` collects the *evidence*: plain numbers and lists (JSON-able),
   in seconds, from the history and, where cheap, from the model's samples and codes
   (:mod:`thesis_lib.evidence`). Each key is present only where it can be measured, and the keys
   present decide which signatures apply: neither module asks which kind of model it holds.
2. :data:`SIGNATURES` each test the evidence; :func:`findings` lists those that fire, each with a
   one-line explanation naming the measured number and the book page that treats it
   (``failures.html#<name>``). A stored row is checked with ``findings(row["evidence"])``.

:func:`diagnose` does both for a run folder or the trainer :func:`thesis_lib.train` returns; the CLI's
``thesis-lib diagnose RUN_DIR`` prints its findings.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .checkpoint import CHECKPOINT, CONFIG, HISTORY
from .config import RunConfig, load_config
from .errors import CheckpointError
from .evidence import measure
from .history import History
from .trainer import Trainer

__all__ = ["SIGNATURES", "Signature", "Finding", "findings", "measure", "measure_run", "diagnose", "read_history"]

PAGE = "failures.html"
"""The book page "When training goes wrong"; each signature's section has its name as MyST label."""

# ----------------------------------------------------------------------------- thresholds
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
ACTIVE_SHARE = 0.25
"""Posterior collapse: fewer than a quarter of the latent units are active (the chapter's 32-D VAE keeps 22 after 4
epochs; Burda et al. found 19-20 of 50 active in theirs)."""
COLLAPSED_KL = 1.0
"""Posterior collapse: the KL term below 1 nat per example, so the code tells the decoder almost nothing about x."""
KL_WEIGHT = 10.0
"""The loss-scaling mistake: the optimiser weighs the KL term at least 10 times more than the reconstruction term
(the bound weighs them equally; a mean over D pixels in place of their sum weighs the KL D times more)."""
PRIOR_DISTANCE = 0.02
"""Weak regularisation: the normalised energy distance between codes and prior samples above 0.02, twice the
chapter's AAE's (0.010; 0 when q(z) = p(z)): q(z) does not fill p(z) at the scale of the prior as a whole."""
CHANCE_GAP = 0.005
"""Strong regularisation: the AAE's discriminator tells prior samples from codes apart by less than 0.005 on average
(D(z~p) - D(z~q) at the last epoch; the chapter's AAE about 0.05, the 8-D one of the comparison 0.020, with a ten
times larger reg_lr 0.0007): the encoder fools D completely, at the reconstruction's cost."""


# ----------------------------------------------------------------------------- signatures
@dataclass(frozen=True)
class Signature:
    """A failure signature: ``test(evidence)`` decides, ``explanation(evidence)`` says why in one line.

    It applies only to evidence that has every key of ``needs`` (and reads those of ``uses`` where present); it is
    left out of the findings when one of ``unless`` (a signature that causes it, whose cure comes first) is found.
    """

    name: str
    title: str
    explanation: Callable[[dict], str]
    test: Callable[[dict], bool]
    needs: tuple[str, ...]
    unless: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()


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
        # a G without gradient draws blobs, and a VAE whose codes carry nothing draws one average digit: what the
        # judge calls them means nothing, and the cause is what to cure
        unless=("saturating-generator", "posterior-collapse", "pixel-mean-loss"),
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
            f"{_active(e)}the KL term is {e['kl']:.2f} nats per example: where q(z|x) has fallen back to the prior, "
            "the code tells the decoder nothing about x"
        ),
        lambda e: (
            e["kl"] < COLLAPSED_KL or ("active_units" in e and e["active_units"] < ACTIVE_SHARE * e["latent_dim"])
        ),
        ("kl",),
        unless=("pixel-mean-loss",),
        uses=("active_units", "latent_dim"),
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
        Finding(
            s.name,
            s.title,
            s.explanation(evidence),
            f"{PAGE}#{s.name}",
            {k: evidence[k] for k in (*s.needs, *s.uses) if k in evidence},
        )
        for s in fired
        if not names.intersection(s.unless)
    ]


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

        if not (folder / CHECKPOINT).is_file():
            raise CheckpointError(
                f"no checkpoint at {folder / CHECKPOINT}: the samples need the model; read the history alone with "
                "samples=False (thesis-lib diagnose --no-samples)"
            )
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
