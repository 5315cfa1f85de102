"""Games the reader plays in the page: the toy GAN of chapter 1.2 and the AAE's prior matching of
chapter 1.4 train live in the browser, without a kernel.

:func:`gan_game` and :func:`aae_prior_game` return a :class:`GameWidget`, whose ``text/html`` is
one self-contained ``<div class="tl-game">``: native controls with visible labels, two canvases,
the settings as JSON and the package file ``game.js`` inlined (importlib.resources, shipped in
the wheel). The page draws the initial frame on load (what the PDF edition shows: ``scripts/pdf.py``
screenshots ``.tl-game`` like the latent explorers) and trains when the reader presses play, a
few steps per animation frame (as many as fit in about 12 ms), so that the page stays responsive.
No CDN, no ``fetch``: it works from ``file://`` as from a server. The HTML is the same in both
editions; the script picks the labels by the page's language (``document.documentElement.lang``
starting with ``sl``: Slovene labels and decimal commas).

**What is played** is defined by :mod:`thesis_lib.toy_games` (the settings, validated there; the
random numbers, the initial weights and the samplers, of which that module holds the Python twin;
the torch reference that ``tests/test_game_browser.py`` compares with the page, step by step).

**Why hand-written JavaScript.** The networks are tiny (1 or 2 -> 32 -> 32 -> 1 or 2, about 1,200
weights each), so a forward and backward pass is three loops per layer, and Adam ten lines. The
whole game (random numbers, samplers, backpropagation, Adam, the JSD estimate, drawing and
controls) is about 30 KB of readable JavaScript; a widget with its markup, settings and both
languages' words about 37 KB. TensorFlow.js (4.22, measured from npm), vendored, would add 1.47 MB
(``tf.min.js``), or 426 KB for the smallest usable pair (``tfjs-core`` + ``tfjs-backend-cpu``), to
every page that shows a game, against a 1.8 MB page budget of which the GAN chapter already uses
1.53 MB; and its CPU backend computes in float32, while plain JavaScript numbers are float64, as
the torch reference is, so the test can hold the page to 1e-10 instead of float32's noise.

Test hook (``root.tlGame``): ``step(n)`` trains n iterations at once and draws; ``state()`` returns
the step, the settings, the histories (per iteration; the JSD estimate at every ``eval_every``-th
step) and the networks' parameters; ``reset()``, ``play()``, ``pause()``; ``density(points)``
gives the page's smoothed p_data (checked against :func:`thesis_lib.toy_jsd.smoothed_density`).
"""

from __future__ import annotations

import html
import json

from .. import toy, toy_games
from ..toy_games import PRIORS, RING, AAEGame, GANGame
from . import static

__all__ = ["gan_game", "aae_prior_game", "GameWidget", "LEARNING_RATES", "LABELS", "VIEWS"]

LEARNING_RATES = (1e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1)
"""The learning rates a reader can choose (a game's own setting is added if it is not one of them)."""

VIEWS = {
    # the JSD estimate: a grid, the kernel's width, G's samples (fixed noise), every how many steps
    "toy-1d": {
        "lo": -6.0,
        "hi": 6.0,
        "cells": 240,
        "bandwidth": 0.1,
        "samples": 1000,
        "eval_every": 10,
        "show": [-5.0, 5.0],
    },
    "mixture-2d": {
        "lo": -6.5,
        "hi": 6.5,
        "cells": 65,
        "bandwidth": 0.3,
        "samples": 1000,
        "eval_every": 20,
        "show": [-6.5, 6.5],
    },
    "aae": {"lo": -6.5, "hi": 6.5, "cells": 52, "samples": 600, "eval_every": 20, "show": [-6.5, 6.5]},
}
"""What the pages evaluate and draw (the grid has ``cells`` cells per axis, its points at the cells' centres)."""

MAX_STEPS = 5000
"""Play stops here (the reader can press play again): a forgotten tab does not train forever."""

