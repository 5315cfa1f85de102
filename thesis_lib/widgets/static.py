"""The static HTML's parts, and the sprite-sheet export of a
:class:`~thesis_lib.widgets.explorer.LatentExplorer`: one self-contained ``<div>`` for a page
without a kernel (the rendered book). Both static widgets, this one and the decoder's, are built
by :func:`shell`: the same root, title, controls, note, JSON configuration and inline script
around their own view.

The book's widgets come from :func:`.decoder_view.static_html`: they carry their decoder and
decode in the browser at every slider position when the page's weight budget and the format's
tolerance allow (the trade-off, bytes against continuity, is documented there and in
ARCHITECTURE.md). Otherwise, and here, every grid position of every option is decoded at export
time (:meth:`~thesis_lib.widgets.explorer.LatentExplorer.precompute`) and stored in one PNG
sprite sheet (a base64 data URI): ``steps`` positions per slider, 20-300 KB, against 0.3-0.8 MB
for a chapter's decoder. Native range sliders (one step per grid cell) and a ``<select>``
(several options) move the sheet inside a clipping box. The JavaScript is the package file
``static.js`` (both modes), inlined after each widget; element ids are unique, so a page can
hold several widgets. See :mod:`thesis_lib.widgets` for the sprite sheet's page-weight budget.
"""

from __future__ import annotations

import base64
import decimal
import functools
import hashlib
import html
import importlib.resources
import io
import itertools
import json
import math
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from . import words

if TYPE_CHECKING:  # annotations only: explorer.py imports the views
    from .explorer import LatentExplorer

__all__ = [
    "static_html",
    "sprite_png",
    "script",
    "controls",
    "title_html",
    "next_number",
    "describe",
    "speech",
    "root_open",
    "shell",
    "STATIC_MAX_BYTES",
    "WORDS",
]

STATIC_MAX_BYTES = 300_000
"""Default upper bound on one static widget's HTML (sprite sheet + markup + script), in bytes."""

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


@functools.cache
def script(name: str = "static.js") -> str:
    """The code of a package file (``static.js``, ``decoder.js``), its leading comment (for readers of the file) left
    out."""
    source = importlib.resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return source.split("*/", 1)[1].strip() if source.lstrip().startswith("/*") else source.strip()


ROOT_STYLE = "margin:0.5em 0 1em 0;font-size:0.9em;line-height:1.4;max-width:100%"
FLEX_OPEN = '<div style="display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start">'
NOTE_STYLE = "font-size:0.85em;opacity:0.75"
STYLE = (
    "<style>.tl-latent input:focus-visible,.tl-latent select:focus-visible"
    "{outline:3px solid #1a73e8;outline-offset:2px}"
    ".tl-latent input[type=range]{width:12em;max-width:calc(100vw - 9em)}</style>"
)
"""A visible keyboard focus on the controls (WCAG 2.4.7), and sliders that fit a phone's width."""

WORDS = {
    "en": {"image": "decoder output at {point}", "class": "class", "prior": "prior", "option": "option"},
    "sl": {
        "image": "izhod dekoderja pri {point}",
        "class": "razred",
        "prior": "priorna porazdelitev",
        "option": "možnost",
    },
}
"""What a screen reader says about the widget, in each edition's language (``static.js`` picks one by the
page's ``lang``): the decoded image's alternative text and the selector's name (other selector names stay)."""


def speech(value: float, lang: str = "en") -> str:
    """A slider value as the page shows and speaks it: two decimals, a minus sign, a decimal comma in Slovene.

    Rounded as JavaScript's ``toFixed(2)`` rounds (the exact binary value; a tie away from zero), so
    the page's first text and the script's agree."""
    with decimal.localcontext(prec=100):
        hundredths = int(
            (abs(decimal.Decimal(value)) * 100).quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP)
        )
    text = f"{'-' if value < 0 and hundredths else ''}{hundredths // 100}.{hundredths % 100:02d}"
    return (text.replace(".", ",") if lang == "sl" else text).replace("-", "\u2212")


def _in(lang: str, text) -> str:
    """One of the explorer's own strings in ``lang`` (:func:`.words.slovene`; unknown ones stay as they are)."""
    return (words.slovene(str(text)) or str(text)) if lang == "sl" else str(text)


def describe(explorer: "LatentExplorer", option: str, values, lang: str = "en") -> str:
    """The decoded image's alternative text: "decoder output at z1 = 0.50, z2 = −1.00, class 3" (``static.js`` writes
    the same)."""
    said = WORDS[lang]
    point = ", ".join(f"{_in(lang, label)} = {speech(v, lang)}" for label, v in zip(explorer.slider_labels, values))
    if len(explorer.option_names) > 1:
        point += f", {said.get(explorer.selector_label, explorer.selector_label)} {_in(lang, option)}"
    return said["image"].format(point=point)


