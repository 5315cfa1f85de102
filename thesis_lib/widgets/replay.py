"""Training replays: a slider over the snapshots a run recorded of itself (:mod:`thesis_lib.snapshots`).

:func:`replay` takes a run folder, a :class:`~thesis_lib.trainer.Trainer` (what ``train()`` returns),
a ``snapshots.pt`` file or a snapshots dict, and returns a :class:`Replay`. Displayed, it is one
output with two renderings, as the latent explorers are (:mod:`.explorer`): in JupyterLab the live
ipywidgets view (:meth:`Replay.widget`: Play and a slider over the snapshots, the step and epoch,
the pictures), and in the book build (``$THESIS_LIB_STATIC_WIDGETS``) also ``text/html``
(:meth:`Replay.static_html`), which the book shows.

**The static replay** is one self-contained ``<div class="tl-replay">``: per shown snapshot one
small PNG per panel (:mod:`.replay_frames`), base64 in the widget's JSON; a native range input and a
play button; the package file ``replay.js`` swaps the images. No network, works from ``file://``;
without JavaScript it shows the last snapshot. Within ``max_bytes`` (:data:`REPLAY_MAX_BYTES`): the
grey panels drop to 16 levels, then fewer snapshots are carried (evenly spaced in the recorded
order, so the dense early ones stay dense; the first and the last always) until it fits; the note
says how many. Words in both languages: the English text with ``data-sl`` attributes
(:func:`.words.attributes`), and the script's words for both in the JSON, picked by the page's
language.

**In print** (the PDF edition) the slider is hidden and a strip of :data:`STRIP` snapshots is shown
(``@media print``; ``replay.js`` builds it from the same images), so the printed page shows training
progress. The test hook ``root.tlShow(i)`` shows snapshot ``i`` of those carried.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from pathlib import Path

import numpy as np

from ..profiling import stage
from ..snapshots import SNAPSHOTS, Snapshots, load_snapshots
from ..trainer import Trainer
from . import words
from .explorer import static_html_wanted
from .replay_frames import frames, inputs_picture, panels, png
from .static import next_number, script

__all__ = ["replay", "Replay", "REPLAY_MAX_BYTES", "STRIP", "WORDS"]

REPLAY_MAX_BYTES = 250_000
"""Upper bound on one static replay's HTML, in bytes (a page's limit is 1.8 MB: ``tests/test_browser.py``)."""
STRIP = 6
"""Snapshots in the printed strip."""
SCALE = 2
"""Pixels per picture pixel on the screen (nearest neighbour)."""
INTERVAL_MS = 350
"""Play's time per snapshot."""

WORDS = {
    "en": {
        "title": "Training replay: {model}",
        "slider": "training step",
        "when": "step {step}, epoch {epoch}",
        "samples": "samples from fixed noise",
        "points": "samples from fixed noise (points)",
        "reconstructions": "reconstructions of validation images (above: the images)",
        "inputs": "the validation images that are reconstructed",
        "codes": "codes of {n} validation images, coloured by class",
        "play": "play",
        "pause": "pause",
        "strip": "the run at {n} of its snapshots",
    },
    "sl": {
        "title": "Potek učenja: {model}",
        "slider": "korak učenja",
        "when": "korak {step}, epoha {epoch}",
        "samples": "vzorci iz vnaprej izžrebanega šuma",
        "points": "vzorci iz vnaprej izžrebanega šuma (točke)",
        "reconstructions": "rekonstrukcije validacijskih slik (zgoraj: slike)",
        "inputs": "validacijske slike, ki se rekonstruirajo",
        "codes": "kode {n} validacijskih slik, obarvane po razredih",
        "play": "predvajaj",
        "pause": "ustavi",
        "strip": "učenje v {n} posnetkih",
    },
}
"""The replay's words; ``replay.js`` uses the page's language's, the HTML is written in English with ``data-sl``."""


