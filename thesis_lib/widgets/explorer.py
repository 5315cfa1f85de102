"""The latent explorer's data model: options, slider axes and the decoded point; no rendering.

A point is ``z = base + Σ_i value_i * directions[i]``, for each *option* (a class of a
conditional GAN, the prior of an AAE ...) with its own decoder, base, directions and slider
limits. The views render what it computes: :mod:`.live` (ipywidgets) and :mod:`.static` (the
book's HTML); :mod:`.explore` builds one for a trained model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import torch
from torch import Tensor

from ..profiling import stage
from . import decoder_view, live
from .static import STATIC_MAX_BYTES

__all__ = ["LatentExplorer", "DecodeFn"]

DecodeFn = Callable[[Tensor], Tensor]

# The book build sets this (scripts/build_book.py): only then does a displayed explorer carry its
# static HTML, whose export (tracing, pruning, GPTQ) takes seconds; a reader's Jupyter never pays it.
STATIC_ENV = "THESIS_LIB_STATIC_WIDGETS"


def static_html_wanted() -> bool:
    """Whether a display should carry the static HTML: only where a page without a kernel shows it
    (``$THESIS_LIB_STATIC_WIDGETS``)."""
    return os.environ.get(STATIC_ENV, "") not in ("", "0")


def _per_option(value, names: Sequence[str], what: str) -> dict:
    if isinstance(value, Mapping):
        missing = [k for k in names if k not in value]
        if missing:
            raise ValueError(f"{what} has no entry for option(s) {', '.join(map(repr, missing))}")
        return {k: value[k] for k in names}
    return {k: value for k in names}


@dataclass(eq=False)
class LatentExplorer:
    """Sliders over ``z = base + Σ_i value_i * directions[i]``, decoded for the chosen option.

    Attributes:
        options: option name -> decode function ``z (n, d) -> images (n, 1, H, W)`` (or
            ``(n, H, W)``); one option hides the selector.
        base: the point at all-zero slider values, ``(d,)``; one tensor for all options or a
            dict per option.
        directions: ``(n_sliders, d)``, one row per slider; shared or a dict per option.
        limits: slider range ``(low, high)`` for every slider, or one ``(low, high)`` per
            slider; shared or a dict per option.
        slider_labels: one label per slider (default ``"1"``, ``"2"`` ...).
        selector_label: the selector's name (``"class"``, ``"prior"`` ...).
        steps: grid positions per slider of :meth:`precompute` (the static version); the
            live sliders start at the grid's middle point.
        scale: the image is shown ``scale`` times larger (28 -> 168 pixels), nearest neighbour.
        title: optional text above the widget.
    """

    options: dict[str, DecodeFn]
    base: Tensor | dict[str, Tensor]
    directions: Tensor | dict[str, Tensor]
    limits: tuple[float, float] | Sequence[tuple[float, float]] | dict = (-3.0, 3.0)
    slider_labels: Sequence[str] | None = None
    selector_label: str = "option"
    steps: int = 9
    scale: int = 6
    title: str | None = None
    _limits: dict[str, Tensor] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.options:
            raise ValueError("a LatentExplorer needs at least one option")
        self.options = {str(k): v for k, v in self.options.items()}
        names = list(self.options)
        self.base = {
            k: torch.as_tensor(v, dtype=torch.float32).detach().cpu().reshape(-1)
            for k, v in _per_option(self.base, names, "base").items()
        }
        dirs = _per_option(self.directions, names, "directions")
        self.directions = {
            k: torch.as_tensor(v, dtype=torch.float32).detach().cpu().reshape(-1, self.base[k].numel())
            for k, v in dirs.items()
        }
        counts = {d.shape[0] for d in self.directions.values()}
        if len(counts) != 1:
            raise ValueError(f"every option needs the same number of slider directions, got {sorted(counts)}")
        n = counts.pop()
        if n < 1:
            raise ValueError("a LatentExplorer needs at least one slider direction")
        self._limits = {}
        for k, lim in _per_option(self.limits, names, "limits").items():
            t = torch.as_tensor(lim, dtype=torch.float32).cpu()
            t = t.expand(n, 2).clone() if t.shape == (2,) else t.reshape(n, 2)
            if not bool((t[:, 0] < t[:, 1]).all()):
                raise ValueError(f"limits of option {k!r} must have low < high, got {t.tolist()}")
            self._limits[k] = t
        if self.slider_labels is None:
            self.slider_labels = [str(i + 1) for i in range(n)]
        if len(self.slider_labels) != n:
            raise ValueError(f"{n} sliders but {len(self.slider_labels)} slider_labels")
        if self.steps < 2:
            raise ValueError(f"steps must be at least 2, got {self.steps}")

    # -- computation -------------------------------------------------------------------
    @property
    def option_names(self) -> list[str]:
        return list(self.options)

    @property
    def n_sliders(self) -> int:
        return len(self.slider_labels)

    def slider_limits(self, option: str) -> list[tuple[float, float]]:
        """``(low, high)`` of each slider for ``option``."""
        return [tuple(map(float, row)) for row in self._limits[self._key(option)].tolist()]

    def grid(self, option: str) -> list[Tensor]:
        """The ``steps`` slider positions of each slider (``linspace(low, high, steps)``) for :meth:`precompute`."""
        return [torch.linspace(lo, hi, self.steps) for lo, hi in self.slider_limits(option)]

    def initial_values(self, option: str) -> list[float]:
        """Where the sliders start: the middle of the grid (the middle of each range)."""
        return [float(g[(self.steps - 1) // 2]) for g in self.grid(option)]

    def point(self, option: str, values: Sequence[float]) -> Tensor:
        """The latent point ``base + Σ values_i directions_i``, shape ``(d,)``."""
        key = self._key(option)
        v = torch.as_tensor(list(values), dtype=torch.float32)
        if v.shape != (self.n_sliders,):
            raise ValueError(f"expected {self.n_sliders} slider values, got {list(values)}")
        return self.base[key] + v @ self.directions[key]

    def decode_at(self, option: str, values: Sequence[float]) -> Tensor:
        """The image ``decode(base + Σ values_i directions_i)`` for ``option``, shape ``(H, W)``."""
        z = self.point(option, values)
        return self._decode(option, z[None])[0]

    def precompute(self, batch: int = 1024, steps: int | None = None) -> dict[str, Tensor]:
        """Decode the whole grid of slider positions, for every option.

        Args:
            batch: decoder batch size.
            steps: grid positions per slider (default :attr:`steps`).

        Returns:
            option -> images of shape ``(steps,) * n_sliders + (H, W)``; entry ``[i, j, ...]``
            is the image at slider 1 = ``grid(option)[0][i]``, slider 2 = ``grid(option)[1][j]`` ...
        """
        steps = self.steps if steps is None else int(steps)
        if steps < 2:
            raise ValueError(f"steps must be at least 2, got {steps}")
        out = {}
        for name in self.options:
            g = [torch.linspace(lo, hi, steps) for lo, hi in self.slider_limits(name)]
            mesh = torch.meshgrid(*g, indexing="ij")
            values = torch.stack([m.reshape(-1) for m in mesh], dim=1)  # (steps**n, n)
            z = self.base[name] + values @ self.directions[name]
            images = torch.cat([self._decode(name, zb) for zb in z.split(batch)])
            out[name] = images.reshape(*([steps] * self.n_sliders), *images.shape[-2:])
        return out

    def _key(self, option) -> str:
        key = str(option)
        if key not in self.options:
            raise KeyError(f"no option {key!r}; the options are {', '.join(map(repr, self.options))}")
        return key

    def _decode(self, option: str, z: Tensor) -> Tensor:
        with torch.no_grad():
            x = self.options[self._key(option)](z)
        x = x.detach().cpu().float()
        return x.reshape(x.shape[0], *x.shape[-2:])  # (n, H, W)

    # -- views -----------------------------------------------------------------------------
    def widget(self):
        """The live explorer (an ``ipywidgets.VBox``; see :func:`thesis_lib.widgets.live.widget`)."""
        return live.widget(self)

    def static_html(
        self, steps: int | None = None, max_bytes: int | None = STATIC_MAX_BYTES, continuous: bool = True
    ) -> str:
        """The explorer as a self-contained ``<div>`` for a page without a kernel (see
        :func:`thesis_lib.widgets.decoder_view.static_html`)."""
        with stage("widget export"):
            return decoder_view.static_html(self, steps=steps, max_bytes=max_bytes, continuous=continuous)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """The live widget; in the book build one output with two renderings, the live widget and the static HTML.

        Jupyter front ends show the highest-ranked mime type they can render:
        ``application/vnd.jupyter.widget-view+json`` (the live widget, needs the kernel). The
        book drops that mime type (``nb_mime_priority_overrides`` in ``_config.yml``), so its
        pages show ``text/html``: :meth:`static_html`, which is computed only when the book is
        being built (:func:`static_html_wanted`), since nobody sees it in Jupyter.
        """
        box = self.widget()
        bundle = dict(box._repr_mimebundle_())
        if static_html_wanted():
            bundle["text/html"] = self.static_html()
        bundle["text/plain"] = f"<LatentExplorer: {self.title or ', '.join(self.option_names)}>"
        return bundle

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)