def a11y_config(explorer: "LatentExplorer") -> dict:
    """What ``static.js`` needs to speak: slider labels, the selector's name, the option names (each also in
    Slovene), the words."""
    return {
        "labels": [str(x) for x in explorer.slider_labels],
        "selector": explorer.selector_label,
        "names": explorer.option_names,
        "words": WORDS,
        "labels_sl": [_in("sl", x) for x in explorer.slider_labels],
        "names_sl": [_in("sl", n) for n in explorer.option_names],
    }


def title_html(explorer: "LatentExplorer", uid: str) -> str:
    if not explorer.title:
        return ""
    return (
        f'<div class="tl-latent-title" id="{uid}-title"{words.attributes(explorer.title)} '
        f'style="font-weight:bold;margin-bottom:0.3em">{html.escape(explorer.title)}</div>'
    )


def root_open(explorer: "LatentExplorer", uid: str, mode: str, attributes: str) -> str:
    """The widget's root: a group named by its title, the focus style, the title."""
    name = f'aria-labelledby="{uid}-title"' if explorer.title else 'aria-label="latent-space explorer"'
    return (
        f'<div id="{uid}" class="tl-latent mathjax_ignore" data-mode="{mode}" role="group" {name} {attributes} '
        f'style="{ROOT_STYLE}">{STYLE}{title_html(explorer, uid)}'
    )


def shell(
    explorer: "LatentExplorer",
    uid: str,
    *,
    mode: str,
    attributes: str,
    limits: list,
    steps: int,
    view: str,
    note: str,
    note_sl: str,
    note_args: list,
    config: dict,
    extra: str = "",
    scripts: tuple[str, ...] = ("static.js",),
) -> str:
    """One static widget's HTML around its view, the same in both modes (``sprite`` here, ``decoder``
    in :mod:`.decoder_view`).

    The root (:func:`root_open`: ``mode``, the root's other ``attributes``, the title), a flex box of
    the :func:`controls` (``steps`` positions per slider within ``limits``, at the middle one) and
    the ``view``; under them the ``note`` (HTML; in Slovene ``note_sl`` with ``note_args``, see
    :func:`.words.attributes`), the ``config`` for ``static.js`` as JSON, the ``extra`` elements (the
    decoder's probes and weights), and the package files ``scripts`` inlined, with the call that
    starts the widget."""
    data = json.dumps(config, separators=(",", ":")).replace("</", "<\\/")
    code = "\n".join(script(name) for name in scripts)
    return "".join(
        [
            root_open(explorer, uid, mode, attributes),
            FLEX_OPEN,
            controls(explorer, uid, limits, steps),
            view,
            "</div>",
            f'<div class="tl-latent-note"{words.attributes("", note_sl, note_args)} style="{NOTE_STYLE}">{note}</div>',
            f'<script type="application/json" class="tl-latent-data">{data}</script>',
            extra,
            f"<script>{code}\nwindow.thesisLibLatent(document.getElementById({json.dumps(uid)}));</script>",
            "</div>",
        ]
    )


def next_number() -> int:
    """A fresh number for a widget's element id (a page can hold several widgets)."""
    return next(_static_counter)


def static_html(
    explorer: "LatentExplorer",
    steps: int | None = None,
    max_bytes: int | None = STATIC_MAX_BYTES,
    reason: str | None = None,
    number: int | None = None,
) -> str:
    """``explorer`` as a self-contained sprite-sheet ``<div>`` that works without a kernel.

    (The book's widgets come from :func:`.decoder_view.static_html`, which prefers carrying the
    decoder and falls back to this.)

    Args:
        steps: grid positions per slider (default ``explorer.steps``).
        max_bytes: upper bound on the returned HTML's size: if the 8-bit sheet makes it
            larger, the sheet is quantised to 16 grey levels, then ``steps`` is lowered
            by 2 at a time (down to 2) until it fits. ``None``: no bound.
        reason: why the widget does not decode in the browser (shown in its note).
    """
    number = next_number() if number is None else number
    steps = explorer.steps if steps is None else int(steps)
    cache: dict[int, dict[str, Tensor]] = {}
    while True:
        if steps not in cache:
            cache = {steps: explorer.precompute(steps=steps)}
        for bits in (8, 4):
            out = _render(explorer, cache[steps], steps, bits, number, reason)
            if max_bytes is None or len(out.encode()) <= max_bytes:
                return out
        if steps <= 2:
            return out
        steps = max(2, steps - 2)


