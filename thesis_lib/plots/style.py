"""What the figures share: new axes, one colour per class, class names and the class scatter.

**Colour is never the only channel** (WCAG 1.4.1): a class scatter also writes each class's name
(the digit) at the centre of its points (:func:`label_classes`), so a reader who cannot tell two
colours apart still reads which cluster is which. The class colours themselves
(:data:`CLASS_COLORS`) are Paul Tol's "muted" scheme, designed for categorical data under
colour-vision deficiencies, with black as the tenth: under deuteranomaly, protanomaly and
tritanomaly at full severity (Machado et al. 2009, as ``colorspacious`` simulates them) and in
normal vision, every two class colours stay at least 11.8 apart in CAM02-UCS (tritanomaly, rose
against purple) and the prior's grey 10.3 from the nearest (teal, protanomaly), above
:data:`MIN_CVD_DISTANCE`; each class colour keeps :data:`MIN_WHITE_DISTANCE` from the white
background (least 20.0, sand under tritanomaly). ``tests/test_colour_channels.py`` measures it.
Matplotlib's ``tab10``, used before, falls to 1.6 (orange against green, protanomaly).
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.patheffects as pe
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from ..data import Dataset, class_names

CLASS_COLORS = (
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
    "#AA4499",
    "#000000",
)
"""One colour per class (0-9), shared by every class scatter: Paul Tol's muted scheme (indigo, cyan, teal,
green, olive, sand, rose, wine, purple) and black."""
TRAIN_COLOR_CYCLE = plt.get_cmap("tab10").colors
PRIOR_COLOR = "#BBBBBB"
"""Samples of the prior: a light grey that stays apart from every class colour (the darker 0.6 grey met
teal under deuteranomaly)."""
MIN_CVD_DISTANCE = 10.0
"""Least CAM02-UCS distance (about ten just-noticeable differences) between any two class colours, or a
class colour and the prior's grey, in normal vision and under each simulated colour-vision deficiency."""
MIN_WHITE_DISTANCE = 18.0
"""Least CAM02-UCS distance of a class colour from the figures' white background, in every vision."""


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


def class_name(names: Sequence[str], c: int) -> str:
    return names[c] if c < len(names) else str(c)


def scatter_classes(
    ax: Axes, points: np.ndarray, labels, names: Sequence[str], s: float, alpha: float, centres: bool = True
) -> None:
    """``points`` coloured by class; with ``centres``, each class's name written at the centre of its points."""
    if labels is None:
        ax.scatter(points[:, 0], points[:, 1], s=s, alpha=alpha, color=CLASS_COLORS[0], linewidths=0)
        return
    labels = np.asarray(labels)
    for c in np.unique(labels):
        m = labels == c
        ax.scatter(
            points[m, 0],
            points[m, 1],
            s=s,
            alpha=alpha,
            color=CLASS_COLORS[int(c) % 10],
            linewidths=0,
            label=class_name(names, int(c)),
            rasterized=True,
        )
    if centres:
        label_classes(ax, points, labels, names)


def label_classes(ax: Axes, points, labels, names: Sequence[str], fontsize: float = 11) -> None:
    """Each class's name at the median of its points, black on a white halo: the clusters are named
    without their colour (WCAG 1.4.1)."""
    points, labels = np.asarray(points), np.asarray(labels)
    for c in np.unique(labels):
        x, y = np.median(points[labels == c], axis=0)[:2]
        ax.text(
            float(x),
            float(y),
            class_name(names, int(c)),
            ha="center",
            va="center",
            fontsize=fontsize,
            fontweight="bold",
            color="black",
            path_effects=[pe.withStroke(linewidth=4, foreground="white")],
            gid=f"class-label-{int(c)}",
        )


def class_legend(ax: Axes, title: str = "class") -> None:
    leg = ax.legend(
        title=title, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small", markerscale=3, frameon=False
    )
    for handle in leg.legend_handles:
        handle.set_alpha(1.0)