LABELS = {
    "en": {
        "gan_title": "Algorithm 1, live: {data}",
        "aae_title": "The AAE's regularisation, live: codes of the ring's ten clusters",
        "toy-1d": "two Gaussians at ±2 (1-D)",
        "mixture-2d": "the ring of ten Gaussians (2-D)",
        "k": "k (D steps per G step)",
        "generator_loss": "generator loss",
        "minimax": "minimax loss log(1 − D(G(z)))",
        "nonsaturating": "non-saturating loss −log D(G(z))",
        "lr_d": "learning rate of the discriminator D",
        "lr_g": "learning rate of the generator G",
        "lr": "learning rate (reconstruction)",
        "reg_lr": "learning rate of the regulariser",
        "noise": "noise p_z",
        "gaussian": "Gaussian",
        "uniform": "uniform U(−1, 1)",
        "prior": "prior p(z)",
        "mixture": "mixture of ten Gaussians",
        "swiss-roll": "swiss roll",
        "seed": "seed",
        "play": "Play",
        "pause": "Pause",
        "step": "One step",
        "reset": "Reset",
        "steps": "steps",
        "value": "value function V(D, G)",
        "jsd": "Jensen–Shannon divergence (estimate, nats)",
        "p_data": "p_data",
        "p_g": "p_g",
        "d": "D(x)",
        "samples": "samples: data (black), G (green)",
        "surface": "decision surface D(x): blue = real",
        "codes": "the encoder's codes E(x), coloured by cluster; prior samples grey",
        "data": "data x",
        "recon": "reconstruction error",
        "d_prior": "D(z~p)",
        "d_code": "D(z~q)",
        "view_gan": "p_data, p_g and D(x) of the current step",
        "view_aae": "the codes, the prior and D(z)",
        "chart": "the game's numbers over the steps",
        "nojs": "This game runs in the browser: it needs JavaScript.",
    },
    "sl": {
        "gan_title": "Interaktivni algoritem 1: {data}",
        "aae_title": "Interaktivna regularizacija AAE: kode desetih gruč obroča",
        "toy-1d": "dve Gaussovi porazdelitvi pri ±2 (1-D)",
        "mixture-2d": "obroč desetih Gaussovih porazdelitev (2-D)",
        "k": "k (koraki D na korak G)",
        "generator_loss": "izguba generatorja",
        "minimax": "minimaks izguba log(1 − D(G(z)))",
        "nonsaturating": "nenasičujoča izguba −log D(G(z))",
        "lr_d": "stopnja učenja diskriminatorja D",
        "lr_g": "stopnja učenja generatorja G",
        "lr": "stopnja učenja (rekonstrukcija)",
        "reg_lr": "stopnja učenja regularizacije",
        "noise": "šum p_z",
        "gaussian": "Gaussov",
        "uniform": "enakomeren U(−1, 1)",
        "prior": "priorna porazdelitev p(z)",
        "mixture": "mešanica desetih Gaussovih",
        "swiss-roll": "švicarska rolada",
        "seed": "seme",
        "play": "Zaženi",
        "pause": "Ustavi",
        "step": "En korak",
        "reset": "Ponastavi",
        "steps": "koraki",
        "value": "funkcija vrednosti V(D, G)",
        "jsd": "Jensen–Shannonova divergenca (ocena v natih)",
        "p_data": "p_data",
        "p_g": "p_g",
        "d": "D(x)",
        "samples": "vzorci: podatki (črni), G (zeleni)",
        "surface": "odločitvena ploskev D(x): modro = resnično",
        "codes": "kode enkoderja E(x), obarvane po gručah; vzorci priorne porazdelitve sivi",
        "data": "podatki x",
        "recon": "rekonstrukcijska napaka",
        "d_prior": "D(z~p)",
        "d_code": "D(z~q)",
        "view_gan": "p_data, p_g in D(x) trenutnega koraka",
        "view_aae": "kode, priorna porazdelitev in D(z)",
        "chart": "številke igre skozi korake",
        "nojs": "Ta igra teče v brskalniku: potrebuje JavaScript.",
    },
}
"""The widgets' words in both editions (the script picks one by the page's language)."""

