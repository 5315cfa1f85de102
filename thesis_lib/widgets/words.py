"""The latent explorers' words in Slovene, for the book's Slovene edition.

A static explorer (:mod:`.static`, :mod:`.decoder_view`) writes its labels and its note in English
and carries the Slovene beside them in ``data-sl`` attributes (``data-sl-alt`` for an image's text
alternative); ``static.js`` shows the Slovene when the page's language
(``document.documentElement.lang``) starts with ``sl``, as the games do (:mod:`.game`). Numbers in
a note are ``{0}``, ``{1}`` ... in the Slovene text and ``[value, decimals]`` in ``data-sl-args``:
the browser writes them with ``Intl.NumberFormat("sl")`` (CLDR: decimal comma, grouping dot).

:func:`slovene` translates the explorer's own strings (titles made from the models' axis
descriptions, slider and selector labels, option names); a string it does not know stays English
(and the Slovene edition's browser test finds it).
"""

from __future__ import annotations

import html
import json
import re

__all__ = ["slovene", "attributes", "decoder_note", "sprite_note"]

WORDS = {
    "class": "razred",
    "prior": "priorna porazdelitev",
    "option": "možnost",
    "gaussian": "Gaussova",
    "mixture": "mešanica",
    "swiss-roll": "švicarska rolada",
    "swiss roll": "švicarska rolada",
    "noise z = z₀ + Σ value·direction": "šum z = z₀ + Σ vrednost·smer",
    "latent point (z1, z2)": "latentna točka (z1, z2)",
}
PER = {"class": "po razredih", "prior": "po priornih porazdelitvah"}
# what the points are, as the descriptions name them: one (as "the mean ..."), several (genitive)
MEAN = {"code": "povprečna koda", "prior sample": "povprečni vzorec priorne porazdelitve"}
OF = {"codes": "kod", "prior samples": "vzorcev priorne porazdelitve"}
NEUTRAL = re.compile(r"[zZ]?\d+|[A-Z]{2,5}|")
"""Strings that read the same in both languages: z1, 7, VAE."""


def slovene(text: str) -> str | None:
    """The Slovene of one of the explorer's strings, ``None`` if it is not known (it stays English)."""
    text = str(text)
    if NEUTRAL.fullmatch(text):
        return text
    if text in WORDS:
        return WORDS[text]
    if m := re.fullmatch(r"PC(\d+)", text):
        return f"GK{m.group(1)}"  # glavna komponenta
    if m := re.fullmatch(r"direction (\d+)", text):
        return f"smer {m.group(1)}"
    if m := re.fullmatch(r"(.+), per (class|prior)", text):
        head = slovene(m.group(1))
        return None if head is None else f"{head}, {PER[m.group(2)]}"
    if m := re.fullmatch(r"([A-Za-z][\w-]*): (.+)", text):
        rest = slovene(m.group(2))
        return None if rest is None else f"{m.group(1)}: {rest}"
    if m := re.fullmatch(r"latent point \(z1, z2\), range: (\d+)-(\d+) percentiles of the (codes|prior samples)", text):
        return f"latentna točka (z1, z2), razpon: od {m.group(1)}. do {m.group(2)}. percentila {OF[m.group(3)]}"
    if m := re.fullmatch(
        r"mean (code|prior sample) \+ sliders × sd along the principal directions of the (\d+)-D (codes|prior samples)",
        text,
    ):
        return (
            f"{MEAN[m.group(1)]} + drsniki × standardni odklon vzdolž glavnih smeri {m.group(2)}-dimenzionalnih "
            f"{OF[m.group(3)]}"
        )
    return None


def attributes(english: str, sl: str | None = None, args: list | None = None, alt: str | None = None) -> str:
    """`` data-sl="..."`` (and ``data-sl-args``, ``data-sl-alt``) for an element that shows ``english``.

    ``sl`` defaults to :func:`slovene` of ``english``; nothing is added for a string that reads the
    same in both languages or has no Slovene.
    """
    sl = slovene(english) if sl is None else sl
    out = ""
    if sl is not None and sl != english:
        out += f' data-sl="{html.escape(sl)}"'
        if args:
            out += f" data-sl-args='{html.escape(json.dumps(args, separators=(',', ':')), quote=False)}'"
    if alt is not None:
        out += f' data-sl-alt="{html.escape(alt)}"'
    return out


def decoder_note(
    models: int,
    layers: int,
    weights: int,
    kind: str,
    kb: int,
    shared: bool,
    pruned: tuple[int, int] | None,
    err: float,
    checked: int,
) -> tuple[str, list]:
    """:mod:`.decoder_view`'s note in Slovene: the text (numbers as ``{i}``) and its ``[value, decimals]`` arguments.

    Every number stands where no noun depends on it ("število slojev: 7"), so no plural form is needed.
    """
    bits = {"float16": "float16"}.get(kind, kind.replace("-bit", "-bitne"))
    who = f"Dekoderji ({models}), vsak" if models > 1 else "Dekoder"
    text = (
        f"Dekodirano v vašem brskalniku pri vsakem položaju drsnikov. {who}: število slojev {{0}}, uteži ({bits}) "
        f"{{1}}, "
        f"{{2}} KB{', skupne z gradnikom zgoraj' if shared else ''}"
    )
    args = [[layers, 0], [weights, 0], [kb, 0]]
    if pruned is not None:
        text += "; skrite enote, ki so pri vseh položajih drsnikov enake 0 in so izpuščene: {3} od {4}"
        args += [[pruned[0], 0], [pruned[1], 0]]
    n = len(args)
    text += f". Največja |Δ| glede na PyTorch: {{{n}}}/255 (število preverjenih položajev drsnikov: {{{n + 1}}})."
    return text, args + [[err, 1], [checked, 0]]


def sprite_note(steps: int, images: int, kb: int, why: bool) -> tuple[str, list]:
    """:mod:`.static`'s sprite-sheet note in Slovene (numbers as ``{i}``) and its arguments."""
    reason = (
        " (dekoder ne ustreza proračunu strani ali dovoljeni napaki, zato se ne dekodira v brskalniku)" if why else ""
    )
    return (
        (
            f"Vnaprej izračunano: število položajev na drsnik {{0}}, slik {{1}}, {{2}} KB{reason}; za zvezne drsnike "
            "poženite zvezek."
        ),
        [[steps, 0], [images, 0], [kb, 0]],
    )