def replay(source, *, title: str | None = None, max_bytes: int | None = REPLAY_MAX_BYTES) -> "Replay":
    """A training replay of ``source``: a run folder or its ``snapshots.pt``, a ``Trainer`` (``train()``'s result:
    its folder's file, else a :class:`~thesis_lib.snapshots.Snapshots` among its callbacks), or a snapshots dict.

    ``title`` defaults to "Training replay: <MODEL>"; ``max_bytes`` bounds the static HTML (``None``: no bound).
    """
    if isinstance(source, dict):
        snapshots = source
    elif isinstance(source, (str, Path)):
        snapshots = load_snapshots(source)
    elif isinstance(source, Trainer):
        recorders = [cb for cb in source.callbacks if isinstance(cb, Snapshots)]
        if source.out_dir is not None and (Path(source.out_dir) / SNAPSHOTS).exists():
            snapshots = load_snapshots(source.out_dir)
        elif recorders:
            snapshots = recorders[0].to_dict()
        else:
            raise ValueError(
                "replay: this run recorded no snapshots (it was trained without a folder); train with cache=True or "
                "out_dir=..., or pass callbacks=[Snapshots()]"
            )
    else:
        raise ValueError(
            f"replay: source is a {type(source).__name__}; expected a run folder, a snapshots.pt file, the result of "
            "train() or a snapshots dict"
        )
    for key in ("steps", "epochs", "samples"):
        if key not in snapshots:
            raise ValueError(f"replay: the snapshots have no {key!r}; expected the dict of thesis_lib.snapshots")
    if not snapshots["steps"]:
        raise ValueError("replay: the snapshots are empty (the run recorded none)")
    return Replay(snapshots, title=title, max_bytes=max_bytes)


def _when(step: int, epoch: float) -> str:
    return WORDS["en"]["when"].format(step=step, epoch=f"{epoch:.2f}")


