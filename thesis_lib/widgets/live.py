"""The live view of a :class:`~thesis_lib.widgets.explorer.LatentExplorer`: ipywidgets sliders,
decoded on demand (needs a running kernel)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
from torch import Tensor

if TYPE_CHECKING:  # annotations only: explorer.py imports the views
    from .explorer import LatentExplorer

__all__ = ["widget", "png_bytes"]


def png_bytes(image: Tensor, scale: int = 6) -> bytes:
    """A grey-scale ``(H, W)`` image in [0, 1] as PNG bytes, upscaled ``scale`` times (nearest neighbour)."""
    from PIL import Image

    a = (image.detach().cpu().float().clamp(0, 1).numpy() * 255).round().astype(np.uint8)
    if scale > 1:
        a = a.repeat(scale, axis=0).repeat(scale, axis=1)
    buf = io.BytesIO()
    Image.fromarray(a, mode="L").save(buf, format="PNG")
    return buf.getvalue()


def widget(explorer: "LatentExplorer"):
    """The live view of ``explorer``: an ``ipywidgets.VBox`` of a selector (if more than one option),
    one ``FloatSlider`` per direction and the decoded image (``ipywidgets.Image``, PNG).

    The box keeps its parts as attributes: ``.selector`` (a ``Dropdown`` or ``None``),
    ``.sliders`` and ``.image``. Moving a slider or changing the option re-decodes at once.
    """
    import ipywidgets as w

    names = explorer.option_names
    current = {"option": names[0]}
    selector = None
    if len(names) > 1:
        selector = w.Dropdown(options=names, value=names[0], description=explorer.selector_label)
    sliders = []
    for label, (lo, hi), v in zip(
        explorer.slider_labels, explorer.slider_limits(names[0]), explorer.initial_values(names[0])
    ):
        sliders.append(
            w.FloatSlider(
                value=v,
                min=lo,
                max=hi,
                step=(hi - lo) / 200,
                description=label,
                continuous_update=True,
                readout_format=".2f",
                style={"description_width": "initial"},
            )
        )
    size = None
    image = w.Image(format="png")
    busy = {"on": False}

    def render(*_):
        if busy["on"]:
            return
        img = explorer.decode_at(current["option"], [s.value for s in sliders])
        image.value = png_bytes(img, explorer.scale)
        nonlocal size
        if size is None:
            size = (img.shape[1] * explorer.scale, img.shape[0] * explorer.scale)
            image.width, image.height = str(size[0]), str(size[1])

    def on_option(change):
        old, new = current["option"], change["new"]
        busy["on"] = True
        try:
            for s, (lo0, hi0), (lo, hi) in zip(sliders, explorer.slider_limits(old), explorer.slider_limits(new)):
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
    children = (
        ([w.HTML(f"<b>{explorer.title}</b>")] if explorer.title else [])
        + ([selector] if selector else [])
        + [*sliders, image]
    )
    box = w.VBox(children)
    box.selector, box.sliders, box.image = selector, sliders, image
    return box
