"""An interactive latent-space explorer: sliders move a point in latent space, the decoder draws it.

The *computation* is separate from the *rendering*, so the same explorer is shown two ways:

* **live** (:meth:`LatentExplorer.widget`): ipywidgets, continuous sliders, decoded on demand;
  needs a running kernel (Jupyter, Binder, Colab);
* **static** (:meth:`LatentExplorer.static_html`): a self-contained ``<div>`` for the rendered
  book, which has no kernel. :meth:`LatentExplorer.precompute` decodes every point of a
  ``steps`` x ... x ``steps`` grid of slider positions, for every option, at execution time;
  all those 28 x 28 images go into ONE grey-scale PNG sprite sheet, inlined as a base64 data
  URI, and a few lines of inline JavaScript move the sheet inside a clipping box as the reader
  moves a native ``<input type=range>`` (one step = one grid cell) or picks an option in a
  ``<select>``. No kernel, no CDN, no network; without JavaScript it still shows the middle
  image.

Displaying an explorer (the last line of a cell, or ``display(ex)``) emits ONE output whose
mime bundle holds both: ``application/vnd.jupyter.widget-view+json`` (the live widget) and
``text/html`` (the static version). Jupyter front ends rank the widget view first, so a
notebook shows the live widget; the book's ``_config.yml`` drops the widget-view mime type
for Sphinx (``nb_mime_priority_overrides``), so the rendered page shows the static version
instead of an empty widget box.

**Grid resolution vs page weight.** The static version stores ``options x steps**n_sliders``
images: the default 9 steps and 2 sliders give 81 images per option (a conditional GAN's 10
classes: 810). A 28 x 28 grey-scale tile costs roughly 0.2-0.6 KB in the PNG (plus a third for
base64), so a widget weighs roughly 20-400 KB. :meth:`~LatentExplorer.static_html` keeps each
widget under ``max_bytes`` (default :data:`STATIC_MAX_BYTES`, 300 KB of HTML): when the
8-bit sheet is too heavy it first quantises to 16 grey levels (4-bit PNG, hardly visible at
this size), then lowers the number of steps (9 -> 7 -> 5 ...) until it fits. Finer grids
(``steps=15``) look smoother but cost ``(15/9)**2`` ~ 2.8 times more; a 3-slider explorer
costs ``steps`` times more than a 2-slider one.

A point is ``z = base + Σ_i value_i * directions[i]``, for each *option* (a class of a
conditional GAN, the prior of an AAE ...) with its own decoder, base, directions and slider
limits.

    >>> from thesis_lib import widgets
    >>> widgets.explore(vae, data)          # doctest: +SKIP   (displays the widget in a notebook)
    >>> ex = widgets.explore(cgan)          # doctest: +SKIP
    >>> ex.decode_at("3", [0.5, -1.0])      # doctest: +SKIP   (one (28, 28) image)
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import Tensor

from . import latent
from .data import CLASS_NAMES

__all__ = ["LatentExplorer", "explore", "explore_priors", "png_bytes", "sprite_png", "STATIC_MAX_BYTES"]

DecodeFn = Callable[[Tensor], Tensor]


def png_bytes(image: Tensor, scale: int = 6) -> bytes:
    """A grey-scale ``(H, W)`` image in [0, 1] as PNG bytes, upscaled ``scale`` times (nearest neighbour)."""
    from PIL import Image

    a = (image.detach().cpu().float().clamp(0, 1).numpy() * 255).round().astype(np.uint8)
    if scale > 1:
        a = a.repeat(scale, axis=0).repeat(scale, axis=1)
    buf = io.BytesIO()
    Image.fromarray(a, mode="L").save(buf, format="PNG")
    return buf.getvalue()


#: Default upper bound on one static widget's HTML (sprite sheet + markup + script), in bytes.
STATIC_MAX_BYTES = 300_000

_static_counter = itertools.count(1)  # unique element ids when a page shows several widgets


def sprite_png(tiles: Tensor, cols: int, bits: int = 8) -> bytes:
    """``(n, H, W)`` grey-scale tiles in [0, 1] as one PNG sprite sheet, ``cols`` tiles per row.

    Tile ``t`` sits at column ``t % cols``, row ``t // cols``; unused cells of the last row are
    black. ``bits=8`` stores 256 grey levels; ``bits=4`` quantises to 16 (a 4-bit palette PNG,
    about half the size).
    """
    from PIL import Image

    if bits not in (4, 8):
        raise ValueError(f"bits must be 4 or 8, got {bits}")
    n, h, w = tiles.shape
    rows = -(-n // cols)
    a = tiles.detach().cpu().float().clamp(0, 1).numpy()
    levels = (1 << bits) - 1
    q = (a * levels).round().astype(np.uint8)
    sheet = np.zeros((rows * cols, h, w), dtype=np.uint8)
    sheet[:n] = q
    sheet = sheet.reshape(rows, cols, h, w).transpose(0, 2, 1, 3).reshape(rows * h, cols * w)
    buf = io.BytesIO()
    if bits == 8:
        Image.fromarray(sheet, mode="L").save(buf, format="PNG", optimize=True)
    else:
        img = Image.fromarray(sheet, mode="P")
        img.putpalette([v for i in range(16) for v in (i * 17,) * 3])
        img.save(buf, format="PNG", optimize=True, bits=4)
    return buf.getvalue()


_STATIC_SCRIPT = """(function () {
  var root = document.getElementById(%(id)s);
  if (!root || root.getAttribute("data-ready")) return;
  root.setAttribute("data-ready", "1");
  var cfg = JSON.parse(root.querySelector("script.tl-latent-data").textContent);
  var img = root.querySelector("img.tl-latent-sprite");
  var sel = root.querySelector("select");
  var sliders = root.querySelectorAll("input[type=range]");
  var outs = root.querySelectorAll("output");
  function update() {
    var o = sel ? sel.selectedIndex : 0, f = 0, i;
    for (i = 0; i < sliders.length; i++) {
      var k = +sliders[i].value, lim = cfg.limits[o][i];
      var v = (lim[0] + (lim[1] - lim[0]) * k / (cfg.steps - 1)).toFixed(2);
      outs[i].textContent = v;
      sliders[i].setAttribute("aria-valuetext", v);
      f = f * cfg.steps + k;
    }
    var t = o * cfg.per_option + f, c = t %% cfg.cols, r = (t - c) / cfg.cols;
    img.style.left = -c * cfg.w + "px";
    img.style.top = -r * cfg.h + "px";
    root.setAttribute("data-tile", t);
  }
  for (var i = 0; i < sliders.length; i++) sliders[i].addEventListener("input", update);
  if (sel) sel.addEventListener("change", update);
  update();
})();"""


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
        self.base = {k: torch.as_tensor(v, dtype=torch.float32).detach().cpu().reshape(-1) for k, v in _per_option(self.base, names, "base").items()}
        dirs = _per_option(self.directions, names, "directions")
        self.directions = {k: torch.as_tensor(v, dtype=torch.float32).detach().cpu().reshape(-1, self.base[k].numel()) for k, v in dirs.items()}
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

    # -- rendering -----------------------------------------------------------------------
    def widget(self):
        """The live explorer: an ``ipywidgets.VBox`` of a selector (if more than one option),
        one ``FloatSlider`` per direction and the decoded image (``ipywidgets.Image``, PNG).

        The box keeps its parts as attributes: ``.selector`` (a ``Dropdown`` or ``None``),
        ``.sliders`` and ``.image``. Moving a slider or changing the option re-decodes at once.
        """
        import ipywidgets as w

        names = self.option_names
        current = {"option": names[0]}
        selector = None
        if len(names) > 1:
            selector = w.Dropdown(options=names, value=names[0], description=self.selector_label)
        sliders = []
        for label, (lo, hi), v in zip(self.slider_labels, self.slider_limits(names[0]), self.initial_values(names[0])):
            sliders.append(w.FloatSlider(value=v, min=lo, max=hi, step=(hi - lo) / 200, description=label,
                                         continuous_update=True, readout_format=".2f", style={"description_width": "initial"}))
        size = None
        image = w.Image(format="png")
        busy = {"on": False}

        def render(*_):
            if busy["on"]:
                return
            img = self.decode_at(current["option"], [s.value for s in sliders])
            image.value = png_bytes(img, self.scale)
            nonlocal size
            if size is None:
                size = (img.shape[1] * self.scale, img.shape[0] * self.scale)
                image.width, image.height = str(size[0]), str(size[1])

        def on_option(change):
            old, new = current["option"], change["new"]
            busy["on"] = True
            try:
                for s, (lo0, hi0), (lo, hi) in zip(sliders, self.slider_limits(old), self.slider_limits(new)):
                    frac = (s.value - lo0) / (hi0 - lo0)  # keep each slider's relative position
                    with s.hold_trait_notifications():
                        s.max = max(hi, s.max)
                        s.min = lo
                        s.max = hi
                        s.step = (hi - lo) / 200
                        s.value = min(max(lo + frac * (hi - lo), lo), hi)
                current["option"] = new
            finally:
                busy["on"] = False
            render()

        for s in sliders:
            s.observe(render, names="value")
        if selector is not None:
            selector.observe(on_option, names="value")
        render()
        children = ([w.HTML(f"<b>{self.title}</b>")] if self.title else []) + ([selector] if selector else []) + [*sliders, image]
        box = w.VBox(children)
        box.selector, box.sliders, box.image = selector, sliders, image
        return box

    def static_html(self, steps: int | None = None, max_bytes: int | None = STATIC_MAX_BYTES) -> str:
        """The explorer as a self-contained ``<div>`` that works without a kernel (the book's version).

        Every grid position of every option is decoded now (:meth:`precompute`) and stored in
        one PNG sprite sheet (a base64 data URI); native range sliders (one step per grid
        cell) and a ``<select>`` (several options) move the sheet inside a clipping box with a
        few lines of inline JavaScript. Element ids are unique, so a page can hold several.

        Args:
            steps: grid positions per slider (default :attr:`steps`).
            max_bytes: upper bound on the returned HTML's size: if the 8-bit sheet makes it
                larger, the sheet is quantised to 16 grey levels, then ``steps`` is lowered
                by 2 at a time (down to 2) until it fits. ``None``: no bound.
        """
        steps = self.steps if steps is None else int(steps)
        number = next(_static_counter)
        cache: dict[int, dict[str, Tensor]] = {}
        while True:
            if steps not in cache:
                cache = {steps: self.precompute(steps=steps)}
            for bits in (8, 4):
                out = self._static_html(cache[steps], steps, bits, number)
                if max_bytes is None or len(out.encode()) <= max_bytes:
                    return out
            if steps <= 2:
                return out
            steps = max(2, steps - 2)

    def _static_html(self, grids: dict[str, Tensor], steps: int, bits: int, number: int = 0) -> str:
        names = self.option_names
        n = self.n_sliders
        per_option = steps**n
        tiles = torch.cat([grids[k].reshape(per_option, *grids[k].shape[-2:]) for k in names])
        th, tw = tiles.shape[-2:]
        cols = max(1, math.ceil(math.sqrt(tiles.shape[0])))
        png = sprite_png(tiles, cols, bits)
        digest = hashlib.sha1(png).hexdigest()[:8]
        uid = f"tl-latent-{number}-{digest}"
        scale = self.scale
        w, h = tw * scale, th * scale
        rows = -(-tiles.shape[0] // cols)
        mid = (steps - 1) // 2
        t0 = sum(mid * steps**(n - 1 - i) for i in range(n))
        c0, r0 = t0 % cols, t0 // cols
        limits = [[list(lim) for lim in self.slider_limits(k)] for k in names]
        cfg = {"steps": steps, "per_option": per_option, "cols": cols, "w": w, "h": h, "limits": limits}
        esc = html.escape
        parts = [f'<div id="{uid}" class="tl-latent mathjax_ignore" data-steps="{steps}" data-tile="{t0}" '
                 'style="margin:0.5em 0 1em 0;font-size:0.9em;line-height:1.4">']
        if self.title:
            parts.append(f'<div class="tl-latent-title" style="font-weight:bold;margin-bottom:0.3em">{esc(self.title)}</div>')
        parts.append('<div style="display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start">')
        parts.append('<div class="tl-latent-controls" style="display:grid;grid-template-columns:auto auto auto;'
                     'gap:0.3em 0.6em;align-items:center">')
        if len(names) > 1:
            opts = "".join(f'<option value="{esc(k)}">{esc(k)}</option>' for k in names)
            parts.append(f'<label for="{uid}-select">{esc(self.selector_label)}</label>'
                         f'<select id="{uid}-select" style="grid-column:span 2;justify-self:start">{opts}</select>')
        for i, label in enumerate(self.slider_labels):
            lo, hi = limits[0][i]
            v = lo + (hi - lo) * mid / (steps - 1)
            parts.append(f'<label for="{uid}-s{i}">{esc(str(label))}</label>'
                         f'<input type="range" id="{uid}-s{i}" min="0" max="{steps - 1}" step="1" value="{mid}" '
                         f'aria-valuetext="{v:.2f}" style="width:12em">'
                         f'<output for="{uid}-s{i}" style="font-family:monospace;min-width:4em">{v:.2f}</output>')
        parts.append("</div>")
        alt = f"decoded image, {len(names)} option(s) x {steps}^{n} precomputed slider positions"
        parts.append(f'<div class="tl-latent-view" style="position:relative;overflow:hidden;width:{w}px;height:{h}px;'
                     'background:#000;flex:none">'
                     f'<img class="tl-latent-sprite" src="data:image/png;base64,{base64.b64encode(png).decode()}" '
                     f'alt="{esc(alt)}" width="{cols * w}" height="{rows * h}" style="position:absolute;'
                     f'left:{-c0 * w}px;top:{-r0 * h}px;width:{cols * w}px;height:{rows * h}px;max-width:none;'
                     'max-height:none;margin:0;padding:0;border:0;image-rendering:crisp-edges;image-rendering:pixelated">'
                     "</div></div>")
        parts.append(f'<div class="tl-latent-note" style="font-size:0.85em;opacity:0.75">Precomputed: {steps} positions '
                     f'per slider ({per_option * len(names)} images, {len(png) / 1024:.0f} KB); '
                     "run the notebook for continuous sliders.</div>")
        data = json.dumps(cfg, separators=(",", ":")).replace("</", "<\\/")
        parts.append(f'<script type="application/json" class="tl-latent-data">{data}</script>')
        parts.append(f"<script>{_STATIC_SCRIPT % {'id': json.dumps(uid)}}</script>")
        parts.append("</div>")
        return "".join(parts)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """One output, two renderings: the live widget (Jupyter) and the static HTML (the book).

        Jupyter front ends show the highest-ranked mime type they can render:
        ``application/vnd.jupyter.widget-view+json`` (the live widget, needs the kernel). The
        book drops that mime type (``nb_mime_priority_overrides`` in ``_config.yml``), so its
        pages show ``text/html``: :meth:`static_html`.
        """
        box = self.widget()
        bundle = dict(box._repr_mimebundle_())
        bundle["text/html"] = self.static_html()
        bundle["text/plain"] = f"<LatentExplorer: {self.title or ', '.join(self.option_names)}>"
        return bundle

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)


# ----------------------------------------------------------------------------- constructors
def _decoder(model, label: int | None = None) -> DecodeFn:
    """``z -> model.decode(z)`` on the model's device in eval mode (with a fixed class for a conditional GAN)."""
    def decode(z: Tensor) -> Tensor:
        labels = None if label is None else torch.full((z.shape[0],), label, dtype=torch.long)
        return latent.decode_batched(model, z, labels)

    return decode


def _class_names(model) -> list[str]:
    names = CLASS_NAMES.get(model.config.dataset)
    return list(names) if names else [str(i) for i in range(model.n_classes)]


def _is_gan(model) -> bool:
    return hasattr(model, "generator") and hasattr(model, "noise")


def explore(
    model,
    data=None,
    n_sliders: int = 2,
    steps: int = 9,
    n: int = 5000,
    seed: int = 0,
    percentiles: tuple[float, float] = (1.0, 99.0),
    std_range: float = 2.5,
    gan_scale: float | None = None,
) -> LatentExplorer:
    """A :class:`LatentExplorer` for a trained model (displays itself as the last line of a cell).

    * AE / VAE / AAE with a 2-D latent space: the sliders are the coordinates ``z_1``, ``z_2``
      (base 0, the prior mean), over the ``percentiles`` of the codes of the first ``n``
      examples of ``data``; without data over the same percentiles of prior samples (AAE), or
      ±3 (VAE), or mean ± 3 sd of the fitted Gaussian (AE).
    * More than 2 dimensions: base = the mean code of ``data``, directions = the top
      ``n_sliders`` principal components scaled by their standard deviation, limits
      ``±std_range``: slider ``PCi`` reads "standard deviations along principal direction i".
      Without data, the prior's own axes: the AE's fitted Gaussian, the VAE's and AAE's
      N(0, I) coordinate directions.
    * GAN: base = a fixed noise vector (seeded by ``seed``); directions = fixed random
      orthonormal directions scaled by ``gan_scale`` (default ``sqrt(latent_dim) / 2``, about
      the distance between two noise vectors, so the sliders, from -1 to 1, visibly change the
      image). A conditional GAN gets one option per class (selector "class"), all with the same
      noise, so moving the selector keeps the "style".
    """
    d = model.config.latent_dim
    g = torch.Generator().manual_seed(seed)
    if _is_gan(model):
        k = min(n_sliders, d)
        base = torch.randn(d, generator=g)
        q, _ = torch.linalg.qr(torch.randn(d, k, generator=g))
        scale = gan_scale if gan_scale is not None else d**0.5 / 2
        directions = q.T * scale
        labels = [f"direction {i + 1}" for i in range(k)]
        if getattr(model.config, "conditional", False):
            names = _class_names(model)
            options = {name: _decoder(model, c) for c, name in enumerate(names)}
            return LatentExplorer(options, base, directions, (-1.0, 1.0), labels, "class", steps,
                                  title="GAN: noise z = z₀ + Σ value·direction, per class")
        return LatentExplorer({"G": _decoder(model)}, base, directions, (-1.0, 1.0), labels, "option", steps,
                              title="GAN: noise z = z₀ + Σ value·direction")

    kind = type(model).__name__
    if d <= 2:
        k = d
        base = torch.zeros(d)
        directions = torch.eye(d)
        if data is not None:
            codes, _ = latent.embed_dataset(model, data, n)
            limits = latent.percentile_limits(codes, percentiles)
            source = f"{percentiles[0]:g}-{percentiles[1]:g} percentiles of the codes"
        elif hasattr(model, "sample_prior"):
            limits = latent.percentile_limits(model.sample_prior(n, generator=g).cpu(), percentiles)
            source = "percentiles of prior samples"
        elif hasattr(model, "latent_mean") and hasattr(model, "latent_scale_tril"):
            sd = model.latent_scale_tril.detach().cpu().pow(2).sum(1).sqrt()
            mean = model.latent_mean.detach().cpu()
            limits = torch.stack([mean - 3 * sd, mean + 3 * sd], dim=1)
            source = "mean ± 3 sd of the codes"
        else:
            limits = torch.tensor([[-3.0, 3.0]] * d)
            source = "±3 prior standard deviations"
        return LatentExplorer({kind: _decoder(model)}, base, directions, limits, [f"z{i + 1}" for i in range(k)], "option", steps,
                              title=f"{kind}: latent point (z1, z2), range: {source}")

    k = min(n_sliders, d)
    if data is not None:
        codes, _ = latent.embed_dataset(model, data, n)
        mean, comps, var = latent.pca(codes, k)
        base, directions = mean, comps * var.sqrt()[:, None]
        title = f"{kind}: mean code + sliders × sd along the principal directions of the {d}-D codes"
        prefix = "PC"
    elif hasattr(model, "latent_mean") and hasattr(model, "latent_scale_tril"):
        cov = model.latent_scale_tril.detach().cpu() @ model.latent_scale_tril.detach().cpu().T
        var, vecs = torch.linalg.eigh(cov)
        order = var.argsort(descending=True)[:k]
        base, directions = model.latent_mean.detach().cpu(), (vecs[:, order] * var[order].sqrt()).T
        title = f"{kind}: sliders × sd along the principal directions of the fitted Gaussian"
        prefix = "PC"
    else:
        std = float(getattr(model.config, "prior_std", 1.0))
        base, directions = torch.zeros(d), torch.eye(d)[:k] * std
        title = f"{kind}: sliders × prior sd along the first {k} latent coordinates (pass data for principal directions)"
        prefix = "z"
    return LatentExplorer({kind: _decoder(model)}, base, directions, (-std_range, std_range), [f"{prefix}{i + 1}" for i in range(k)], "option", steps, title=title)


def explore_priors(
    models: Mapping[str, object],
    data=None,
    steps: int = 9,
    n: int = 5000,
    seed: int = 0,
    percentiles: tuple[float, float] = (1.0, 99.0),
) -> LatentExplorer:
    """One explorer over several AAEs with a "prior" selector: ``{"gaussian": aae1, "mixture": aae2, ...}``.

    Each option decodes with its own model over the latent coordinates ``z1``, ``z2`` (base 0);
    its slider limits are the ``percentiles`` of ``n`` samples of its prior (seeded by
    ``seed``), widened to those of the codes of ``data`` when given (a briefly trained encoder
    may not fill its prior yet). Models with more than 2 latent dimensions show their first two
    coordinates.
    """
    if not models:
        raise ValueError("explore_priors needs at least one model")
    options, bases, dirs, limits = {}, {}, {}, {}
    for name, model in models.items():
        d = model.config.latent_dim
        g = torch.Generator().manual_seed(seed)
        prior = model.sample_prior(n, generator=g).cpu()[:, :2]
        lim = latent.percentile_limits(prior, percentiles)
        if data is not None:
            codes, _ = latent.embed_dataset(model, data, n)
            c = latent.percentile_limits(codes[:, :2], percentiles)
            lim = torch.stack([torch.minimum(lim[:, 0], c[:, 0]), torch.maximum(lim[:, 1], c[:, 1])], dim=1)
        options[name] = _decoder(model)
        bases[name] = torch.zeros(d)
        dirs[name] = torch.eye(d)[: min(2, d)]
        limits[name] = lim[: min(2, d)]
    dims = {dd.shape[1] for dd in dirs.values()}
    if len({dd.shape[0] for dd in dirs.values()}) != 1:
        raise ValueError(f"all models need the same number of latent dimensions (>= 2 or all 1), got {sorted(dims)}")
    k = next(iter(dirs.values())).shape[0]
    return LatentExplorer(options, bases, dirs, limits, [f"z{i + 1}" for i in range(k)], "prior", steps,
                          title="AAE: latent point (z1, z2), per prior")