def _render(
    explorer: "LatentExplorer",
    grids: dict[str, Tensor],
    steps: int,
    bits: int,
    number: int = 0,
    reason: str | None = None,
) -> str:
    names = explorer.option_names
    n = explorer.n_sliders
    per_option = steps**n
    tiles = torch.cat([grids[k].reshape(per_option, *grids[k].shape[-2:]) for k in names])
    th, tw = tiles.shape[-2:]
    cols = max(1, math.ceil(math.sqrt(tiles.shape[0])))
    png = sprite_png(tiles, cols, bits)
    uid = f"tl-latent-{number}-{hashlib.sha1(png).hexdigest()[:8]}"
    w, h = tw * explorer.scale, th * explorer.scale
    mid = (steps - 1) // 2
    t0 = sum(mid * steps ** (n - 1 - i) for i in range(n))  # the middle image, shown without JavaScript
    limits = [[list(lim) for lim in explorer.slider_limits(k)] for k in names]
    cfg = {
        "steps": steps,
        "per_option": per_option,
        "cols": cols,
        "w": w,
        "h": h,
        "limits": limits,
        **a11y_config(explorer),
    }
    start = [lo + (hi - lo) * mid / (steps - 1) for lo, hi in limits[0]]
    alt, alt_sl = describe(explorer, names[0], start), describe(explorer, names[0], start, "sl")
    view = _view(png, alt, cols, -(-tiles.shape[0] // cols), w, h, t0).replace(
        " alt=", words.attributes("", alt=alt_sl) + " alt=", 1
    )
    why = f" (not decoded in the browser: {html.escape(reason)})" if reason else ""
    note_sl, note_args = words.sprite_note(steps, per_option * len(names), round(len(png) / 1024), bool(reason))
    return shell(
        explorer,
        uid,
        mode="sprite",
        attributes=f'data-steps="{steps}" data-tile="{t0}" data-position="{t0}"',
        limits=limits[0],
        steps=steps,
        view=view,
        note=(
            f"Precomputed: {steps} positions per slider ({per_option * len(names)} images, "
            f"{len(png) / 1024:.0f} KB){why}; run the notebook for continuous sliders."
        ),
        note_sl=note_sl,
        note_args=note_args,
        config=cfg,
    )


def controls(explorer: "LatentExplorer", uid: str, limits: list, steps: int) -> str:
    """The selector (several options) and one range input with its readout per slider, at the middle position.

    Native controls, so the keyboard works as everywhere (Tab between them; arrows, Page Up/Down,
    Home and End on a slider); each has a ``<label>``, and each slider a value text
    (``aria-valuetext``, kept current by ``static.js`` in the page's language)."""
    esc = html.escape
    mid = (steps - 1) // 2
    parts = [
        '<div class="tl-latent-controls" style="display:grid;grid-template-columns:auto auto auto;'
        'gap:0.3em 0.6em;align-items:center">'
    ]
    if len(explorer.option_names) > 1:
        opts = "".join(
            f'<option value="{esc(k)}"{words.attributes(k)}>{esc(k)}</option>' for k in explorer.option_names
        )
        parts.append(
            f'<label for="{uid}-select"'
            f"{words.attributes(explorer.selector_label)}>{esc(explorer.selector_label)}</label>"
            f'<select id="{uid}-select" style="grid-column:span 2;justify-self:start">{opts}</select>'
        )
    for i, label in enumerate(explorer.slider_labels):
        lo, hi = limits[i]
        v = speech(lo + (hi - lo) * mid / (steps - 1))
        # the readout repeats the slider's value text, which a screen reader speaks: hidden from it
        parts.append(
            f'<label for="{uid}-s{i}"{words.attributes(str(label))}>{esc(str(label))}</label>'
            f'<input type="range" id="{uid}-s{i}" min="0" max="{steps - 1}" step="1" value="{mid}" '
            f'aria-valuetext="{v}">'
            f'<output for="{uid}-s{i}" aria-hidden="true" style="font-family:monospace;min-width:4em">{v}</output>'
        )
    parts.append("</div>")
    return "".join(parts)


def _view(png: bytes, alt: str, cols: int, rows: int, w: int, h: int, tile: int) -> str:
    """The clipping box of one tile, with the whole sprite sheet moved to show tile ``tile``."""
    c0, r0 = tile % cols, tile // cols
    return (
        '<div class="tl-latent-view" style="position:relative;overflow:hidden;'
        f'width:{w}px;height:{h}px;background:#000;flex:none">'
        f'<img class="tl-latent-sprite" src="data:image/png;base64,{base64.b64encode(png).decode()}" '
        f'alt="{html.escape(alt)}" width="{cols * w}" height="{rows * h}" style="position:absolute;'
        f"left:{-c0 * w}px;top:{-r0 * h}px;width:{cols * w}px;height:{rows * h}px;max-width:none;"
        'max-height:none;margin:0;padding:0;border:0;image-rendering:crisp-edges;image-rendering:pixelated">'
        "</div>"
    )
