"""Curves: training histories, and the two generator losses with their gradients."""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .. import losses
from ..history import History
from .style import TRAIN_COLOR_CYCLE, new_ax

__all__ = ["plot_history", "generator_gradients", "class_counts"]


def _history_of(history):
    """A :class:`~thesis_lib.history.History` from a History, a trainer (``.history``) or its dict."""
    if not isinstance(history, (History, dict)):
        history = history.history  # a trainer or a finished run
    if isinstance(history, dict):
        history = History.from_dict(history)
    return history


def _running_mean(v: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` values (fewer at the start), same length as ``v``."""
    if window <= 1:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, len(v) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def plot_history(
    history,
    keys: Sequence[str] | None = None,
    per: str = "epoch",
    ax: Axes | None = None,
    smooth: int | str | None = "auto",
    include_val: bool = True,
    logy: bool = False,
    title: str | None = None,
) -> Figure:
    """Loss curves from a :class:`~thesis_lib.history.History` (or a trainer, or its dict).

    Args:
        keys: the logged names to plot (``"kl"``, ``"D"``, ``"val/-elbo"`` ...); default all.
        per: ``"epoch"``: per-epoch means, x = epoch 1, 2, ...; with ``include_val`` each
            training key's ``val/<key>`` is drawn dashed in the same colour.
            ``"step"``: every logged value, x = training iteration (a quantity logged k
            times per iteration, like the GAN's ``D``, is spread over the iteration).
        smooth: running-mean window for ``per="step"``: an int, ``None`` (raw) or ``"auto"``
            (about 1/50 of the run). The raw values are drawn faintly underneath.
        include_val: add the validation curves of the chosen keys (``per="epoch"`` only).
        logy: logarithmic y axis.
    """
    h = _history_of(history)
    if per not in ("epoch", "step"):
        raise ValueError(f"per must be 'epoch' or 'step', got {per!r}")
    source = h.epochs if per == "epoch" else h.steps
    if not source:
        raise ValueError(f"the history has no per-{per} values (was the model trained?)")
    if keys is None:
        keys = list(source)
    elif isinstance(keys, str):
        keys = [keys]
    missing = [k for k in keys if k not in source]
    if missing:
        raise KeyError(
            (
                f"{', '.join(map(repr, missing))} not in the history's per-{per} values; it has "
                f"{', '.join(map(repr, source))}"
            )
        )
    ax = new_ax(ax, (6.0, 3.6))
    train_keys = [k for k in keys if not k.startswith("val/")]
    colors = {k: TRAIN_COLOR_CYCLE[i % 10] for i, k in enumerate(train_keys)}
    for k in keys:
        if k.startswith("val/") and k[4:] not in colors:
            colors[k[4:]] = TRAIN_COLOR_CYCLE[len(colors) % 10]

    if per == "epoch":
        drawn = set()
        for k in keys:
            base = k[4:] if k.startswith("val/") else k
            todo = [k] + ([f"val/{k}"] if include_val and not k.startswith("val/") and f"val/{k}" in source else [])
            for name in todo:
                if name in drawn:
                    continue
                drawn.add(name)
                v = np.asarray(source[name], dtype=float)
                val = name.startswith("val/")
                ax.plot(
                    np.arange(1, len(v) + 1),
                    v,
                    ls="--" if val else "-",
                    marker="o",
                    ms=3,
                    color=colors[base],
                    label=name if val else f"{name} (train)" if f"val/{name}" in todo else name,
                )
        ax.set_xlabel("epoch")
        n_ep = max(len(source[k]) for k in drawn)
        if n_ep <= 20:
            ax.set_xticks(np.arange(1, n_ep + 1))
    else:
        n_iter = min(len(v) for v in h.steps.values())
        for k in keys:
            v = np.asarray(source[k], dtype=float)
            x = np.arange(1, len(v) + 1) * (n_iter / len(v))
            w = max(1, len(v) // 50) if smooth == "auto" else (smooth or 1)
            if w > 1:
                ax.plot(x, v, color=colors[k], alpha=0.2, lw=0.8)
                ax.plot(x, _running_mean(v, w), color=colors[k], lw=1.5, label=f"{k} (mean of {w})")
            else:
                ax.plot(x, v, color=colors[k], lw=1.0, label=k)
        ax.set_xlabel("iteration")
    if logy:
        ax.set_yscale("log")
    ax.set_ylabel("value")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return ax.figure


def generator_gradients(d_min: float = 1e-3, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    r"""Why the minimax generator loss saturates: both generator losses and their gradients.

    Left: :func:`~thesis_lib.losses.generator_loss_minimax` (``log(1 - D)``, descended) and
    :func:`~thesis_lib.losses.generator_loss_nonsaturating` (``-log D``) as functions of
    ``D = D(G(z))``. Right: the size of their gradients with respect to D's logit ``a``
    (``D = sigmoid(a)``), computed by autograd through the library's losses: ``D`` for the
    minimax loss and ``1 - D`` for the non-saturating one. Early in training D(G(z)) is near 0,
    where the minimax gradient vanishes and the non-saturating one is largest.
    """
    d = torch.linspace(d_min, 1 - d_min, 400, dtype=torch.float64)
    a = torch.logit(d).requires_grad_(True)
    curves = {}
    for name, fn in (
        ("minimax: $\\log(1 - D(G(z)))$", losses.generator_loss_minimax),
        ("non-saturating: $-\\log D(G(z))$", losses.generator_loss_nonsaturating),
    ):
        loss = fn(a) * a.numel()  # the losses average over the batch; undo it for per-example gradients
        (grad,) = torch.autograd.grad(loss, a)
        per_example = torch.stack([fn(a[i : i + 1]) for i in range(0, a.numel())]).detach()
        curves[name] = (per_example.numpy(), grad.abs().numpy())
    if ax is None:
        fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.3), layout="constrained")
    else:
        axes = list(ax)
        fig = axes[0].figure
    for (name, (loss, grad)), color in zip(curves.items(), ("tab:red", "tab:green")):
        axes[0].plot(d.numpy(), loss, color=color, label=name)
        axes[1].plot(d.numpy(), grad, color=color, label=name)
    axes[0].set_ylabel("generator loss (descended)")
    axes[0].set_title("the two generator losses")
    axes[1].set_ylabel(r"$|\partial \mathcal{L}_G / \partial a|$,  $D = \sigma(a)$")
    axes[1].set_title("gradient w.r.t. D's logit")
    for a_ in axes:
        a_.set_xlabel("$D(G(z))$")
        a_.set_xlim(0, 1)
        a_.grid(alpha=0.3)
    axes[1].axvspan(0, 0.1, color="0.9", zorder=0)
    axes[1].text(0.02, 0.5, "early\ntraining", fontsize="small", va="center")
    axes[0].legend(fontsize="small")
    return fig


def class_counts(
    histograms: dict[str, Sequence[int]],
    class_names: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str = "",
) -> Figure:
    """Grouped bars: for each named set of samples, how many the judge classifies as each class
    (the ``label_histogram`` of :func:`thesis_lib.metrics.sample_quality`), as a share of the set."""
    ax = new_ax(ax, (8, 2.8))
    names = list(histograms)
    n_classes = len(next(iter(histograms.values())))
    labels = list(class_names) if class_names is not None else [str(i) for i in range(n_classes)]
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        counts = np.asarray(histograms[name], dtype=float)
        ax.bar(np.arange(n_classes) + (i - (len(names) - 1) / 2) * width, counts / counts.sum(), width, label=name)
    ax.axhline(1 / n_classes, color="black", lw=0.8, ls=":")
    ax.set_xticks(np.arange(n_classes), labels)
    ax.set_ylabel("share of samples")
    ax.legend(fontsize=8, ncol=len(names))
    ax.set_title(title)
    return ax.figure
