"""What the figures share: new axes, one colour per class, class names and the class scatter."""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from ..data import Dataset, class_names

CLASS_COLORS = plt.get_cmap("tab10").colors  # one colour per class, shared by every scatter
TRAIN_COLOR_CYCLE = plt.get_cmap("tab10").colors
PRIOR_COLOR = "0.6"


def new_ax(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def class_names_of(data) -> list[str]:
    """The class names of a :class:`~thesis_lib.data.Dataset` (the labels 0-9 for bare tensors)."""
    return class_names(data.name, data.n_classes) if isinstance(data, Dataset) else [str(i) for i in range(10)]


def images_of(data):
    """The images of a :class:`~thesis_lib.data.Dataset`, or ``data`` itself (a tensor)."""
    return data.x if isinstance(data, Dataset) else data


def scatter_classes(ax: Axes, points: np.ndarray, labels, names: Sequence[str], s: float, alpha: float) -> None:
    if labels is None:
        ax.scatter(points[:, 0], points[:, 1], s=s, alpha=alpha, color=CLASS_COLORS[0], linewidths=0)
        return
    labels = np.asarray(labels)
    for c in np.unique(labels):
        m = labels == c
        ax.scatter(points[m, 0], points[m, 1], s=s, alpha=alpha, color=CLASS_COLORS[int(c) % 10], linewidths=0,
                   label=names[int(c)] if int(c) < len(names) else str(int(c)), rasterized=True)


def class_legend(ax: Axes, title: str = "class") -> None:
    leg = ax.legend(title=title, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small", markerscale=3, frameon=False)
    for handle in leg.legend_handles:
        handle.set_alpha(1.0)
