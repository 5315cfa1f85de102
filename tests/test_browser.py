"""The rendered book as readers see it: every page in a real browser, fully offline.

Headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright for Python) loads every
page of the TOC from the built HTML, served on 127.0.0.1, and checks: no console errors, no failed
or external requests (no CDN), every image loaded, the math typeset by the local MathJax, exercise
solutions hidden until clicked, citations and cross-references resolved, the favicon loads, and that
every static latent-space widget (:meth:`thesis_lib.widgets.LatentExplorer.static_html`) changes its
image when a slider moves or another class / prior is picked. A full-page screenshot of each page goes to
``_screenshots/<page>.jpg`` of its edition and the page weights to ``_screenshots/page_weights.json``.

Two editions: the English one (``_build/html``, or ``$THESIS_LIB_BOOK_HTML``) and the Slovene one
(``_build/html/sl``, built by ``scripts/build_book.py`` from the English build's executed notebooks). The
checks whose result depends on the language (the text, its links, math, figures and tables, the language
switch, the theme's page around it, accessibility and the layout of translated words) run on both,
``test_...[en-<page>]`` and ``test_...[sl-<page>]`` (:data:`BOTH_EDITIONS`); those of what the Slovene pages
embed unchanged from the English build (the executed cells' outputs: the widgets, byte for byte, with their
decoders and probes; the solutions' toggles; progress bars) run on the English pages only (:data:`ENGLISH`).

These tests need the built book, so they are marked ``book_build`` and ``browser`` and run after
``test_book_build.py`` (see the root ``conftest.py``). Outside CI they are skipped when the book
is not built or Chromium is missing; in CI (``CI=true``) that is a failure.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import book_toc
import browser_support
import pytest
from browser_support import BOOK_HTML, IN_CI
from helpers import PROGRESS_BAR, locked_json

from thesis_lib.widgets import STATIC_MAX_BYTES, decoder_view

ROOT = Path(__file__).resolve().parents[1]
HTML = BOOK_HTML  # the English edition
EDITIONS = {"en": HTML, "sl": HTML / "sl"}  # the Slovene edition lies inside the English one's folder
# the book whose HTML this is (its _toc.yml lists the pages): <book>/_build/html, else this repository
BOOK_ROOT = next((p for p in HTML.parents[1:2] if (p / "_toc.yml").exists()), ROOT)
PAGE_REST_MAX_BYTES = 900_000
"""One page's HTML document without its widgets' decoder weights: the text and code, the figures' markup, the widgets'
scripts, probes, sprite sheets, replays and games (measured in a clean-clone build, 2026-12-07: 397-557 KB on the
chapter pages, the AAE's the most, and 808 KB on the gallery of failures, which has no decoder but eight replays,
578 KB of them)."""
PAGE_MAX_BYTES = 1_800_000
"""One page's HTML document: its decoders' weights, which the export keeps within ``decoder_view.DECODER_PAGE_BYTES``
(1.2 MB), and a chapter page's rest (at most 557 KB, above). (It was 1.5 MB, which the export's own budget and the
rest together can exceed, and did: the decoders' bytes move with the trained weights, and the GAN page of the
clean-clone build of 596edc2 weighed 1,527,536 bytes, 1,040,643 of them its weights: its conditional decoder kept
516,079 weights after pruning, at 7 bits.)"""
WEIGHTS_SCRIPT = re.compile(rb'<script type="application/octet-stream" class="tl-latent-weights"[^>]*>([^<]*)</script>')
"""A decoder's weights inlined in a page (base64): the group of the payload."""
# a widget that carries its decoder: the page's weight budget (all of it if it is the first)
# + markup, JSON, initial image
DECODER_WIDGET_MAX_BYTES = decoder_view.DECODER_PAGE_BYTES + 60_000
DECODERS_JSON = ROOT / "_build" / "widget_decoders.json"
SCREENSHOTS = "_screenshots"  # in each edition's folder
# chapter -> the selector its widgets must include (None: any widget); checked when in the TOC
CHAPTER_WIDGETS = {"book/ae": None, "book/gan": "class", "book/vae": None, "book/aae": "prior"}

pytestmark = [pytest.mark.book_build, pytest.mark.browser]

BOTH_EDITIONS = pytest.mark.parametrize("edition", list(EDITIONS), indirect=True)
"""A check that depends on the language: it runs on the English and on the Slovene pages."""
ENGLISH = pytest.mark.parametrize("edition", ["en"], indirect=True)
"""A check of what the Slovene pages embed unchanged from the English build: it runs on the English pages."""


PAGES = book_toc.pages(BOOK_ROOT / "_toc.yml")  # every document of the TOC (root first), e.g. book/ae