STYLE = (
    ".tl-game{margin:0.5em 0 1em 0;font-size:0.9em;line-height:1.4;max-width:100%}"
    ".tl-game .tl-game-controls{display:flex;flex-wrap:wrap;gap:0.35em 1em;align-items:center;margin:0.3em 0}"
    ".tl-game .tl-game-controls>span{display:inline-flex;gap:0.4em;align-items:center}"
    ".tl-game select,.tl-game input,.tl-game button{font:inherit;max-width:100%}"
    ".tl-game button{padding:0.15em 0.7em;margin-right:0.4em}"
    ".tl-game :focus-visible{outline:3px solid #1a73e8;outline-offset:2px}"
    ".tl-game canvas{display:block;width:100%;max-width:440px;height:auto;margin-top:0.4em;background:#fff}"
    ".tl-game .tl-game-readout{font-family:monospace;font-size:0.95em;min-height:1.4em}"
)


class GameWidget:
    """A game for a page: displays as its HTML (``_repr_html_``); :attr:`html` is the markup.

    ``kind`` names the game for the script (``gan`` or ``aae``), ``view`` its entry of :data:`VIEWS`,
    ``title`` its heading (in English; the script swaps in the page's language), ``controls`` the
    settings the reader changes: ``("number", name, low, high)``, ``("select", name, choices)`` or
    ``("rate", name)`` (a learning rate), and ``height`` the view canvas's height.
    """

    def __init__(
        self,
        kind: str,
        settings: GANGame | AAEGame,
        view: str,
        title: str,
        controls: tuple,
        height: int,
        max_steps: int = MAX_STEPS,
    ):
        self.kind, self.settings, self.view_name, self.title = kind, settings, view, title
        self.controls, self.height, self.max_steps = controls, height, max_steps
        self.number = static.next_number()
        self._html: str | None = None

    @property
    def view(self) -> dict:
        return VIEWS[self.view_name]

    def config(self) -> dict:
        """Everything the script needs: the game's settings, the data's and priors' parameters, the view, the words."""
        return {
            "kind": self.kind,
            "settings": self.settings.to_dict(),
            "max_steps": self.max_steps,
            "view": self.view,
            "mixture_1d": toy.MIXTURE_1D,
            "ring": RING,
            "priors": PRIORS,
            "leaky": toy_games.LEAKY_SLOPE,
            "labels": LABELS,
        }

    @property
    def html(self) -> str:
        if self._html is None:
            self._html = self._render()
        return self._html

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<{self.kind} game: {self.settings!r}>"

    def _render(self) -> str:
        uid = f"tl-game-{self.number}-{self.kind}"
        en, values = LABELS["en"], self.settings.to_dict()
        parts = [
            f'<div id="{uid}" class="tl-game mathjax_ignore" data-game="{self.kind}">',
            f"<style>{STYLE}</style>",
            (
                '<div class="tl-game-title" style="font-weight:bold" '
                f'data-i18n="{self.kind}_title">{html.escape(self.title)}</div>'
            ),
            '<div class="tl-game-controls">',
        ]
        for kind, name, *args in (*self.controls, ("number", "seed", 0, 4294967295)):
            parts.append(CONTROLS[kind](uid, name, values[name], *args))
        parts.append("</div>")
        pressed = {"play": ' aria-pressed="false"'}
        parts.append(
            '<div class="tl-game-buttons">'
            + "".join(
                f'<button type="button" data-act="{act}" data-i18n="{act}"{pressed.get(act, "")}>{en[act]}</button>'
                for act in ("play", "step", "reset")
            )
            + "</div>"
        )
        parts.append('<div class="tl-game-readout"></div>')
        view = f"view_{self.kind}"
        parts.append(
            f'<canvas class="tl-game-view" width="440" height="{self.height}" role="img" aria-label="{en[view]}" '
            f'data-i18n-label="{view}"></canvas>'
        )
        parts.append(
            (
                f'<canvas class="tl-game-chart" width="440" height="170" role="img" aria-label="{en["chart"]}" '
                'data-i18n-label="chart"></canvas>'
            )
        )
        parts.append(f'<p class="tl-game-nojs" data-i18n="nojs">{en["nojs"]}</p>')
        data = json.dumps(self.config(), separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")
        parts.append(f'<script type="application/json" class="tl-game-data">{data}</script>')
        parts.append(
            f"<script>{static.script('game.js')}\nwindow.thesisLibGame(document.getElementById({json.dumps(uid)}));</script>"
        )
        parts.append("</div>")
        return "".join(parts)


def _label(uid: str, name: str) -> str:
    return f'<label for="{uid}-{name}" data-i18n="{name}">{html.escape(LABELS["en"][name])}</label>'


def _number(uid: str, name: str, value: int, lo: int, hi: int) -> str:
    width = f"{len(str(hi)) + 3}ch"
    return (
        f'<span>{_label(uid, name)}<input type="number" id="{uid}-{name}" name="{name}" min="{lo}" max="{hi}" '
        f'step="1" value="{value}" inputmode="numeric" style="width:{width}"></span>'
    )


def _select(uid: str, name: str, value: str, options: tuple[str, ...]) -> str:
    opts = "".join(
        (
            f'<option value="{o}" '
            f'data-i18n="{o}"{" selected" if o == value else ""}>{html.escape(LABELS["en"][o])}</option>'
        )
        for o in options
    )
    return f'<span>{_label(uid, name)}<select id="{uid}-{name}" name="{name}">{opts}</select></span>'


def _rate(uid: str, name: str, value: float) -> str:
    rates = sorted(set(LEARNING_RATES) | {value})
    opts = "".join(f'<option value="{r!r}"{" selected" if r == value else ""}>{_decimal(r)}</option>' for r in rates)
    return f'<span>{_label(uid, name)}<select id="{uid}-{name}" name="{name}" data-number="1">{opts}</select></span>'


CONTROLS = {"number": _number, "select": _select, "rate": _rate}


def _decimal(r: float) -> str:
    """A learning rate without an exponent (0.0001), as the script writes it (with a decimal comma in Slovene)."""
    return f"{r:.10f}".rstrip("0")


def gan_game(dataset: str = "toy-1d", *, max_steps: int = MAX_STEPS, **settings) -> GameWidget:
    """Chapter 1.2's game in the page: Algorithm 1 on the 1-D toy (``toy-1d``) or the ring (``mixture-2d``).

    ``settings`` are :class:`~thesis_lib.toy_games.GANGame`'s (k, generator_loss, lr_d, lr_g, noise,
    seed, batch_size, latent_dim, g_hidden, d_hidden, adam_betas); the defaults are the chapter's toy
    run. The reader changes k, the loss and the learning rates while it plays (the next step uses
    them); a new seed or noise distribution starts a new game. Views: p_data, p_g (a kernel density
    estimate of G's samples) and D(x) in 1-D; the samples and D's decision surface in 2-D; V(D, G)
    per step and the JSD estimate (:func:`thesis_lib.toy_games.jsd`) over the steps.
    """
    game = GANGame(dataset=dataset, **settings)
    controls = (
        ("number", "k", 1, 20),
        ("select", "generator_loss", ("nonsaturating", "minimax")),
        ("rate", "lr_d"),
        ("rate", "lr_g"),
        ("select", "noise", ("gaussian", "uniform")),
    )
    title = LABELS["en"]["gan_title"].format(data=LABELS["en"][dataset])
    return GameWidget("gan", game, dataset, title, controls, 250 if game.data_dim == 1 else 440, _max_steps(max_steps))


def aae_prior_game(prior: str = "gaussian", *, max_steps: int = MAX_STEPS, **settings) -> GameWidget:
    """Chapter 1.4's regularisation in the page: the encoder's codes of the ring's ten clusters are
    pulled towards the chosen prior (``gaussian``, ``mixture``, ``swiss-roll``).

    ``settings`` are :class:`~thesis_lib.toy_games.AAEGame`'s (prior_std, lr, reg_lr, seed, batch_size,
    hidden, d_hidden, adam_betas). Each step plays the AAE's three phases on one minibatch
    (reconstruction, then D, then the encoder with the non-saturating loss; see
    :func:`thesis_lib.toy_games.aae_reference`). Views: the codes (coloured by cluster) over the
    prior's samples and D(z); the reconstruction error and D's mean outputs over the steps.
    """
    game = AAEGame(prior=prior, **settings)
    controls = (("select", "prior", tuple(PRIORS)), ("rate", "lr"), ("rate", "reg_lr"))
    return GameWidget("aae", game, "aae", LABELS["en"]["aae_title"], controls, 440, _max_steps(max_steps))


def _max_steps(n) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 100_000:
        raise ValueError(f"max_steps must be an integer in [1, 100000], got {n!r}")
    return n
