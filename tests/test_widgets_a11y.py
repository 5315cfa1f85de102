"""The latent-space widgets (``thesis_lib/widgets/static.py``, ``decoder_view.py``, ``static.js``) for
readers who use a keyboard, a screen reader or a phone, in Chromium on pages opened via ``file://``.

For a widget that decodes in the browser (with a class selector, with a prior selector, without a
selector) and one that keeps its sprite sheet, on an English and a Slovene page:

* axe-core's WCAG 2.0/2.1 A and AA rules find nothing in the widget;
* every control has a label, every slider a value text (``aria-valuetext``: its value as the
  readout shows it, decimal comma on a Slovene page);
* Tab reaches the selector and then the sliders in order, each with a visible focus outline;
  Arrow keys, Page Up/Down, Home and End move a slider, the arrow keys pick another option;
* the image's alternative text says where it was decoded ("decoder output at z1 = 0.50,
  z2 = −1.00, class 3"; Slovene "izhod dekoderja pri ...") and follows every move: it is the
  text :func:`thesis_lib.widgets.static.describe` gives for the shown position;
* at a 390-pixel phone width the page does not scroll sideways and the widget's controls and
  image lie inside the screen and still work.
"""

from __future__ import annotations

import re
from pathlib import Path

import browser_support
import pytest
import torch
from helpers import widget_model

from thesis_lib import widgets
from thesis_lib.data import Dataset
from thesis_lib.widgets import decoder_view, static

pytestmark = pytest.mark.browser

WIDGETS = ["cgan", "aae-priors", "ae-3-sliders", "cgan-sprite"]


def _explorer(name: str):
    g = torch.Generator().manual_seed(0)
    data = Dataset("mnist", "test", torch.rand(300, 1, 28, 28, generator=g), torch.arange(300) % 10, 10)
    if name.startswith("cgan"):
        return widgets.explore(widget_model("cgan"))
    if name == "aae-priors":
        return widgets.explore_priors({p: widget_model("aae") for p in ("gaussian", "mixture")}, data, n=300)
    return widgets.explore(widget_model("ae"), data, n_sliders=3, n=300)


def _page(browser, tmp_path: Path, name: str, lang: str, width: int = 900):
    decoder_view.new_page()
    ex = _explorer(name)
    html = ex.static_html(continuous=not name.endswith("-sprite"))
    assert f'data-mode="{"sprite" if name.endswith("-sprite") else "decoder"}"' in html
    path = tmp_path / f"{name}-{lang}.html"
    path.write_text(
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><title>widget</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'></head>"
        f"<body style='margin:8px'><main>{html}</main></body></html>",
        encoding="utf-8",
    )
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(path.as_uri())
    return ex, context, page, errors


def _shown(page, ex, lang: str) -> tuple[str, str]:
    """(the image's alternative text, what static.describe says for the position the widget shows)."""
    state = page.evaluate("""() => { const r = document.querySelector('.tl-latent'), s = r.querySelector('select'),
        c = r.querySelector('canvas.tl-latent-canvas'), img = r.querySelector('img.tl-latent-sprite');
        return {o: s ? s.selectedIndex : 0, k: [...r.querySelectorAll('input[type=range]')].map(e => +e.value),
                n: +r.dataset.steps,
                text: c ? c.getAttribute('aria-label') : img.getAttribute('alt')}; }""")
    option = ex.option_names[state["o"]]
    values = [lo + (hi - lo) * k / (state["n"] - 1) for k, (lo, hi) in zip(state["k"], ex.slider_limits(option))]
    return state["text"], static.describe(ex, option, values, lang)


@pytest.mark.parametrize("lang", ["en", "sl"])
@pytest.mark.parametrize("name", WIDGETS)
def test_widget_is_labelled_and_passes_axe(browser, tmp_path, name, lang):
    ex, context, page, errors = _page(browser, tmp_path, name, lang)
    violations = browser_support.axe(page, ".tl-latent")
    assert not violations, browser_support.describe(violations)
    controls = page.evaluate("""() => [...document.querySelectorAll('.tl-latent input, .tl-latent select')].map(e => ({
        label: e.labels.length ? e.labels[0].textContent.trim() : '', valuetext: e.getAttribute('aria-valuetext'),
        readout: e.type === 'range' ? e.nextElementSibling.textContent : null}))""")
    assert controls and all(c["label"] for c in controls), controls
    sliders = [c for c in controls if c["readout"] is not None]
    assert len(sliders) == ex.n_sliders and all(c["valuetext"] == c["readout"] for c in sliders), sliders
    decimal = re.compile(r"^\u2212?\d+,\d\d$" if lang == "sl" else r"^\u2212?\d+\.\d\d$")
    assert all(decimal.match(c["valuetext"]) for c in sliders), sliders
    text, expected = _shown(page, ex, lang)
    assert text == expected and text.startswith("izhod dekoderja pri " if lang == "sl" else "decoder output at "), (
        text,
        expected,
    )
    if len(ex.option_names) > 1:
        word = static.WORDS[lang][ex.selector_label]
        option = static._in(
            lang, ex.option_names[0]
        )  # the option's name in the page's language ("gaussian": "Gaussova")
        assert controls[0]["label"] == word and f", {word} {option}" in text, (controls[0], text)
    # without JavaScript the image's alt says the same (in English, the HTML's language)
    assert re.search(r'<img class="tl-latent-(?:image|sprite)"[^>]* alt="([^"]+)"', ex.static_html()).group(
        1
    ) == static.describe(ex, ex.option_names[0], _middle(ex))
    assert not errors, errors
    context.close()