_unavailable = browser_support.unavailable


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def edition(request) -> str:
    """``"en"`` or ``"sl"``: the edition a test checks (:data:`BOTH_EDITIONS` or :data:`ENGLISH` picks it)."""
    return request.param


@pytest.fixture(scope="module")
def html(edition) -> Path:
    """The folder of the edition's built HTML."""
    return EDITIONS[edition]


@pytest.fixture(scope="module")
def base_url(html):
    """The edition's folder served on 127.0.0.1 (its own root, as a reader's server would serve it)."""
    if not (html / "index.html").exists():
        _unavailable(f"the book is not built: no {html / 'index.html'} (run: .venv/bin/python scripts/build_book.py)")
    with browser_support.serve(html) as url:
        yield url


@dataclass
class Loaded:
    """A page loaded once per module, with everything that went wrong while it loaded."""

    page: object
    url: str
    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    requests: list = field(default_factory=list)


@pytest.fixture(scope="module")
def load(browser, base_url, html):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    cache: dict[str, Loaded] = {}
    weights: dict[str, dict] = {}

    def _load(docname: str) -> Loaded:
        if docname in cache:
            return cache[docname]
        file = html / f"{docname}.html"
        assert file.exists(), f"{docname} is in the TOC but {file} was not built"
        page = context.new_page()
        url = urljoin(base_url, f"{docname}.html")
        rec = Loaded(page, url)

        def route(r):
            u = r.request.url
            if u.startswith(base_url) or u.startswith(("data:", "blob:", "about:")):
                r.continue_()
            else:  # the book must work offline: nothing may come from a CDN or elsewhere
                rec.external.append(u)
                r.abort()

        page.route("**/*", route)
        page.on(
            "console", lambda m: rec.console_errors.append(f"{m.text} ({m.location})") if m.type == "error" else None
        )
        page.on("pageerror", lambda e: rec.console_errors.append(f"uncaught: {e}"))
        page.on("requestfailed", lambda r: rec.failed.append(f"{r.url}: {r.failure}"))
        page.on("response", lambda r: rec.failed.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 else None)
        page.on("requestfinished", lambda r: rec.requests.append(r))
        page.goto(url, wait_until="networkidle")
        _settle(page)
        shot = html / SCREENSHOTS / f"{docname}.jpg"
        shot.parent.mkdir(parents=True, exist_ok=True)
        # JPEG: a third faster than PNG on these 10,000-40,000-pixel pages, and as legible (quality 85)
        page.screenshot(path=str(shot), full_page=True, type="jpeg", quality=85)
        widgets = page.evaluate("() => [...document.querySelectorAll('.tl-latent')].map(w => w.outerHTML.length)")
        weights[docname] = {
            "html_bytes": file.stat().st_size,
            # everything the page loads with an empty cache (theme, fonts, MathJax ...): shared by all pages
            "cold_cache_bytes": _cold_cache_bytes(html, base_url, rec.requests),
            "requests": len(rec.requests),
            "widgets": len(widgets),
            "widget_bytes": widgets,
        }
        cache[docname] = rec
        return rec

    yield _load
    if weights:
        with locked_json(html / SCREENSHOTS / "page_weights.json") as report:  # other processes load other pages
            report.update(weights)
    context.close()


def _cold_cache_bytes(html: Path, base_url: str, requests) -> int:
    """The size of every distinct file the page requested (from the built HTML on disk)."""
    files = {html / unquote(urlsplit(r.url).path).lstrip("/") for r in requests if r.url.startswith(base_url)}
    return sum(f.stat().st_size for f in files if f.is_file())


def _settle(page) -> None:
    """Wait for MathJax and for every image (scrolling through the page, so lazy images load too)."""
    _wait_for_mathjax(page)
    page.evaluate(
        """async () => {
            window.scrollTo(0, document.body.scrollHeight);
            await Promise.all([...document.images].map(img => img.complete ? null :
                new Promise(done => { img.onload = img.onerror = done; })));
            window.scrollTo(0, 0);
        }"""
    )


def _wait_for_mathjax(page) -> None:
    """Wait until MathJax (if the page loads it) has typeset the page."""
    if page.evaluate("() => document.querySelector('script[src*=\"mathjax\"]') !== null"):
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000)
        page.evaluate("() => MathJax.startup.promise.then(() => true)")


