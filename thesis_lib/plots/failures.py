"""The figures of the page "When training goes wrong" (``book/failures.ipynb``): stored pictures side by side, where a
collapsing generator puts its samples snapshot by snapshot, and the discriminator's per-step outputs.

They draw what a failure's stored row holds (:mod:`thesis_lib.failures`): pictures by file, histograms and per-step
logs as lists, so the page trains and samples nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .curves import _running_mean

WINDOW = 25
"""The per-step logs are drawn as a trailing mean over 25 steps (one step's D(x) is one minibatch's)."""


def _letter(i: int) -> str:
    return f"({chr(97 + i)})"


def _picture(ax: Axes, path: str | Path, title: str, right_half: bool = False) -> None:
    image = plt.imread(str(path))
    ax.imshow(image[:, image.shape[1] // 2 :] if right_half else image, cmap="gray")
    ax.set_title(title)
    ax.set_axis_off()


def pictures(paths: Sequence[str | Path], right_half: bool = False, size: float = 3.2) -> Figure:
    """Stored pictures (sample grids, scatter plots) side by side, as panels (a), (b), ...; with ``right_half``, the
    right half of each (of a prior-against-codes map, the codes: its left half, the prior, is the same for every
    run)."""
    fig, axes = plt.subplots(1, len(paths), figsize=(size * len(paths), size), layout="constrained")
    for i, (ax, path) in enumerate(zip(np.atleast_1d(axes), paths)):
        _picture(ax, path, _letter(i), right_half)
    return fig


def mode_hops(runs: Sequence[tuple[Sequence[int], Sequence[Sequence[int]]]]) -> Figure:
    """For each run, given as (its snapshots' steps, each snapshot's mode histogram: see
    :func:`thesis_lib.evidence.modes_over_training`), a grid with one row per snapshot (the first at the top) and one
    column per mode, darker for a larger share of the snapshot's samples that lie near a mode; white where none do."""
    fig, axes = plt.subplots(1, len(runs), figsize=(4 * len(runs), 4.2), layout="constrained")
    for i, (ax, (steps, histograms)) in enumerate(zip(np.atleast_1d(axes), runs)):
        h = np.asarray(histograms, dtype=float)
        ax.imshow(h / np.maximum(h.sum(1, keepdims=True), 1), cmap="Greys", vmin=0, vmax=1, aspect="auto")
        ax.set_yticks(range(len(steps)), [str(s) for s in steps], fontsize=7)
        ax.set_xticks(range(h.shape[1]))
        ax.set_title(_letter(i))
    return fig


def discriminator_scores(runs: Sequence[dict[str, Sequence[float]]], keys=("D(x)", "D(G(z))")) -> Figure:
    """One panel per run: its per-step logs ``keys`` (a trailing mean over :data:`WINDOW` steps) against the
    discriminator step, with the equilibrium's 1/2 dotted."""
    fig, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 2.8), layout="constrained", sharey=True)
    for i, (ax, steps) in enumerate(zip(np.atleast_1d(axes), runs)):
        for key, colour in zip(keys, ("C0", "C3")):
            ax.plot(_running_mean(np.asarray(steps[key], dtype=float), WINDOW), color=colour, label=f"${key}$")
        ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
        ax.set_ylim(0, 1)
        ax.set_xlabel("$t$")
        ax.set_title(_letter(i))
    np.atleast_1d(axes)[0].legend(loc="center right")
    return fig


def samples_and_shares(paths: Sequence[str | Path], histograms: Sequence[Sequence[int]]) -> Figure:
    """Each run's stored grid of samples, and under it the share of its samples in each class (the judge's
    histogram), with a tenth each dashed: panels (a), (b), ... then the bars."""
    fig = plt.figure(figsize=(3.2 * len(paths), 5.8), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[3.2, 2.4])
    for i, (ax, path) in enumerate(zip(np.atleast_1d(top.subplots(1, len(paths))), paths)):
        _picture(ax, path, _letter(i))
    for i, (ax, counts) in enumerate(zip(np.atleast_1d(bottom.subplots(1, len(paths), sharey=True)), histograms)):
        h = np.asarray(counts, dtype=float)
        ax.bar(range(len(h)), h / h.sum(), color="0.3")
        ax.axhline(1 / len(h), color="C3", lw=1, ls="--")
        ax.set_xticks(range(len(h)))
        ax.set_title(_letter(len(paths) + i))
    return fig


def fake_scores_and_samples(series: dict[str, Sequence[float]], paths: Sequence[str | Path], mark: int) -> Figure:
    """(a) D(G(z)) per step of each named run (a trailing mean over :data:`WINDOW` steps; step ``mark`` dotted),
    then each run's stored grid of samples, (b), (c), ..."""
    fig = plt.figure(figsize=(9.6, 6), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[2.8, 3.2])
    ax = top.subplots()
    for (name, values), colour in zip(series.items(), ("C3", "C0", "C2")):
        ax.plot(_running_mean(np.asarray(values, dtype=float), WINDOW), color=colour, label=f"$D(G(z))$, {name}")
    ax.axvline(mark, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("$t$")
    ax.set_ylim(0, 0.6)
    ax.set_title(_letter(0))
    ax.legend()
    for i, (ax, path) in enumerate(zip(np.atleast_1d(bottom.subplots(1, len(paths))), paths)):
        _picture(ax, path, _letter(i + 1))
    return fig
