"""An experiment of the registry (:mod:`thesis_lib.papers`): a figure of a paper, a chapter's long experiment, or a
failure of the book's page "When training goes wrong" (:mod:`thesis_lib.failures`), and how this library re-measures
it. ``thesis-lib reproduce NAME`` trains its runs and stores the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .config import RunConfig


@dataclass(frozen=True)
class Experiment:
    """One figure of one paper and how this library re-measures it.

    Attributes:
        name: the file stem and the ``thesis-lib reproduce`` argument.
        paper: where the figure is reported.
        reported: what the paper reports, e.g. ``{"parzen_ll": 225, "parzen_se": 2}``.
        note: what differs from the paper's setup.
        runs: the runs to train (model config and schedule), by label.
        metrics: metric groups of :func:`thesis_lib.metrics.evaluate_model`.
        evaluate: extra arguments of :func:`~thesis_lib.metrics.evaluate_model` (``k``, ``n_test`` ...).
        real_data: also score real training images as the reference row.
        diagnose: also measure what limits the Parzen estimate of the runs' samples: their faint
            pixels, and the estimate after a median filter and after a slight blur (and the same
            for the real-data row).
        codes: also save a picture of each run's codes of 5,000 test images against samples of
            its prior (``plots.prior_vs_posterior``), ``NAME-LABEL-codes.png``.
        proposal_scales: also estimate each run's -log p(x) by importance sampling with the
            proposal N(f(x), s² I) for each s (k = 100, the first 1,000 test images), for runs
            that define a likelihood (``nll_by_proposal_scale``).
        expect: the gallery of failures (the book's page "When training goes wrong"): for each run
            label, the failure signatures of :mod:`thesis_lib.diagnosis` its evidence must show (``()``
            for a cure). With it, each row also stores ``evidence`` (:func:`~thesis_lib.diagnosis.measure_run`)
            and the names of its ``findings``, and each failing run's training snapshots (at most
            :data:`STORED_SNAPSHOTS` of them, ``NAME-LABEL-snapshots.pt``) for its replay.
        steps: per-step logs to store (``row["steps"]``, e.g. ``("D(x)", "D(G(z))")``), the first
            :data:`STORED_STEPS` steps of each.
    """

    name: str
    paper: str
    reported: dict[str, float]
    note: str
    runs: dict[str, RunConfig] = field(default_factory=dict)
    metrics: tuple[str, ...] = ("parzen",)
    evaluate: dict[str, Any] = field(default_factory=dict)
    real_data: bool = False
    diagnose: bool = False
    codes: bool = False
    proposal_scales: tuple[float, ...] = ()
    expect: dict[str, tuple[str, ...]] = field(default_factory=dict)
    steps: tuple[str, ...] = ()

    def fails(self, label: str) -> bool:
        """Whether run ``label`` is a failing run of the gallery: it must show a signature and is not the cure
        (the cure of a saturating generator still shows ``discriminator-wins``, a failure of another section)."""
        return bool(self.expect.get(label)) and label != "cured"


STORED_SNAPSHOTS = 20
"""Snapshots a failing run of the gallery keeps (evenly spaced in recorded order: the early ones stay dense)."""
STORED_STEPS = 1000
"""Per-step logs a row keeps: the first 1,000 steps of each (the early game; the epochs' logs are all kept)."""