# ----------------------------------------------------------------------------- static checks
class _Anchors(HTMLParser):
    """Ids (and the ids of citation entries) and internal links of one HTML file."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.citation_ids: set[str] = set()
        self.links: list[tuple[str, str]] = []  # (href, class)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
            if "citation" in (a.get("class") or "").split():
                self.citation_ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append((a["href"], a.get("class") or ""))


@functools.lru_cache(maxsize=None)
def _anchors(path: Path) -> _Anchors:
    parser = _Anchors()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _resolve(page_file: Path, href: str) -> tuple[Path, str]:
    parts = urlsplit(href)
    target = (page_file.parent / unquote(parts.path)).resolve() if parts.path else page_file
    if target.is_dir():
        target = target / "index.html"
    return target, unquote(parts.fragment)


def _language(file: Path) -> str:
    m = re.search(r'<html[^>]*\blang="([\w-]+)"', file.read_text(encoding="utf-8")[:2000])
    return m.group(1) if m else ""


@pytest.mark.parametrize("docname", PAGES)
@BOTH_EDITIONS
def test_language_link_reaches_the_counterpart(browser, html, docname):
    """The language switch (``_ext/thesis_i18n.py``) leads to the same page in the other edition
    (English ``_build/html``, Slovene ``_build/html/sl``), also when the book is opened from file://."""
    file = html / f"{docname}.html"
    if not file.exists():
        _unavailable(f"the book is not built: no {file}")
    links = [href for href, cls in _anchors(file).links if "tl-lang-link" in cls.split()]
    assert len(links) == 1, f"{docname}: {len(links)} language links"
    language = _language(file)
    counterpart = EDITIONS["sl" if language == "en" else "en"] / f"{docname}.html"
    assert counterpart.exists(), f"{docname} ({language}) has no counterpart {counterpart}"
    assert (file.parent / links[0]).resolve() == counterpart.resolve(), links[0]
    assert _language(counterpart) not in ("", language), f"{counterpart} is not the other edition"
    # the switch is a plain link: it works without the pages' scripts, which are not run here (they would only make
    # both loads slower: MathJax, the widgets)
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(file.as_uri(), wait_until="domcontentloaded")
        page.click(".tl-lang-link")
        page.wait_for_load_state("domcontentloaded")
        assert unquote(urlsplit(page.url).path) == counterpart.resolve().as_posix(), page.url
        assert page.evaluate("() => document.documentElement.lang") == _language(counterpart)
    finally:
        context.close()


@pytest.mark.parametrize("docname", PAGES)
@BOTH_EDITIONS
def test_internal_links_and_citations_resolve(html, docname):
    """Every internal link (cross-reference, glossary term, citation) points at an existing anchor;
    every citation points at an entry of the bibliography. (Both editions: the links are in the translated text.)"""
    file = html / f"{docname}.html"
    if not file.exists():
        _unavailable(f"{file} not built")
    broken, not_bib = [], []
    for href, cls in _anchors(file).links:
        if "reference internal" not in cls and not href.startswith("#"):
            continue
        target, fragment = _resolve(file, href)
        if not target.exists() or (fragment and target.suffix == ".html" and fragment not in _anchors(target).ids):
            broken.append(href)
    html = file.read_text(encoding="utf-8")
    for span in re.findall(r'<span class="bibtex-citation"[^>]*>(.*?)</span>', html, re.S):
        for href in re.findall(r'href="([^"]+)"', span):
            target, fragment = _resolve(file, href)
            if not target.exists() or fragment not in _anchors(target).citation_ids:
                not_bib.append(href)
    assert not broken, f"{docname}: links to missing pages or anchors: {broken[:20]}"
    assert not not_bib, f"{docname}: citations that do not link to a bibliography entry: {not_bib[:20]}"


@BOTH_EDITIONS
def test_chapters_have_their_widgets(html):
    """The chapters in the TOC carry their static latent-space widgets (GAN: class selector, AAE: prior selector),
    and every one of them decodes in the browser (none fell back to its sprite sheet). (Both editions: each
    edition's page is a build of its own, the selectors' words are checked, and reading a page costs milliseconds.)"""
    chapters = [c for c in CHAPTER_WIDGETS if c in PAGES]
    if not chapters:
        pytest.skip("no chapter pages (book/ae, gan, vae, aae) in this TOC")
    missing = []
    for chapter in chapters:
        file = html / f"{chapter}.html"
        if not file.exists():
            _unavailable(f"{file} not built")
        text = file.read_text(encoding="utf-8")
        if 'class="tl-latent' not in text:
            missing.append(f"{chapter}: no static widget")
        want = CHAPTER_WIDGETS[chapter]
        if want and not re.search(
            rf'<label for="tl-latent-[^"]+-select"[^>]*>{want}</label>', text
        ):  # data-sl: its Slovene
            missing.append(f"{chapter}: no widget with a {want!r} selector")
        sprites = len(re.findall(r'class="tl-latent mathjax_ignore" data-mode="sprite"', text))
        if sprites or 'data-mode="decoder"' not in text:
            notes = re.findall(r'class="tl-latent-note"[^>]*>(Precomputed.*?)</div>', text)
            missing.append(f"{chapter}: {sprites} widget(s) kept the sprite sheet: {notes}")
    assert not missing, missing