def _middle(ex) -> list[float]:
    n = decoder_view.POSITIONS
    return [lo + (hi - lo) * ((n - 1) // 2) / (n - 1) for lo, hi in ex.slider_limits(ex.option_names[0])]


@pytest.mark.parametrize("name", WIDGETS)
def test_keyboard_moves_everything_and_the_alt_text_follows(browser, tmp_path, name):
    ex, context, page, errors = _page(browser, tmp_path, name, "en")
    page.locator("body").click(position={"x": 1, "y": 1})
    order = []
    for _ in range(ex.n_sliders + (len(ex.option_names) > 1)):
        page.keyboard.press("Tab")
        order.append(
            page.evaluate("""() => { const e = document.activeElement, s = getComputedStyle(e);
            return {id: e.id, style: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }""")
        )
    ids = page.evaluate(
        "() => [...document.querySelectorAll('.tl-latent select, .tl-latent input[type=range]')].map(e => e.id)"
    )
    assert [o["id"] for o in order] == ids, (order, ids)
    assert all(o["style"] != "none" and o["width"] >= 2 for o in order), f"no visible focus: {order}"
    steps = int(page.get_attribute(".tl-latent", "data-steps"))
    slider = page.locator(".tl-latent input[type=range]").first
    slider.focus()
    for key, want in (
        ("Home", 0),
        ("ArrowRight", 1),
        ("ArrowUp", 2),
        ("ArrowLeft", 1),
        ("End", steps - 1),
        ("PageDown", None),
    ):
        before = int(slider.input_value())
        page.keyboard.press(key)
        now = int(slider.input_value())
        assert now == want if want is not None else now < before, f"{key}: slider at {now}"
        text, expected = _shown(page, ex, "en")
        assert text == expected, (key, text, expected)
        assert slider.get_attribute("aria-valuetext") == static.speech(_value(ex, page, 0, now))
    if len(ex.option_names) > 1:
        select = page.locator(".tl-latent select")
        select.focus()
        page.keyboard.press("ArrowDown")
        assert page.evaluate("() => document.querySelector('.tl-latent select').selectedIndex") == 1
        text, expected = _shown(page, ex, "en")
        assert text == expected and text.endswith(f"{ex.selector_label} {ex.option_names[1]}"), (text, expected)
    assert not errors, errors
    context.close()


def _value(ex, page, i: int, k: int) -> float:
    o = page.evaluate(
        "() => { const s = document.querySelector('.tl-latent select'); return s ? s.selectedIndex : 0; }"
    )
    lo, hi = ex.slider_limits(ex.option_names[o])[i]
    return lo + (hi - lo) * k / (int(page.get_attribute(".tl-latent", "data-steps")) - 1)


@pytest.mark.parametrize("name", WIDGETS)
def test_widget_fits_and_works_on_a_phone(browser, tmp_path, name):
    ex, context, page, errors = _page(browser, tmp_path, name, "sl", width=390)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('.tl-latent input, .tl-latent select, .tl-latent canvas, '
        + '.tl-latent .tl-latent-view, .tl-latent label, .tl-latent-title')]
        .filter(e => e.offsetParent !== null).map(e => {
            const b = e.getBoundingClientRect();
            return {what: e.tagName + '.' + e.className, left: b.left, right: b.right, width: b.width}; })"""
    )
    outside = [b for b in boxes if b["left"] < 0 or b["right"] > 390 or b["width"] <= 0]
    assert boxes and not outside, outside
    slider = page.locator(".tl-latent input[type=range]").last
    before = page.get_attribute(".tl-latent", "data-position")
    slider.focus()
    page.keyboard.press("End")
    assert page.get_attribute(".tl-latent", "data-position") != before
    text, expected = _shown(page, ex, "sl")
    assert text == expected
    assert not errors, errors
    context.close()
