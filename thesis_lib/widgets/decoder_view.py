"""The static widget that carries its decoder: continuous sliders, decoded in the reader's browser.

:func:`decoder_html` exports each option's decode function (:func:`.decoder_export.trace`),
stores its weights compactly in the page and lets ``decoder.js`` + ``static.js`` decode at every
one of :data:`POSITIONS` slider positions; without JavaScript the reader sees the initial image
(an ``<img>``, replaced by a canvas when the script runs).

**Weights, once per page.** Every tensor is one ``<script type="application/octet-stream"
class="tl-latent-weights" data-key=...>`` element (base64), keyed by its content: a conditional
GAN's ten classes share one copy, and a second widget of the same model on the page (the same
kernel: one notebook = one page) only refers to the first one's. :func:`new_page` forgets what
was emitted (tests, or a notebook that renders several pages).

**The rule: bytes against continuity.** Weights go in the most precise format of
:data:`~.decoder_export.FORMATS` (float16, then int8 with a float16 scale per 32 weights) that

* fits what is left of :data:`DECODER_PAGE_BYTES`, the base64 weights all widgets of one page
  may inline together (so that a page stays under the book's 1.5 MB with its figures), and
* stays within the format's :data:`TOLERANCE` of the torch decoder (max |Δ| per pixel over a
  grid of slider positions, measured here and shown in the widget's note).

If no format qualifies, or the decode function has an operation the JavaScript lacks, the widget
keeps the sprite sheet (:mod:`.static`), and its note says why. A chapter MLP decoder (about
0.54 M weights) takes about 0.76 MB as int8, so a page of two such widgets gives the first one
its decoder and the second its sprite sheet.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math

import numpy as np
import torch

from . import decoder_export
from .decoder_export import FORMATS, Layer, UnsupportedDecoder
from .live import png_bytes
from . import static
from .static import FLEX_OPEN, NOTE_STYLE, ROOT_STYLE, STATIC_MAX_BYTES, controls, script, title_html

__all__ = ["static_html", "decoder_html", "new_page", "page_bytes", "POSITIONS", "DECODER_PAGE_BYTES", "TOLERANCE"]

POSITIONS = 201
"""Positions of each slider (the middle one is the middle of the range, where the sliders start)."""
DECODER_PAGE_BYTES = 1_200_000
"""The base64 decoder weights that all widgets of one page may inline together."""
TOLERANCE = {"f16": 2 / 255, "q8": 12 / 255}
"""Largest allowed max |Δ| (pixels in [0, 1]) between the exported decoder and the torch one, per format."""
PROBE_STEPS = 5  # grid positions per slider where the export measures its error (3 for 3+ sliders)
_WEIGHTS = ("W",)  # the tensors stored in the chosen format; the others (biases, constants) stay float32
_page: dict = {"keys": set(), "bytes": 0}


def static_html(explorer: "LatentExplorer", steps: int | None = None, max_bytes: int | None = STATIC_MAX_BYTES,
                continuous: bool = True) -> str:
    """The book's version of ``explorer``: a self-contained ``<div>`` that works without a kernel.

    With ``continuous`` (the default) it carries the decoder when the rule above allows; else,
    or with ``continuous=False``, the sprite sheet of :func:`.static.static_html` (``steps``
    positions per slider, within ``max_bytes``).
    """
    number = static.next_number()
    reason = None
    if continuous:
        out, reason = decoder_html(explorer, number)
        if out is not None:
            return out
    return static.static_html(explorer, steps=steps, max_bytes=max_bytes, reason=reason, number=number)


def new_page() -> None:
    """Start a new page: forget which weights were emitted and how many bytes they took."""
    _page["keys"] = set()
    _page["bytes"] = 0


def page_bytes() -> int:
    """The base64 weight bytes that widgets have inlined on the current page so far."""
    return _page["bytes"]


def decoder_html(explorer: "LatentExplorer", number: int) -> tuple[str | None, str | None]:
    """``(html, None)``, or ``(None, why not)`` when the widget keeps its sprite sheet."""
    names = explorer.option_names
    try:
        traced = {k: decoder_export.trace(explorer.options[k], explorer.point(k, explorer.initial_values(k))) for k in names}
    except UnsupportedDecoder as e:
        return None, str(e)
    shapes = {hw for _, hw in traced.values()}
    if len(shapes) != 1:
        return None, f"the options decode to different image sizes {sorted(shapes)}"
    probes = {k: _probe_values(explorer, k) for k in names}
    reference = {k: explorer._decode(k, torch.stack([explorer.point(k, v) for v in probes[k]])).reshape(len(probes[k]), -1).numpy() for k in names}
    left = DECODER_PAGE_BYTES - _page["bytes"]
    reasons = []
    for fmt in FORMATS:
        stored = {k: [_store(layer, fmt) for layer in traced[k][0]] for k in names}
        blobs = {key: b64 for layers in stored.values() for layer in layers for key, b64 in layer[1].items() if key not in _page["keys"]}
        size = sum(len(b) for b in blobs.values())
        if size > left:
            reasons = [f"{size / 1e6:.2f} MB of {fmt} weights, {max(left, 0) / 1e6:.2f} MB left of the page's {DECODER_PAGE_BYTES / 1e6:.1f} MB"]
            continue
        err = max(_max_error(stored[k], probes[k], explorer, k, reference[k]) for k in names)
        if err > TOLERANCE[fmt]:
            reasons.append(f"{fmt} weights change pixels by up to {err * 255:.1f}/255 (allowed {TOLERANCE[fmt] * 255:.0f}/255)")
            continue
        _page["keys"].update(blobs)
        _page["bytes"] += size
        return _render(explorer, number, traced, stored, blobs, fmt, err, size), None
    return None, "; ".join(reasons)


def _probe_values(explorer, option: str) -> list[list[float]]:
    steps = PROBE_STEPS if explorer.n_sliders <= 2 else 3
    grid = [np.linspace(lo, hi, steps) for lo, hi in explorer.slider_limits(option)]
    mesh = np.meshgrid(*grid, indexing="ij")
    return np.stack([m.reshape(-1) for m in mesh], axis=1).tolist()


def _store(layer: Layer, fmt: str) -> tuple[dict, dict[str, str], dict[str, np.ndarray]]:
    """``(the layer's JSON, {key: base64} of its tensors, the float32 tensors decoder.js rebuilds)``."""
    refs, blobs, rebuilt = {}, {}, {}
    for name, t in layer.tensors.items():
        q = decoder_export.quantize(t, fmt if name in _WEIGHTS else "f32")
        raw = q["data"] + q.get("scales", b"")
        key = hashlib.sha1(f"{q['fmt']}{q['shape']}".encode() + raw).hexdigest()[:16]
        refs[name] = {"k": key, "f": q["fmt"], "s": q["shape"], **({"g": q["group"]} if "group" in q else {})}
        blobs[key] = base64.b64encode(raw).decode()
        rebuilt[name] = decoder_export.dequantize(q)
    return {"op": layer.op, **({"p": layer.params} if layer.params else {}), "t": refs}, blobs, rebuilt


def _max_error(stored, probes, explorer, option, reference) -> float:
    layers = [Layer(js["op"], rebuilt, js.get("p", {})) for js, _, rebuilt in stored]
    return max(float(np.abs(decoder_export.run(layers, explorer.point(option, v).numpy()) - ref).max()) for v, ref in zip(probes, reference))


def _render(explorer, number, traced, stored, blobs, fmt, err, size) -> str:
    names = explorer.option_names
    (h, w) = next(iter(traced.values()))[1]
    first = explorer.decode_at(names[0], explorer.initial_values(names[0]))
    png = png_bytes(first, 1)
    uid = f"tl-latent-{number}-{hashlib.sha1(png + json.dumps(sorted(blobs)).encode()).hexdigest()[:8]}"
    limits = [[list(lim) for lim in explorer.slider_limits(k)] for k in names]
    options = [{"base": explorer.base[k].tolist(), "dirs": explorer.directions[k].tolist(), "layers": [js for js, _, _ in stored[k]]} for k in names]
    cfg = {"mode": "decoder", "steps": POSITIONS, "limits": limits, "h": h, "w": w, "scale": explorer.scale, "options": options}
    mid = (POSITIONS - 1) // 2
    weights = {js["t"]["W"]["k"]: math.prod(js["t"]["W"]["s"]) for k in names for js, _, _ in stored[k] if js["op"] in ("linear", "convT")}
    n_params = sum(weights.values())
    pos = f"0:{','.join([str(mid)] * explorer.n_sliders)}"
    parts = [f'<div id="{uid}" class="tl-latent mathjax_ignore" data-mode="decoder" data-steps="{POSITIONS}" data-position="{pos}" '
             f'data-weight-bytes="{size}" style="{ROOT_STYLE}">', title_html(explorer), FLEX_OPEN,
             controls(explorer, uid, limits[0], POSITIONS)]
    sw, sh = w * explorer.scale, h * explorer.scale
    parts.append(f'<div class="tl-latent-view" style="position:relative;width:{sw}px;height:{sh}px;background:#000;flex:none">'
                 f'<img class="tl-latent-image" src="data:image/png;base64,{base64.b64encode(png).decode()}" '
                 f'alt="decoded image at the sliders\' start" width="{sw}" height="{sh}" style="width:{sw}px;height:{sh}px;'
                 'max-width:none;margin:0;padding:0;border:0;image-rendering:crisp-edges;image-rendering:pixelated"></div>')
    parts.append("</div>")
    layers = [js["op"] for js, _, _ in stored[names[0]] if js["op"] in ("linear", "convT")]
    models = len({tuple(js["t"]["W"]["k"] for js, _, _ in stored[k] if js["op"] in ("linear", "convT")) for k in names})
    kind = {"f16": "float16", "q8": "int8"}[fmt]
    shared = "" if blobs else ", shared with a widget above"
    parts.append(f'<div class="tl-latent-note" style="{NOTE_STYLE}">Decoded in your browser at every slider position: '
                 f'the decoder{"s" if models > 1 else ""} ({f"{models} x " if models > 1 else ""}{len(layers)} layers, {n_params:,} {kind} weights, {size / 1024:.0f} KB{shared}); '
                 f'max |Δ| against PyTorch {math.ceil(err * 255 * 10) / 10:.1f}/255.</div>')
    data = json.dumps(cfg, separators=(",", ":")).replace("</", "<\\/")
    parts.append(f'<script type="application/json" class="tl-latent-data">{data}</script>')
    parts.extend(f'<script type="application/octet-stream" class="tl-latent-weights" data-key="{k}">{b}</script>' for k, b in blobs.items())
    parts.append(f"<script>{script('decoder.js')}\n{script()}\nwindow.thesisLibLatent(document.getElementById({json.dumps(uid)}));</script>")
    parts.append("</div>")
    return "".join(parts)