# ----------------------------------------------------------------------------- in the browser
@pytest.mark.parametrize("docname", PAGES)
@BOTH_EDITIONS
def test_page_loads_offline_without_errors(load, html, docname):
    """No external request, failed request or console error (both editions: each has its own theme, static files
    and language switch, and the widgets' script picks the page's language)."""
    rec = load(docname)
    assert not rec.external, f"{docname} requested external URLs (the book must work offline): {rec.external}"
    assert not rec.failed, f"{docname}: failed requests: {rec.failed}"
    assert not rec.console_errors, f"{docname}: console errors: {rec.console_errors}"
    document = (html / f"{docname}.html").read_bytes()
    weights = list(WEIGHTS_SCRIPT.finditer(document))
    assert sum(len(m[1]) for m in weights) <= decoder_view.DECODER_PAGE_BYTES, f"{docname}: the decoders' weights"
    rest = len(document) - sum(len(m[0]) for m in weights)
    assert rest <= PAGE_REST_MAX_BYTES, f"{docname} weighs {rest} bytes without its decoders' weights"
    assert len(document) <= PAGE_MAX_BYTES  # (the two together)
    assert (html / SCREENSHOTS / f"{docname}.jpg").stat().st_size > 0


@pytest.mark.parametrize("docname", PAGES)
@BOTH_EDITIONS
def test_images_load(load, docname):
    """Every image loads (both editions: each has its own copies of the images, beside translated figures)."""
    page = load(docname).page
    broken = page.evaluate(
        "() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 120))"
    )
    assert not broken, f"{docname}: images that did not load: {broken}"


@pytest.mark.parametrize("docname", PAGES)
@BOTH_EDITIONS
def test_math_is_typeset(load, docname):
    """MathJax typesets every formula (both editions: the math sits in the translated text)."""
    page = load(docname).page
    result = page.evaluate(
        """() => {
            const math = [...document.querySelectorAll('.math')];
            const untypeset = math.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 80));
            const walker = document.createTreeWalker(document.querySelector('main') || document.body,
                                                     NodeFilter.SHOW_TEXT);
            const raw = [];
            for (let n = walker.nextNode(); n; n = walker.nextNode()) {
                if (n.parentElement.closest('pre, code, script, style, textarea, mjx-container, .highlight')) continue;
                if (/\\$\\$|\\\\\\(|\\\\\\[/.test(n.textContent)) raw.push(n.textContent.trim().slice(0, 80));
            }
            return {n: math.length, typeset: document.querySelectorAll('mjx-container').length, untypeset, raw};
        }"""
    )
    assert not result["untypeset"], f"{docname}: math that MathJax did not typeset: {result['untypeset'][:10]}"
    assert not result["raw"], f"{docname}: raw TeX delimiters left in the text: {result['raw'][:10]}"
    assert result["typeset"] >= result["n"]


@pytest.mark.parametrize("docname", PAGES)
@ENGLISH
def test_solutions_hidden_until_clicked(load, docname):
    """Every exercise's solution is hidden until its toggle button is clicked.

    English only: the translation replaces the solutions' words, not their markup; the Slovene pages carry the
    same solutions with the same toggles and the same sphinx-togglebutton script (their words are checked by
    tests/test_slovene_pages.py, their accessibility by the check below)."""
    page = load(docname).page
    # per solution, whether each element of its body is visible in Playwright's sense: a box that is not empty, and
    # not visibility: hidden
    shown = """() => [...document.querySelectorAll('.solution')].map(s =>
        [...s.querySelectorAll(':scope > :not(.admonition-title)')].map(e => {
            const box = e.getBoundingClientRect();
            return box.width > 0 && box.height > 0 && e.checkVisibility({visibilityProperty: true});
        }))"""
    before = page.evaluate(shown)  # one round trip for all
    for i, body in enumerate(before):
        assert body, f"{docname}: solution {i + 1} is empty"
        assert not any(body), f"{docname}: solution {i + 1} is visible before a click"
    solutions = page.locator(".solution")
    for i in range(len(before)):
        # Wait for sphinx-togglebutton's button (added by its script), then click it: the middle of the title is
        # often the link "Solution to Exercise N", and clicking that navigates instead of opening the solution.
        button = solutions.nth(i).locator(".toggle-button").first
        button.wait_for(state="attached", timeout=20_000)
        button.click()
    page.wait_for_function(f"() => ({shown})().every(body => body[0])", timeout=10_000)  # every solution opened