class Replay:
    """A training replay (see the module's docstring): :attr:`snapshots` (the dict), :meth:`widget`,
    :meth:`static_html`; displayed, the live widget (and the static HTML in the book build)."""

    def __init__(self, snapshots: dict, title: str | None = None, max_bytes: int | None = REPLAY_MAX_BYTES):
        self.snapshots = snapshots
        self.model_name = str(snapshots.get("model", "model")).upper()
        self.title = title if title is not None else WORDS["en"]["title"].format(model=self.model_name)
        self.max_bytes = max_bytes
        self.panels = panels(snapshots)
        if not snapshots.get("images", True):
            self.panels = ["points" if p == "samples" else p for p in self.panels]
        self._pngs: dict[tuple[int, int], dict[str, bytes]] = {}

    def __len__(self) -> int:
        return len(self.snapshots["steps"])

    def when(self, i: int) -> str:
        """Snapshot ``i``'s step and epoch in words ("step 1200, epoch 3.08")."""
        return _when(int(self.snapshots["steps"][i]), float(self.snapshots["epochs"][i]))

    def pngs(self, i: int, bits: int = 8) -> dict[str, bytes]:
        """Snapshot ``i``'s panels as PNG bytes (picture pixels 1:1; grey panels at ``bits`` 8 or 4)."""
        if (i, bits) not in self._pngs:
            pics = frames(self.snapshots, i)
            self._pngs[(i, bits)] = {
                name: png(pic, bits=bits, palette=pal) for name, (pic, pal) in zip(self.panels, (pics[k] for k in pics))
            }
        return self._pngs[(i, bits)]

    def label(self, panel: str, lang: str = "en") -> str:
        """A panel's caption in ``lang``."""
        n = len(self.snapshots["labels"]) if "labels" in self.snapshots else 0
        return WORDS[lang][panel].format(n=f"{n:,}" if lang == "en" else f"{n:,}".replace(",", "."))

    # -- the live view -------------------------------------------------------------------------------------
    def widget(self):
        """The live view: an ``ipywidgets.VBox`` with ``.play``, ``.slider``, ``.readout`` and ``.images`` (a dict by
        panel) as attributes; moving the slider shows that snapshot's pictures."""
        import ipywidgets as w

        last = len(self) - 1
        slider = w.IntSlider(value=last, min=0, max=last, step=1, description=WORDS["en"]["slider"], readout=False)
        slider.style.description_width = "initial"
        play = w.Play(value=last, min=0, max=last, step=1, interval=INTERVAL_MS, description=WORDS["en"]["play"])
        w.jslink((play, "value"), (slider, "value"))
        readout = w.Label()
        images = {p: w.Image(format="png") for p in self.panels}
        boxes = []
        inputs = inputs_picture(self.snapshots)
        for p in self.panels:
            parts = [w.Label(self.label(p))]
            if p == "reconstructions" and inputs is not None:
                parts.append(w.Image(value=_scaled_png(inputs, False), format="png"))
            boxes.append(w.VBox([*parts, images[p]]))

        def show(*_):
            i = slider.value
            readout.value = self.when(i)
            pics = frames(self.snapshots, i)
            for p, (pic, pal) in zip(self.panels, pics.values()):
                images[p].value = _scaled_png(pic, pal)

        slider.observe(show, names="value")
        show()
        wrap = w.Layout(flex_flow="row wrap", grid_gap="1em")
        title = w.HTML(f"<b>{html.escape(self.title)}</b>")
        box = w.VBox([title, w.HBox([play, slider, readout]), w.HBox(boxes, layout=wrap)])
        box.play, box.slider, box.readout, box.images = play, slider, readout, images
        return box

    # -- the static view -----------------------------------------------------------------------------------
    def static_html(self, max_bytes: int | None = None, number: int | None = None) -> str:
        """The replay as a self-contained ``<div>`` (see the module's docstring), at most ``max_bytes`` (default the
        replay's ``max_bytes``) when that can be met with the first and the last snapshot."""
        max_bytes = self.max_bytes if max_bytes is None else max_bytes
        number = next_number() if number is None else number
        n = len(self)
        count = n
        while True:
            shown = _spread(n, count)
            for bits in (8, 4):
                out = self._render(shown, bits, number)
                size = len(out.encode())
                if max_bytes is None or size <= max_bytes:
                    return out
            if count <= 2:
                return out
            count = max(2, min(count - 1, int(count * 0.97 * max_bytes / size)))  # the images are most of the bytes

    def _render(self, shown: list[int], bits: int, number: int) -> str:
        s = self.snapshots
        data = {p: [] for p in self.panels}
        for i in shown:
            for p, b in self.pngs(i, bits).items():
                data[p].append(base64.b64encode(b).decode())
        kb = round(sum(len(x) for v in data.values() for x in v) * 3 / 4 / 1024)
        digest = hashlib.sha1("".join(data[self.panels[0]]).encode()).hexdigest()[:8]
        uid = f"tl-replay-{number}-{digest}"
        last = len(shown) - 1
        when = self.when(shown[last])
        cfg = {
            "steps": [int(s["steps"][i]) for i in shown],
            "epochs": [float(s["epochs"][i]) for i in shown],
            "panels": self.panels,
            "frames": data,
            "strip": sorted(set(np.linspace(0, last, min(STRIP, len(shown))).round().astype(int).tolist())),
            "interval": INTERVAL_MS,
            "scale": SCALE,
            "words": {lang: {**WORDS[lang], **{p: self.label(p, lang) for p in self.panels}} for lang in ("en", "sl")},
        }
        payload = json.dumps(cfg, separators=(",", ":")).replace("</", "<\\/")
        title_sl = WORDS["sl"]["title"].format(model=self.model_name) if self.title == self._default_title() else None
        esc = html.escape
        views = []
        inputs = inputs_picture(s)
        for p in self.panels:
            extra = ""
            if p == "reconstructions" and inputs is not None:
                src = base64.b64encode(png(inputs, bits=bits)).decode()
                extra = _img(src, self.label("inputs"), "tl-replay-inputs", p, inputs.shape)
            pic_shape = frames(s, shown[last])[_panel_key(p)][0].shape
            img = _img(data[p][last], f"{self.label(p)}, {when}", "tl-replay-frame", p, pic_shape)
            views.append(
                '<div class="tl-replay-panel" style="display:flex;flex-direction:column;gap:0.2em;min-width:0;'
                'max-width:100%">'
                f"<div{words.attributes(self.label(p), self.label(p, 'sl'))}>{esc(self.label(p))}</div>"
                f"{extra}{img}</div>"
            )
        note_en = (
            f"{len(shown)} of the run's {len(self)} snapshots, recorded while it trained ({kb} KB); "
            "run the notebook for the live replay."
        )
        note_args = [[len(shown), 0], [len(self), 0], [kb, 0]]
        note_sl = "Posnetkov: {0} od {1}, zabeleženih med učenjem ({2} KB); za živi prikaz poženite zvezek."
        return "".join(
            [
                f'<div id="{uid}" class="tl-replay mathjax_ignore" role="group" aria-labelledby="{uid}-title" '
                f'data-count="{len(shown)}" data-index="{last}" style="margin:0.5em 0 1em 0;font-size:0.9em;'
                f'line-height:1.4;max-width:100%">{STYLE}',
                f'<div id="{uid}-title"{words.attributes(self.title, title_sl)} style="font-weight:bold;'
                f'margin-bottom:0.3em">{esc(self.title)}</div>',
                '<div class="tl-replay-live">',
                '<div style="display:flex;flex-wrap:wrap;gap:0.4em 0.8em;align-items:center;margin-bottom:0.4em">',
                f'<button type="button" class="tl-replay-play"{words.attributes("play", WORDS["sl"]["play"])}>'
                "play</button>",
                f'<label for="{uid}-s"{words.attributes(WORDS["en"]["slider"], WORDS["sl"]["slider"])}>'
                f"{WORDS['en']['slider']}</label>",
                f'<input type="range" id="{uid}-s" min="0" max="{last}" step="1" value="{last}" '
                f'aria-valuetext="{esc(when)}">',
                f'<output for="{uid}-s" aria-hidden="true" style="font-family:monospace">{esc(when)}</output>',
                "</div>",
                f'<div style="display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start">{"".join(views)}</div>',
                "</div>",
                '<div class="tl-replay-strip" role="group" aria-label="'
                + esc(WORDS["en"]["strip"].format(n=len(cfg["strip"])))
                + '"></div>',
                f'<div class="tl-replay-note"{words.attributes(note_en, note_sl, note_args)}'
                f' style="font-size:0.85em;opacity:0.75">{esc(note_en)}</div>',
                f'<script type="application/json" class="tl-replay-data">{payload}</script>',
                f"<script>{script('replay.js')}\nwindow.thesisLibReplay(document.getElementById({json.dumps(uid)}));"
                "</script>",
                "</div>",
            ]
        )

    def glue(self, name: str) -> None:
        """Hand the replay to the page as ``name`` for a ``glue:figure`` (numbered and captioned, as a chapter's
        figures: :func:`thesis_lib.plots.glue_figure`); run live (JupyterLab, Colab) it is also shown under the cell."""
        from IPython.display import display
        from myst_nb import glue

        if not isinstance(name, str) or not name:
            raise ValueError(f"Replay.glue: name={name!r}; expected the figure's non-empty name, e.g. 'fig-ae-replay'")
        glue(name, self, display=False)
        if not static_html_wanted():
            display(self)

    def _default_title(self) -> str:
        return WORDS["en"]["title"].format(model=self.model_name)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """The live widget; in the book build also the static HTML (as :class:`.explorer.LatentExplorer` does).

        No ``_ipython_display_``: IPython would call it instead of formatting the replay, and myst-nb's ``glue``
        (:meth:`glue`) would store an empty bundle."""
        bundle = dict(self.widget()._repr_mimebundle_())
        if static_html_wanted():
            with stage("widget export"):
                bundle["text/html"] = self.static_html()
        bundle["text/plain"] = f"<Replay: {self.title}, {len(self)} snapshots>"
        return bundle


