"""Diagrams of networks."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .style import new_ax

__all__ = ["autoencoder_diagram"]


def autoencoder_diagram(
    sizes: Sequence[int] = (6, 3, 6),
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Diagram of a fully connected autoencoder: one column of units per layer, every unit joined to every unit of the next layer.

    ``sizes`` are the drawn units per layer, input first; the middle layer (the smallest) is the
    code y = E(x). The default ``(6, 3, 6)`` is the thesis's simplest autoencoder (Figure 1):
    input, one hidden layer (the code) and output. Longer lists draw the shrinking/growing MLP,
    e.g. ``(8, 5, 2, 5, 8)``. ``labels`` names the layers (default: input x, code y = E(x),
    output D(y) ≈ x, and "hidden" for the others). Brackets under the layers mark the encoder E
    (input to code) and the decoder D (code to output).
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 3 or any(s < 1 for s in sizes):
        raise ValueError(f"sizes needs at least 3 layers of >= 1 units (input, code, output), got {list(sizes)}")
    code = int(np.argmin(sizes[1:-1])) + 1
    if labels is None:
        labels = ["hidden"] * len(sizes)
        labels[0], labels[code], labels[-1] = "input\n$x$", "code\n$y = E(x)$", "output\n$D(y) \\approx x$"
    if len(labels) != len(sizes):
        raise ValueError(f"{len(sizes)} layers but {len(labels)} labels")
    ax = new_ax(ax, (max(4.0, 1.3 * len(sizes) + 1.0), 3.4))
    top = max(sizes)
    xs = np.arange(len(sizes), dtype=float)
    ys = [np.linspace(-(s - 1) / 2, (s - 1) / 2, s) if s > 1 else np.zeros(1) for s in sizes]
    colors = ["tab:blue" if i == 0 else "tab:green" if i == len(sizes) - 1 else "tab:orange" if i == code else "0.75" for i in range(len(sizes))]
    for i in range(len(sizes) - 1):
        for y0 in ys[i]:
            for y1 in ys[i + 1]:
                ax.plot([xs[i], xs[i + 1]], [y0, y1], color="0.55", lw=0.6, zorder=1)
    for i, (x, y) in enumerate(zip(xs, ys)):
        ax.scatter(np.full_like(y, x), y, s=260, color=colors[i], edgecolors="black", linewidths=0.8, zorder=2)
        ax.text(x, (top - 1) / 2 + 0.75, labels[i], ha="center", va="bottom", fontsize="small")
    low = -(top - 1) / 2 - 0.7
    for name, (a, b) in (("encoder $E$", (0, code)), ("decoder $D$", (code, len(sizes) - 1))):
        ax.annotate("", xy=(xs[a], low), xytext=(xs[b], low), arrowprops=dict(arrowstyle="|-|", lw=1.0, shrinkA=0, shrinkB=0,
                                                                                      mutation_scale=3))
        ax.text((xs[a] + xs[b]) / 2, low - 0.25, name, ha="center", va="top", fontsize="small")
    ax.set_xlim(-0.6, xs[-1] + 0.6)
    ax.set_ylim(low - 1.0, (top - 1) / 2 + 1.9)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax.figure
