"""A chapter's figure as the book places it: numbered, captioned and described.

A chapter draws a figure with the functions of this package and hands it to the page with
:func:`glue_figure`; a Markdown cell then places it with myst-nb's ``glue:figure`` directive, which
gives it its name (the target of ``{numref}``), its alternative text and its caption
(``_ext/thesis_figures.py`` numbers it "Figure 3" / "Slika 3" and checks all three)::

    plots.show_reconstructions(ae, test, n=12)
    plots.glue_figure("fig-ae-reconstructions")

    ```{glue:figure} fig-ae-reconstructions
    :name: fig-ae-reconstructions
    :alt: Two rows of twelve digits: test images above, their reconstructions below.

    Test digits (top) and the autoencoder's reconstructions (bottom).
    ```
"""

from __future__ import annotations

import os

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

__all__ = ["glue_figure", "BOOK_ENV"]

BOOK_ENV = "THESIS_LIB_STATIC_WIDGETS"
"""Set where the notebook is executed for a page without a kernel (``scripts/build_book.py``,
``scripts/notebooks.py run``); the latent-space widgets read it too."""


def glue_figure(name: str, fig: Figure | None = None) -> None:
    """Hand ``fig`` (default: the current figure) to the page as ``name`` for its ``glue:figure``.

    In the book build (``$THESIS_LIB_STATIC_WIDGETS``) the figure is shown only where the page places
    it, with its number, caption and alternative text; run live (JupyterLab, Colab, nbval) it is
    also shown under the cell, as ``plt.show()`` would show it.
    """
    from myst_nb import glue

    if not isinstance(name, str) or not name:
        raise ValueError(
            f"glue_figure: name={name!r}; expected the figure's non-empty name, e.g. 'fig-ae-reconstructions'"
        )
    fig = plt.gcf() if fig is None else fig
    if not isinstance(fig, Figure):
        raise ValueError(
            (
                f"glue_figure: fig is a {type(fig).__name__}; expected a matplotlib Figure (what the plots functions "
                "return)"
            )
        )
    glue(name, fig, display=False)
    if os.environ.get(BOOK_ENV):
        plt.close(fig)
    else:
        plt.show()
