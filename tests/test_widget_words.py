"""The latent explorers speak the page's language: English words in the markup, the Slovene beside them
(``data-sl``, :mod:`thesis_lib.widgets.words`), and ``static.js`` shows the Slovene on a page whose
``<html lang>`` is ``sl`` (the book's Slovene edition), with numbers written by ``Intl.NumberFormat("sl")``.

The unit tests read the widgets' HTML for the chapters' kinds of explorer (the same small seeded
models as ``tests/test_widgets_browser.py``); the browser test opens them on a Slovene page.
"""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import torch
from helpers import widget_model
from pdf import CHROMIUM, CHROMIUM_FLAGS  # the one Chromium and its flags (scripts/pdf.py)

from thesis_lib import widgets
from thesis_lib.data import Dataset
from thesis_lib.widgets import decoder_view, static, words

# words that give away an English label or note (the Slovene texts have none of them)
ENGLISH = re.compile(
    r"\b(the|of|per|at|and|in your|decoded|slider|sliders|positions?|weights|layers|precomputed|"
    r"class|prior|option|direction|latent|point|range|percentiles|codes?|mean|noise|mixture|gaussian|swiss)\b",
    re.I,
)


@functools.cache
def _explorers() -> dict:
    g = torch.Generator().manual_seed(0)
    data = Dataset("mnist", "test", torch.rand(300, 1, 28, 28, generator=g), torch.arange(300) % 10, 10)
    priors = {name: widget_model("aae") for name in ("gaussian", "mixture", "swiss-roll")}
    return {
        "ae-3-sliders": widgets.explore(widget_model("ae"), data, n_sliders=3, n=300),  # principal directions PC1..3
        "ae-2d": widgets.explore(
            widget_model("ae-2d"), data, n=300
        ),  # coordinates z1, z2 over percentiles of the codes
        "gan": widgets.explore(widget_model("gan")),  # the GAN's own axes: directions
        "cgan": widgets.explore(widget_model("cgan")),  # a class selector
        "vae-prior": widgets.explore(widget_model("vae"), n=300),  # axes from prior samples
        "aae-priors": widgets.explore_priors(priors, data, n=300),  # a prior selector
    }


class _Texts(HTMLParser):
    """(tag, attributes, text) of the elements a reader sees: title, labels, options, note."""

    def __init__(self):
        super().__init__()
        self.found, self._open = [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("label", "option") or any(
            c in (a.get("class") or "") for c in ("tl-latent-title", "tl-latent-note")
        ):
            self._open = [tag, a, ""]
        if tag == "img":
            self.found.append(("img", a, a.get("alt", "")))

    def handle_data(self, data):
        if self._open is not None:
            self._open[2] += data

    def handle_endtag(self, tag):
        if self._open is not None and tag == self._open[0]:
            self.found.append(tuple(self._open))
            self._open = None


def visible_texts(html: str) -> list[tuple[str, dict, str]]:
    parser = _Texts()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize("sprite", [False, True], ids=["decoder", "sprite"])
def test_every_word_of_a_widget_has_its_slovene(sprite):
    for name, explorer in _explorers().items():
        decoder_view.new_page()
        html = static.static_html(explorer, steps=3) if sprite else explorer.static_html()
        texts = visible_texts(html)
        assert any(t == "div" and "tl-latent-note" in a.get("class", "") for t, a, _ in texts), name
        for tag, attrs, text in texts:
            if tag == "img":
                assert attrs.get("data-sl-alt"), f"{name}: image without a Slovene alt: {attrs.get('alt')!r}"
                continue
            sl = attrs.get("data-sl", text if words.NEUTRAL.fullmatch(text.strip()) else None)
            assert sl is not None, f"{name}: <{tag}> {text!r} has no Slovene"
            assert not ENGLISH.search(sl), f"{name}: <{tag}> Slovene {sl!r} has English words"


def test_slovene_of_the_explorers_strings():
    assert (
        words.slovene("VAE: latent point (z1, z2), range: 1-99 percentiles of the codes, per class")
        == "VAE: latentna točka (z1, z2), razpon: od 1. do 99. percentila kod, po razredih"
    )
    assert (
        words.slovene("AE: mean code + sliders × sd along the principal directions of the 32-D codes")
        == "AE: povprečna koda + drsniki × standardni odklon vzdolž glavnih smeri 32-dimenzionalnih kod"
    )
    assert words.slovene("PC2") == "GK2" and words.slovene("direction 3") == "smer 3" and words.slovene("z1") == "z1"
    assert words.slovene("something new") is None  # stays English (and the test above finds it)
    text, args = words.decoder_note(1, 4, 12345, "8-bit", 315, False, (221, 768), 1.4, 2601)
    assert "{5}" in text and args[-2:] == [[1.4, 1], [2601, 0]] and not ENGLISH.search(text)


@pytest.mark.browser
def test_slovene_page_shows_slovene_words_and_numbers(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found")
    playwright = pytest.importorskip("playwright.sync_api")
    decoder_view.new_page()
    body = "".join(ex.static_html() for ex in _explorers().values()) + static.static_html(
        widgets.explore(widget_model("gan")), steps=3
    )
    pages = {}
    for lang in ("sl", "en"):
        pages[lang] = tmp_path / f"{lang}.html"
        pages[lang].write_text(
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"></head><body>{body}</body></html>',
            encoding="utf-8",
        )
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        for lang, path in pages.items():
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.as_uri())
            shown = page.evaluate(
                "() => [...document.querySelectorAll('.tl-latent-title, .tl-latent label, .tl-latent option, "
                ".tl-latent-note, .tl-latent output')].map(e => e.textContent)"
                ".concat([...document.querySelectorAll('.tl-latent img')].map(i => i.alt))"
            )
            assert not errors and len(shown) > 20, errors
            english = [s for s in shown if ENGLISH.search(s)]
            if lang == "sl":
                assert not english, english[:5]
                readouts = page.evaluate(
                    "() => [...document.querySelectorAll('.tl-latent output')].map(o => o.textContent)"
                )
                assert all(re.fullmatch(r"−?\d+,\d\d", r) for r in readouts), readouts  # decimal comma, minus sign
                assert any(re.search(r"\d\.\d{3}", s) for s in shown), "large numbers grouped with a dot (CLDR sl)"
            else:
                assert len(english) > 10  # the English page keeps the English words
            page.close()
        browser.close()