@pytest.mark.parametrize("docname", PAGES)
@ENGLISH
def test_static_widgets_respond(load, docname):
    """Every static widget is within its weight budget, and its sliders and selector change its image.

    English only: the Slovene pages embed the English build's executed outputs, so their widgets are the same
    bytes (their words, switched by the page's language, are checked on both editions by the accessibility and
    phone checks, and in tests/test_widget_words.py)."""
    page = load(docname).page
    widgets = page.locator(".tl-latent")
    for i in range(widgets.count()):
        w = widgets.nth(i)
        w.scroll_into_view_if_needed()
        size = w.evaluate("w => w.outerHTML.length")
        mode = w.get_attribute("data-mode")
        if mode == "decoder":
            assert size <= DECODER_WIDGET_MAX_BYTES, (
                f"{docname}: widget {i + 1} weighs {size} bytes (budget {DECODER_WIDGET_MAX_BYTES})"
            )
            assert w.locator("canvas.tl-latent-canvas").count() == 1, (
                f"{docname}: widget {i + 1} did not replace its image by a canvas"
            )
            view = w.locator("canvas.tl-latent-canvas")
        else:
            assert size <= STATIC_MAX_BYTES + 1_000, (
                f"{docname}: widget {i + 1} weighs {size} bytes (budget {STATIC_MAX_BYTES})"
            )
            assert w.locator("img.tl-latent-sprite").evaluate("i => i.complete && i.naturalWidth > 0"), (
                f"{docname}: widget {i + 1}'s sprite did not load"
            )
            view = w.locator(".tl-latent-view")
        sliders = w.locator("input[type=range]")
        assert sliders.count() >= 1
        state = _widget_state(w, view)
        moves = [(sliders.nth(0), "End")] + ([(sliders.nth(1), "Home")] if sliders.count() > 1 else [])
        for k, (slider, key) in enumerate(moves):
            slider.focus()
            slider.press(key)
            new = _widget_state(w, view)
            assert new[0] != state[0], (
                f"{docname}: widget {i + 1}: slider {k + 1} did not change the image (position {state[0]})"
            )
            assert new[1] != state[1], (
                f"{docname}: widget {i + 1}: slider {k + 1} changed the position but not the pixels"
            )
            state = new
        select = w.locator("select")
        if select.count():
            n = select.locator("option").count()
            assert n > 1
            select.select_option(index=n - 1)
            new = _widget_state(w, view)
            assert new[0] != state[0] and new[1] != state[1], (
                f"{docname}: widget {i + 1}: picking another option did not change the image"
            )


