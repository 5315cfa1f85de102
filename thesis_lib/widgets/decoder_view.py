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

**What goes into the page** (:func:`decoder_html`), for each option:

1. :func:`slider_layers`: the decode function traced on the *slider values*, so the explorer's
   ``base + values @ directions`` (and a conditional GAN's class) fold into the first layer,
   which then has one column per slider;
2. :func:`.decoder_prune.prune`: the hidden units that are zero at every one of the
   ``POSITIONS^n`` slider positions, proved by a branch and bound, are left out (in the chapters,
   from 1 % of the hidden units, the 32-D VAE's, to 39 %, the 2-D AE's); the images do not change;
3. the weights in the first format of :data:`~.decoder_export.FORMATS` (fewest bytes first:
   6-, 7-, 8-bit integers, float16) that stays within :data:`TOLERANCE` of the torch decoder;
   the integers are rounded by GPTQ (:func:`.decoder_export.gptq`) for the inputs each layer
   receives at the *calibration* positions, halfway between the *check* positions where the
   error is then measured (every :data:`CHECK_EVERY`-th position of each slider, for every
   option; the max |Δ| is shown in the widget's note);
4. :data:`PROBES` of torch's images at seeded positions, so that the browser tests check the
   built page itself.

**The rule: bytes against continuity.** The fewest bytes within the tolerance, provided they fit
what is left of :data:`DECODER_PAGE_BYTES`, the base64 weights all widgets of one page may
inline together (so that a page stays under the book's 1.8 MB). Otherwise, or when the decode
function has an operation the JavaScript lacks, the widget keeps the sprite sheet
(:mod:`.static`) and its note says why. A chapter decoder (0.22-0.52 M weights after pruning)
takes 0.3-0.65 MB, so each chapter page carries both of its decoders.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
from typing import TYPE_CHECKING

import numpy as np
import torch

from . import decoder_export, decoder_prune, static, words
from .decoder_export import FORMATS, Layer, UnsupportedDecoder
from .live import png_bytes
from .static import STATIC_MAX_BYTES, a11y_config, describe

if TYPE_CHECKING:  # annotations only: explorer.py imports the views
    from .explorer import LatentExplorer

__all__ = ["static_html", "decoder_html", "new_page", "page_bytes", "POSITIONS", "DECODER_PAGE_BYTES", "TOLERANCE"]

POSITIONS = 201
"""Positions of each slider (the middle one is the middle of the range, where the sliders start)."""
DECODER_PAGE_BYTES = 1_200_000
"""The base64 decoder weights that all widgets of one page may inline together."""
TOLERANCE = 2 / 255
"""Largest allowed max |Δ| (pixels in [0, 1]) between the exported decoder and the torch one."""
CHECK_EVERY = {1: 1, 2: 4, 3: 10}
"""Sliders -> the export's error is measured at every n-th position of each slider (every position of
one slider, 51 x 51 positions of two, 21 x 21 x 21 of three)."""
PROBES = 5
"""Slider positions whose torch images each widget carries, for the browser's parity check."""
SMALL = 4096
"""Weights of at most this many values (the first layer: one column per slider) stay float32."""
CALIBRATION_ROWS = 8192  # at most this many of the calibration positions' inputs go into a weight's GPTQ rounding
_WEIGHTS = ("W",)  # the tensors stored in the chosen format; the others (biases, constants) stay float32
_page: dict = {"keys": set(), "bytes": 0}


def static_html(
    explorer: "LatentExplorer",
    steps: int | None = None,
    max_bytes: int | None = STATIC_MAX_BYTES,
    continuous: bool = True,
) -> str:
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


def slider_layers(explorer: "LatentExplorer", option: str) -> tuple[list[Layer], tuple[int, int]]:
    """``option``'s decoder as layers on the slider values: ``values -> decode(base + values @ directions)``.

    :func:`.decoder_export.trace` folds ``base + values @ directions`` into the decoder's first
    linear layer (and a conditional GAN's class into its bias), so that layer has one column per
    slider instead of one per latent dimension.
    """
    base, dirs, decode = explorer.base[option], explorer.directions[option], explorer.options[option]
    return decoder_export.trace(lambda s: decode(base + s @ dirs), torch.tensor(explorer.initial_values(option)))


def slider_values(explorer: "LatentExplorer", option: str) -> list[np.ndarray]:
    """The :data:`POSITIONS` values of each slider, as ``static.js`` computes them
    (``low + (high - low) k / (n - 1)``)."""
    k = np.arange(POSITIONS, dtype=np.float64)
    return [lo + (hi - lo) * k / (POSITIONS - 1) for lo, hi in explorer.slider_limits(option)]


def decoder_html(explorer: "LatentExplorer", number: int) -> tuple[str | None, str | None]:
    """``(html, None)``, or ``(None, why not)`` when the widget keeps its sprite sheet."""
    names = explorer.option_names
    try:
        traced = {k: slider_layers(explorer, k) for k in names}
    except UnsupportedDecoder as e:
        return None, str(e)
    shapes = {hw for _, hw in traced.values()}
    if len(shapes) != 1:
        return None, f"the options decode to different image sizes {sorted(shapes)}"
    values = {k: slider_values(explorer, k) for k in names}
    groups = _groups({k: layers for k, (layers, _) in traced.items()})
    chains, units = {}, []
    for group in groups:
        pruned, report = decoder_prune.prune([traced[k][0] for k in group], [values[k] for k in group])
        chains.update(zip(group, pruned))
        units.extend(report)
    checks = {k: _grid_values(values[k], explorer.n_sliders, offset=False) for k in names}
    calibration = {k: _grid_values(values[k], explorer.n_sliders, offset=True) for k in names}
    reference = {
        k: explorer._decode(k, explorer.base[k] + torch.tensor(checks[k], dtype=torch.float32) @ explorer.directions[k])
        .reshape(len(checks[k]), -1)
        .numpy()
        for k in names
    }
    left = DECODER_PAGE_BYTES - _page["bytes"]
    reasons = []
    for fmt in FORMATS:
        stored = {}
        for group in groups:
            stored.update(zip(group, _store_group([chains[k] for k in group], fmt, [calibration[k] for k in group])))
        blobs = {
            key: b64
            for layers in stored.values()
            for layer in layers
            for key, b64 in layer[1].items()
            if key not in _page["keys"]
        }
        size = sum(len(b) for b in blobs.values())
        if size > left:
            reasons.append(
                (
                    f"{size / 1e6:.2f} MB of {fmt} weights, {max(left, 0) / 1e6:.2f} MB left of the page's "
                    f"{DECODER_PAGE_BYTES / 1e6:.1f} MB"
                )
            )
            continue
        err = max(_max_error(stored[k], checks[k], reference[k]) for k in names)
        if err > TOLERANCE:
            reasons.append(
                f"{fmt} weights change pixels by up to {err * 255:.1f}/255 (allowed {TOLERANCE * 255:.0f}/255)"
            )
            continue
        _page["keys"].update(blobs)
        _page["bytes"] += size
        checked = sum(len(c) for c in checks.values())
        out = _render(
            explorer,
            number,
            traced=traced,
            stored=stored,
            blobs=blobs,
            fmt=fmt,
            err=err,
            size=size,
            units=units,
            checked=checked,
        )
        return out, None
    return None, "; ".join(reasons)


def _groups(chains: dict[str, list[Layer]]) -> list[list[str]]:
    """The options in groups that share their weights past the first layer (one model each: a
    conditional GAN's ten classes are one group, an AAE's three priors three)."""
    groups: dict[tuple, list[str]] = {}
    for k, layers in chains.items():
        shared = tuple(hashlib.sha1(la.tensors["W"].tobytes()).hexdigest() for la in layers[1:] if "W" in la.tensors)
        groups.setdefault(shared, []).append(k)
    return list(groups.values())


def _grid_values(values: list[np.ndarray], n_sliders: int, offset: bool) -> list[list[float]]:
    """Every :data:`CHECK_EVERY`-th position of each slider: where the export's error is measured;
    with ``offset``, the positions halfway between them: the inputs :func:`.decoder_export.gptq`
    rounds the integer weights for (so the error is measured where the rounding was not fitted)."""
    every = CHECK_EVERY[min(n_sliders, max(CHECK_EVERY))]
    return decoder_prune.positions([v[every // 2 :: every] if offset else v[::every] for v in values]).tolist()


def _store_group(chains: list[list[Layer]], fmt: str, calibration: list[list[list[float]]]) -> list[list[tuple]]:
    """Each chain's layers in ``fmt`` (:func:`_store`); a weight that several options share is
    stored once, its integers rounded for the inputs of all of them (float16 needs no inputs)."""
    integers = decoder_export.bits(fmt) is not None
    xs = [np.asarray(c, np.float32) for c in calibration]
    stored: list[list[tuple]] = [[] for _ in chains]
    for i in range(len(chains[0])):
        layers = [chain[i] for chain in chains]
        big = layers[0].op == "linear" and layers[0].tensors["W"].size > SMALL
        keys = [hashlib.sha1(la.tensors["W"].tobytes()).hexdigest() for la in layers] if big and integers else []
        done: dict[str, tuple] = {}
        for o, layer in enumerate(layers):
            if keys:
                if keys[o] not in done:
                    same = np.concatenate([x for x, key in zip(xs, keys) if key == keys[o]])
                    rows = np.linspace(0, len(same) - 1, min(len(same), CALIBRATION_ROWS)).round().astype(int)
                    done[keys[o]] = _store(Layer("linear", {"W": layer.tensors["W"]}), fmt, same[np.unique(rows)])
                js, blobs, rebuilt = done[keys[o]]
                bias = _store(Layer("linear", {"b": layer.tensors["b"]}), fmt)
                item = (
                    {"op": "linear", "t": {**js["t"], **bias[0]["t"]}},
                    {**blobs, **bias[1]},
                    {**rebuilt, **bias[2]},
                )
            else:
                item = _store(layer, fmt)
            stored[o].append(item)
            if integers:  # the next layer's inputs, through this layer as stored
                xs[o] = decoder_export.run([Layer(layer.op, item[2], layer.params)], xs[o])
    return stored


def _store(
    layer: Layer, fmt: str, inputs: np.ndarray | None = None
) -> tuple[dict, dict[str, str], dict[str, np.ndarray]]:
    """``(the layer's JSON, {key: base64} of its tensors, the float32 tensors decoder.js rebuilds)``.

    Weights (``W``) of more than :data:`SMALL` values are stored in ``fmt`` (integers rounded by GPTQ for
    ``inputs`` when given); smaller ones, biases and constants as float32.
    """
    refs, blobs, rebuilt = {}, {}, {}
    for name, t in layer.tensors.items():
        big = name in _WEIGHTS and t.size > SMALL
        q = decoder_export.quantize(t, fmt if big else "f32", inputs if big else None)
        raw = q["data"] + q.get("scales", b"")
        key = hashlib.sha1(f"{q['fmt']}{q['shape']}".encode() + raw).hexdigest()[:16]
        refs[name] = {"k": key, "f": q["fmt"], "s": q["shape"], **({"g": q["group"]} if "group" in q else {})}
        blobs[key] = base64.b64encode(raw).decode()
        rebuilt[name] = decoder_export.dequantize(q)
    return {"op": layer.op, **({"p": layer.params} if layer.params else {}), "t": refs}, blobs, rebuilt


def _max_error(stored, values, reference) -> float:
    layers = [Layer(js["op"], rebuilt, js.get("p", {})) for js, _, rebuilt in stored]
    return float(np.abs(decoder_export.run(layers, np.asarray(values, np.float32)) - reference).max())


def _probes(explorer) -> list[dict]:
    """:data:`PROBES` seeded slider positions with torch's image there (uint8, base64): the page's own parity check."""
    rng = np.random.default_rng(0)
    names, out = explorer.option_names, []
    for i in range(PROBES):
        o = i % len(names)
        ks = rng.integers(POSITIONS, size=explorer.n_sliders).tolist()
        values = [float(v[k]) for v, k in zip(slider_values(explorer, names[o]), ks)]
        img = np.round(explorer.decode_at(names[o], values).clamp(0, 1).numpy().reshape(-1) * 255).astype(np.uint8)
        out.append({"o": o, "k": ks, "px": base64.b64encode(img.tobytes()).decode()})
    return out


def _render(explorer, number, *, traced, stored, blobs, fmt, err, size, units, checked) -> str:
    names = explorer.option_names
    (h, w) = next(iter(traced.values()))[1]
    first = explorer.decode_at(names[0], explorer.initial_values(names[0]))
    png = png_bytes(first, 1)
    uid = f"tl-latent-{number}-{hashlib.sha1(png + json.dumps(sorted(blobs)).encode()).hexdigest()[:8]}"
    limits = [[list(lim) for lim in explorer.slider_limits(k)] for k in names]
    options = [{"layers": [js for js, _, _ in stored[k]]} for k in names]
    cfg = {
        "mode": "decoder",
        "steps": POSITIONS,
        "limits": limits,
        "h": h,
        "w": w,
        "scale": explorer.scale,
        "options": options,
        **a11y_config(explorer),
    }
    mid = (POSITIONS - 1) // 2
    weights = {
        js["t"]["W"]["k"]: math.prod(js["t"]["W"]["s"])
        for k in names
        for js, _, _ in stored[k]
        if js["op"] in ("linear", "convT")
    }
    n_params = sum(weights.values())
    pos = f"0:{','.join([str(mid)] * explorer.n_sliders)}"
    sw, sh = w * explorer.scale, h * explorer.scale
    start = [lo + (hi - lo) * mid / (POSITIONS - 1) for lo, hi in limits[0]]
    alt = describe(explorer, names[0], start)  # static.js keeps it current, in the page's language
    alt_sl = describe(explorer, names[0], start, "sl")
    view = (
        f'<div class="tl-latent-view" style="position:relative;width:{sw}px;height:{sh}px;background:#000;flex:none">'
        f'<img class="tl-latent-image" src="data:image/png;base64,{base64.b64encode(png).decode()}" '
        f'alt="{html.escape(alt)}"{words.attributes("", alt=alt_sl)} width="{sw}" height="{sh}" '
        f'style="width:{sw}px;height:{sh}px;'
        'max-width:none;margin:0;padding:0;border:0;image-rendering:crisp-edges;image-rendering:pixelated"></div>'
    )
    layers = [js["op"] for js, _, _ in stored[names[0]] if js["op"] in ("linear", "convT")]
    models = len({tuple(js["t"]["W"]["k"] for js, _, _ in stored[k] if js["op"] in ("linear", "convT")) for k in names})
    kind = "float16" if fmt == "f16" else f"{decoder_export.bits(fmt)}-bit"
    shared = "" if blobs else ", shared with a widget above"
    kept, total = sum(u[0] for u in units), sum(u[1] for u in units)
    pruned = (
        f"; {total - kept:,} of the {total:,} hidden units are zero at every slider position and left out"
        if kept < total
        else ""
    )
    note_sl, note_args = words.decoder_note(
        models,
        len(layers),
        n_params,
        kind,
        round(size / 1024),
        not blobs,
        (total - kept, total) if kept < total else None,
        math.ceil(err * 255 * 10) / 10,
        checked,
    )
    probes = json.dumps(_probes(explorer), separators=(",", ":"))
    extra = f'<script type="application/json" class="tl-latent-probes">{probes}</script>' + "".join(
        f'<script type="application/octet-stream" class="tl-latent-weights" data-key="{k}">{b}</script>'
        for k, b in blobs.items()
    )
    return static.shell(
        explorer,
        uid,
        mode="decoder",
        attributes=f'data-steps="{POSITIONS}" data-position="{pos}" data-weight-bytes="{size}"',
        limits=limits[0],
        steps=POSITIONS,
        view=view,
        note=(
            "Decoded in your browser at every slider position: "
            f"the decoder{'s' if models > 1 else ''} ({f'{models} x ' if models > 1 else ''}{len(layers)} layers, "
            f"{n_params:,} {kind} weights, {size / 1024:.0f} KB{shared}{pruned}); "
            f"max |Δ| against PyTorch {math.ceil(err * 255 * 10) / 10:.1f}/255 at {checked:,} slider positions."
        ),
        note_sl=note_sl,
        note_args=note_args,
        config=cfg,
        extra=extra,
        scripts=("decoder.js", "static.js"),
    )