STYLE = (
    "<style>.tl-replay .tl-replay-strip{display:none}"
    ".tl-replay input:focus-visible,.tl-replay button:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}"
    ".tl-replay input[type=range]{width:14em;max-width:calc(100vw - 6em)}"
    ".tl-replay img{image-rendering:crisp-edges;image-rendering:pixelated;max-width:100%;height:auto}"
    "@media print{.tl-replay .tl-replay-live,.tl-replay .tl-replay-note{display:none}"
    ".tl-replay .tl-replay-strip{display:flex;gap:0.5em;break-inside:avoid}"
    ".tl-replay .tl-replay-strip>div{flex:1 1 0;min-width:0;font-size:0.75em}"
    ".tl-replay .tl-replay-strip img{width:100%;display:block;margin-top:0.2em}}</style>"
)
"""Screen: the slider and pictures; print: the strip instead (``replay.js`` fills it)."""


def _panel_key(panel: str) -> str:
    return "samples" if panel == "points" else panel


def _img(src: str, alt: str, cls: str, panel: str, shape) -> str:
    h, w = shape[:2]
    return (
        f'<img class="{cls}" data-panel="{panel}" src="data:image/png;base64,{src}" alt="{html.escape(alt)}" '
        f'width="{w * SCALE}" height="{h * SCALE}" style="width:{w * SCALE}px">'
    )


def _spread(n: int, count: int) -> list[int]:
    """``count`` of ``n`` indices evenly spaced in order, the first and the last included."""
    if count >= n:
        return list(range(n))
    return sorted(set(np.linspace(0, n - 1, count).round().astype(int).tolist()))


def _scaled_png(picture: np.ndarray, palette: bool) -> bytes:
    """A panel's picture upscaled :data:`SCALE` times (nearest neighbour) as PNG, for the live view."""
    big = picture.repeat(SCALE, axis=0).repeat(SCALE, axis=1)
    return png(big, palette=palette)