@pytest.mark.parametrize("docname", PAGES)
@ENGLISH
def test_widget_decoders_decode_in_the_page(load, html, docname):
    """Each widget that carries its decoder decodes (finite pixels in [0, 1]) and reports its time per slider move.

    The per-widget bytes, modes and the median decode time per move go to ``_build/widget_decoders.json``
    (key ``book``) and are printed; the time is not asserted. Parity with torch: each widget carries torch's
    images at :data:`~thesis_lib.widgets.decoder_view.PROBES` seeded slider positions (spread over its
    options); the test moves the controls there and compares the canvas, within the tolerance. (Random
    points on small models, and the NumPy reference of the weights: tests/test_widgets_browser.py.)

    English only: numbers, not words; the Slovene pages carry the same widgets, byte for byte.
    """
    page = load(docname).page
    result = page.evaluate(
        """() => [...document.querySelectorAll('.tl-latent')].map(w => {
            const out = {mode: w.dataset.mode, bytes: w.outerHTML.length, weight_bytes: +(w.dataset.weightBytes || 0),
                         note: (w.querySelector('.tl-latent-note') || {}).textContent};
            if (w.dataset.mode !== 'decoder') return out;
            const el = w.querySelector('input[type=range]'), n = +el.max + 1, start = el.value;
            w.tlTimes.length = 0;
            for (let k = 0; k < 33; k++) {
                el.value = Math.round(k * (n - 1) / 32); el.dispatchEvent(new Event('input'));
            }
            el.value = start; el.dispatchEvent(new Event('input'));
            const times = w.tlTimes.slice().sort((a, b) => a - b);
            const x = Array.from(w.tlDecode(0, [...w.querySelectorAll('input[type=range]')].map(() => 0)));
            out.decode_ms_median = times[Math.floor(times.length / 2)];
            out.decode_ms_max = times[times.length - 1];
            out.pixels = x.length;
            out.finite_in_unit_range = x.every(v => Number.isFinite(v) && v >= 0 && v <= 1);
            out.distinct = new Set(x.map(v => v.toFixed(3))).size;
            return out;
        })"""
    )
    for i, r in enumerate(result):
        if r["mode"] == "decoder":
            assert r["finite_in_unit_range"] and r["pixels"] > 0 and r["distinct"] > 1, (
                f"{docname}: widget {i + 1} decodes garbage: {r}"
            )
    # parity with torch: each widget carries torch's images at decoder_view.PROBES positions; the canvas must show them
    allowed = decoder_view.TOLERANCE * 255 + 1  # the tolerance, plus the two images' rounding to 0..255
    for i, r in enumerate(result):
        if r["mode"] != "decoder":
            continue
        r["probe_max_diff_255"] = page.evaluate(
            """(i) => { const w = document.querySelectorAll('.tl-latent')[i], sel = w.querySelector('select');
                const probes = JSON.parse(w.querySelector('script.tl-latent-probes').textContent),
                    c = w.querySelector('canvas.tl-latent-canvas');
                return probes.map(p => {
                    if (sel) { sel.selectedIndex = p.o; sel.dispatchEvent(new Event('change')); }
                    w.querySelectorAll('input[type=range]')
                        .forEach((el, k) => { el.value = p.k[k]; el.dispatchEvent(new Event('input')); });
                    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, px = atob(p.px);
                    let worst = 0;
                    for (let k = 0; k < px.length; k++) worst = Math.max(worst, Math.abs(d[4 * k] - px.charCodeAt(k)));
                    return [w.dataset.position === p.o + ':' + p.k.join(','), worst];
                }); }""",
            i,
        )
        assert len(r["probe_max_diff_255"]) >= 5 and all(ok for ok, _ in r["probe_max_diff_255"]), (
            f"{docname}: widget {i + 1}: {r['probe_max_diff_255']}"
        )
        worst = max(d for _, d in r["probe_max_diff_255"])
        assert worst <= allowed, (
            f"{docname}: widget {i + 1} differs from torch's image by {worst}/255 at a probe (allowed {allowed:.0f})"
        )
        r["probe_max_diff_255"] = worst
    if result:
        print(docname, json.dumps(result))
        with locked_json(DECODERS_JSON) as report:
            report.setdefault("book", {})[docname] = {
                "html_bytes": (html / f"{docname}.html").stat().st_size,
                "widgets": result,
            }


def test_widget_decoders_work_from_file_urls(browser):
    """The chapters' widgets decode when the page is opened from disk (file://, no server): no fetch, no CDN.

    English only: the Slovene pages carry the same widgets, byte for byte (that a Slovene page loads without a
    console error is checked on both editions)."""
    chapters = [c for c in CHAPTER_WIDGETS if c in PAGES and (HTML / f"{c}.html").exists()]
    if not chapters:
        _unavailable("no chapter page built")
    context = browser.new_context()
    for chapter in chapters:
        page, errors = context.new_page(), []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" or "thesis_lib" in m.text else None)
        page.goto((HTML / f"{chapter}.html").as_uri(), wait_until="load")
        counts = page.evaluate(
            "() => [document.querySelectorAll('.tl-latent[data-mode=decoder]').length,"
            " document.querySelectorAll('.tl-latent[data-mode=decoder] canvas.tl-latent-canvas').length]"
        )
        assert counts[0] >= 1 and counts[0] == counts[1], (
            f"{chapter} from file://: {counts[1]} of {counts[0]} decoder widgets drew a canvas"
        )
        widget_errors = [e for e in errors if "thesis_lib" in e or "tl-latent" in e or "thesisLib" in e]
        assert not widget_errors, f"{chapter} from file://: {widget_errors}"
        page.close()
    context.close()


@pytest.mark.parametrize("docname", PAGES)
@BOTH_EDITIONS
def test_favicon_is_linked_and_loads(load, docname):
    """Every page names its tab icon (html_favicon in _config.yml), and the browser can load and draw it.
    (Both editions: each has its own page head and static files.)"""
    icon = load(docname).page.evaluate(
        """async () => {
            const link = document.querySelector('link[rel~="icon"]');
            if (!link) return null;
            const response = await fetch(link.href);
            const img = new Image();
            img.src = link.href;
            await img.decode().catch(() => null);
            return {href: link.href, status: response.status, type: response.headers.get('content-type'),
                    width: img.naturalWidth};
        }"""
    )
    assert icon, f'{docname}: no <link rel="icon"> in the head'
    assert icon["status"] == 200 and icon["type"].startswith("image/"), f"{docname}: the favicon {icon}"
    assert icon["width"] > 0, f"{docname}: the favicon {icon['href']} does not decode as an image"


