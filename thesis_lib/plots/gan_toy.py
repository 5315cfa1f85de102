"""The GAN's 1-D toy figure (Goodfellow et al. 2014, Figure 1): p_data, p_g, D(x) and the map z -> G(z).

The numbers come from :func:`thesis_lib.toy_models.gan_1d_curves` (and :class:`thesis_lib.callbacks.GAN1DSnapshots`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..toy_models import kde
from .style import new_ax

__all__ = ["plot_gan_1d", "gan_1d_snapshots"]


def plot_gan_1d(
    x,
    p_data,
    p_g=None,
    d=None,
    samples=None,
    z=None,
    g_z=None,
    ax: Axes | None = None,
    bandwidth: float | None = None,
    title: str | None = None,
    legend: bool = True,
) -> Figure:
    """Goodfellow et al. (2014), Figure 1 style: p_data, p_g and D(x) over a 1-D x.

    Args:
        x: the x grid, shape ``(M,)``.
        p_data: the data density on the grid: black dotted.
        p_g: the generator's density on the grid: green solid. If ``None`` and ``samples``
            (generator samples) are given, a Gaussian KDE of them (``bandwidth``) is drawn.
        d: the discriminator's output D(x) on the grid: blue dashed.
        z, g_z: optional mapping x = G(z) (1-D noise): ``z`` is drawn on a lower line, rescaled
            to the x axis's span, with a line from each z up to G(z) on the x line, showing how
            G contracts (high p_g) or stretches (low p_g) the noise.
        title, legend: the panel's title and whether to draw the legend.

    All arrays may be numpy arrays or tensors. For a trained toy GAN use
    ``plot_gan_1d(**gan_1d_curves(model))``; for the four panels (a)-(d) pass one ``ax`` each.
    """
    x = np.asarray(x, dtype=float).ravel()
    ax = new_ax(ax, (5.0, 3.4))
    if p_g is None and samples is not None:
        p_g = kde(torch.as_tensor(np.asarray(samples, dtype=float)), torch.as_tensor(x), bandwidth).numpy()
    top = max(
        np.max(np.asarray(p_data, dtype=float)),
        1.0 if d is not None else 0.0,
        np.max(np.asarray(p_g, dtype=float)) if p_g is not None else 0.0,
    )
    ax.plot(x, np.asarray(p_data, dtype=float), ls=":", color="black", lw=2, label=r"$p_{\mathrm{data}}$")
    if p_g is not None:
        ax.plot(x, np.asarray(p_g, dtype=float), color="green", lw=1.6, label=r"$p_g$")
    if d is not None:
        ax.plot(x, np.asarray(d, dtype=float), ls="--", color="blue", lw=1.6, label="$D(x)$")
    bottom = 0.0
    if z is not None and g_z is not None:
        z, g_z = np.asarray(z, dtype=float).ravel(), np.asarray(g_z, dtype=float).ravel()
        y_x, y_z = -0.12 * top, -0.45 * top
        span = (z.max() - z.min()) or 1.0
        zx = x.min() + (z - z.min()) / span * (x.max() - x.min()) * 0.8 + 0.1 * (x.max() - x.min())
        ax.hlines([y_x, y_z], x.min(), x.max(), color="black", lw=0.8)
        for a, b in zip(zx, g_z):
            ax.annotate(
                "",
                xy=(b, y_x),
                xytext=(a, y_z),
                arrowprops=dict(arrowstyle="->", lw=0.6, color="0.3", shrinkA=0, shrinkB=0),
            )
        ax.text(x.min(), y_x, "x ", ha="right", va="center")
        ax.text(x.min(), y_z, "z ", ha="right", va="center")
        bottom = -0.55 * top
    ax.set_xlim(x.min(), x.max())
    ax.set_ylim(bottom if bottom < 0 else 0.0, 1.08 * top)
    if bottom < 0:  # no negative ticks under the mapping lines
        ax.set_yticks([t for t in ax.get_yticks() if 0 <= t <= 1.08 * top])
    ax.set_xlabel("x")
    if legend:
        ax.legend(fontsize="small", loc="upper right")
    if title:
        ax.set_title(title)
    return ax.figure


def gan_1d_snapshots(
    snapshots,
    ncols: int = 4,
    figsize: tuple[float, float] | None = None,
    mapping: bool = True,
    p_g_max: float | None = 1.0,
) -> Figure:
    """Panels (a), (b), ... of a 1-D GAN at several moments of training (Goodfellow et al., Figure 1).

    ``snapshots``: a list of ``(iteration, curves)`` with ``curves`` from :func:`gan_1d_curves`,
    e.g. :attr:`thesis_lib.callbacks.GAN1DSnapshots.snapshots`. Each panel shows p_data (black
    dotted), p_g (green), D(x) (blue dashed) and, with ``mapping`` and a 1-D noise space, the
    map z -> G(z); only the first panel has a legend. ``p_g`` is clipped at ``p_g_max`` (early
    on G puts all its mass in a narrow spike) so that every panel has the same scale.
    """
    snapshots = list(snapshots)
    if not snapshots:
        raise ValueError("no snapshots to draw (a cached run that was loaded, not trained, records none)")
    n = len(snapshots)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    figsize = figsize or (2.5 * ncols, 2.3 * nrows + 0.2)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, layout="constrained", squeeze=False)
    for i, (ax, (step, curves)) in enumerate(zip(axes.flat, snapshots)):
        curves = dict(curves) if mapping else {k: v for k, v in curves.items() if k not in ("z", "g_z")}
        if p_g_max is not None and curves.get("p_g") is not None:
            curves["p_g"] = np.minimum(np.asarray(curves["p_g"], dtype=float), p_g_max)
        plot_gan_1d(**curves, ax=ax, legend=i == 0, title=f"({chr(ord('a') + i)}) iteration {step}")
        if i % ncols:
            ax.set_ylabel("")
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    return fig