@pytest.mark.parametrize("docname", PAGES)
@ENGLISH
def test_no_page_shows_a_progress_bar(load, docname):
    """A page built from an empty run cache (as in CI, where the build trains every chapter's models)
    shows at most one summary line per run, never a progress bar frozen at whatever it last drew.
    (:data:`helpers.PROGRESS_BAR` recognises one: tests/test_progress.py.)

    English only: the bars would be in the executed cells' outputs, which the Slovene pages embed unchanged."""
    page = load(docname).page
    text = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
    bars = [line.strip()[:120] for line in text.splitlines() if PROGRESS_BAR.search(line)]
    assert not bars, f"{docname} shows {len(bars)} progress-bar lines, e.g. {bars[:3]}"


def test_the_ci_build_started_from_an_empty_run_cache():
    """In CI the book build trains the chapters' runs itself, so the pages checked here are a cold build's."""
    info = ROOT / "_build" / "build_info.json"
    if not info.exists():
        _unavailable(f"no {info}: the book was not built by tests/test_book_build.py")
    data = json.loads(info.read_text())
    if not IN_CI and data["cached_before"]:
        pytest.skip(f"this build reused {data['cached_before']} cached runs (in CI it starts from an empty cache)")
    assert data["trained"], "the book build trained no run: its pages are not those of a cold build"


@pytest.mark.parametrize("docname", PAGES)
@BOTH_EDITIONS
def test_tables_fit_the_text_column(load, docname):
    """At a 1280-pixel window every table fits the text column: no column hides behind a horizontal scroll.
    (Both editions: translated words are longer.)"""
    wide = load(docname).page.evaluate(
        """() => [...document.querySelectorAll('main table')].map(t => {
            const box = (t.closest('.cell_output, .output, .table-wrapper') || t.parentElement);
            return {width: Math.round(t.getBoundingClientRect().width), column: Math.round(box.clientWidth),
                    scroll: box.scrollWidth - box.clientWidth, head: t.innerText.slice(0, 60)};
        }).filter(t => t.width > t.column + 1 || t.scroll > 1)"""
    )
    assert not wide, f"{docname}: tables wider than the text column: {wide[:5]}"


def _widget_state(widget, view) -> tuple[str, bytes]:
    """(the position the widget shows: tile index or option and slider positions, a screenshot of its image)."""
    return widget.get_attribute("data-position"), view.screenshot()


# ----------------------------------------------------------------------------- accessibility
A11Y_REPORT = "accessibility.json"  # in the edition's _screenshots: every page's axe violations, per theme
FILE_NAME_ALT = re.compile(
    r"\.(png|jpe?g|gif|svg|webp)\b|_images/|^data:|^[\w./-]+$", re.I
)  # a path, or one bare token
FIGURE_NUMBER = re.compile(
    r"^(Figure|Slika) \d+(\.\d+)*$"
)  # numfig_format in _config.yml (English), _ext/thesis_figures.py (Slovene)
PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("docname", PAGES)
@BOTH_EDITIONS
def test_page_has_no_serious_accessibility_violation(load, html, docname):
    """axe-core's WCAG 2.0/2.1 A and AA rules (``tests/browser_support.py``) find no critical or serious
    violation, in the light and in the dark theme (the book follows the reader's system). Every violation,
    of any impact, goes to ``_screenshots/accessibility.json``. (Both editions: the page's language, its
    translated text, labels and alternative texts.)"""
    page = load(docname).page
    original = page.evaluate("() => document.documentElement.dataset.theme || ''")
    found = {}
    try:
        for theme in ("light", "dark"):
            # the theme's colours change by CSS transitions: axe reads them once they have ended
            page.evaluate(
                """async (t) => {
                    document.documentElement.dataset.theme = t;
                    await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
                    const moving = document.getAnimations().filter(a => a instanceof CSSTransition);
                    await Promise.all(moving.map(a => a.finished));
                }""",
                theme,
            )
            found[theme] = browser_support.axe(page)
    finally:
        page.evaluate("(t) => { document.documentElement.dataset.theme = t; }", original)
    with locked_json(html / SCREENSHOTS / A11Y_REPORT, indent=1) as report:
        report[docname] = {t: browser_support.counts(v) for t, v in found.items()}
    problems = {t: browser_support.blocking(v) for t, v in found.items()}
    assert not any(problems.values()), f"{docname}:\n" + "\n".join(
        f"[{t}] {browser_support.describe(v)}" for t, v in problems.items() if v
    )


@pytest.mark.parametrize("docname", PAGES)
@BOTH_EDITIONS
def test_images_say_what_they_show_and_figures_are_numbered(load, html, docname):
    """Every image of the page's article has an alternative text that is not its file name; every figure has a
    caption that starts with its number ("Figure 3", "Slika 3"), and the text refers to it by that number.
    (Both editions: translated alternative texts and captions.)"""
    page = load(docname).page
    found = page.evaluate(
        """() => {
            const article = document.querySelector('article.bd-article') || document.querySelector('main');
            const images = [...article.querySelectorAll('img')].map(i => ({
                src: (i.getAttribute('src') || '').slice(0, 80), alt: i.getAttribute('alt'),
                hidden: i.getAttribute('aria-hidden') === 'true' || i.getAttribute('role') === 'presentation'}));
            const figures = [...article.querySelectorAll('figure')].map(f => {
                const n = f.querySelector('figcaption .caption-number');
                return {id: f.id, number: n ? n.textContent.trim() : null,
                        caption: ((f.querySelector('figcaption .caption-text') || {}).textContent || '').trim(),
                        referred: [...document.querySelectorAll('a[href$="#' + f.id + '"] .std-numref')].length};
            });
            return {images, figures};
        }"""
    )
    bad = [
        i
        for i in found["images"]
        if not i["hidden"] and (not (i["alt"] or "").strip() or FILE_NAME_ALT.search(i["alt"].strip()))
    ]
    assert not bad, f"{docname}: {len(bad)} images without a meaningful alt text (not a file name): {bad[:5]}"
    unnumbered = [
        f for f in found["figures"] if not f["number"] or not FIGURE_NUMBER.match(f["number"]) or not f["caption"]
    ]
    assert not unnumbered, f"{docname}: figures without a numbered caption: {unnumbered[:5]}"
    # a figure is referred to from its own page (a reference from another page counts when that page links here)
    referred_elsewhere = _numrefs_to(html, docname)
    lonely = [f["id"] for f in found["figures"] if not f["referred"] and f["id"] not in referred_elsewhere]
    assert not lonely, f"{docname}: figures the text never refers to by number ({{numref}}): {lonely}"


def _numrefs_to(html: Path, docname: str) -> set[str]:
    """The figure ids of ``docname`` that other pages of the edition in ``html`` refer to by number."""
    ids = set()
    for other in PAGES:
        file = html / f"{other}.html"
        if other == docname or not file.exists():
            continue
        for href in re.findall(
            r'<a class="reference internal" href="([^"]+)"><span class="std std-numref">',
            file.read_text(encoding="utf-8"),
        ):
            target, fragment = _resolve(file, href)
            if target == (html / f"{docname}.html").resolve() and fragment:
                ids.add(fragment)
    return ids


@pytest.mark.parametrize("docname", PAGES)
@BOTH_EDITIONS
def test_page_fits_a_phone_and_its_widgets_work_there(browser, base_url, docname):
    """At a phone's width (390 CSS pixels) no page scrolls sideways, and every widget's controls and image lie inside
    the screen: its first slider moves by keyboard and changes the image. (Both editions: translated words, the
    widgets' among them, are longer.)"""
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        # "load", then MathJax and every image: what the layout needs (the network's going quiet, another half
        # second per page, is the offline check's business: test_page_loads_offline_without_errors)
        page.goto(urljoin(base_url, f"{docname}.html"), wait_until="load")
        _settle(page)
        width = page.evaluate("() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
        wide = page.evaluate(
            """(w) => [...document.querySelectorAll('main *')].filter(e => {
                const skip = '.MathJax, mjx-container, pre, .highlight, .table-wrapper, .cell_output, .output';
                if (e.closest(skip)) return false;
                const b = e.getBoundingClientRect(); return b.width > 0 && b.right > w + 1;
            }).slice(0, 5)
            .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""",
            PHONE["width"],
        )
        assert width <= PHONE["width"] + 1, f"{docname} scrolls sideways on a phone: {width} px wide; e.g. {wide}"
        widgets = page.locator(".tl-latent")
        for i in range(widgets.count()):
            w = widgets.nth(i)
            w.scroll_into_view_if_needed()
            outside = w.evaluate(
                """(w, width) => [...w.querySelectorAll('input, select, canvas, .tl-latent-view, label')]
                    .filter(e => e.offsetParent !== null)
                    .map(e => [e.tagName, e.getBoundingClientRect()])
                    .filter(([, b]) => b.left < 0 || b.right > width + 1)
                    .map(([t, b]) => t + ' ' + Math.round(b.left) + '..' + Math.round(b.right))""",
                PHONE["width"],
            )
            assert not outside, f"{docname}: widget {i + 1}'s parts leave the phone's screen: {outside}"
            slider, before = w.locator("input[type=range]").first, w.get_attribute("data-position")
            slider.focus()
            page.keyboard.press("End")
            assert w.get_attribute("data-position") != before, f"{docname}: widget {i + 1} does not respond on a phone"
    finally:
        context.close()
