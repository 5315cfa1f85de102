"""The PDF editions: ``_build/pdf/book.pdf`` (and ``book-sl.pdf``) printed by Chromium from the built HTML, offline.

    .venv/bin/python scripts/pdf.py                      # _build/html -> _build/pdf/book.pdf (+ _build/html/book.pdf),
                                                         # and _build/html/sl -> _build/pdf/book-sl.pdf
                                                         # (+ _build/html/sl/book-sl.pdf)
    .venv/bin/python scripts/pdf.py --lang sl            # the Slovene edition only
    .venv/bin/python scripts/pdf.py --html DIR --out FILE [--lang sl]

Run it after the book build (``jupyter-book build .``). Headless Chromium (Debian's
``/usr/bin/chromium``, driven by Playwright) opens every page of ``_toc.yml`` in order, served
on 127.0.0.1, and waits until MathJax has typeset it and its images have loaded. On each page it
then prepares the print: exercise solutions (and any other folded block) are unfolded, every
latent-space widget and live game is replaced by a picture of its initial state (an element
screenshot, so this knows nothing of how a widget draws itself), buttons and header links are
dropped, and the page's ids and links are renamed so that a link to another page of the book
becomes a link inside the PDF. The pages' articles are put one after another, each chapter on a
new page, behind a cover, a contents page and a list of figures (each numbered figure of every
page: its number, the first sentence of its caption, its page, linked), into one document that
Chromium prints to PDF with the pages' own stylesheets (no navigation, no sidebars, no header
buttons). The contents page and the list of figures get their page numbers from the first
print's named destinations (read with pypdf) and the document is printed a second time; pypdf
then adds the outline (bookmarks: chapters and their sections) and the metadata. A copy goes to
``<html>/book.pdf``, where the download button's "Book (PDF)" entry (``_ext/pdf_download.py``)
points.

The Slovene edition (``_build/html/sl``, built by ``scripts/build_book.py``) is printed the same way
into ``book-sl.pdf``, at the same time as the English one (each in its own process and Chromium); the
PDF's own words (the contents, the cover, the widgets' text alternatives, the title and author) come
from its catalogues (``locales/sl/LC_MESSAGES``, ``labels.po``).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import html as html_lib
import http.server
import io
import logging
import re
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from book_toc import ROOT, pages

sys.path.insert(0, str(ROOT / "_ext"))
from pdf_download import pdf_name  # noqa: E402  (the PDF's name in each edition: one source with the download button)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PDF_NAME = pdf_name("en")  # the copy in the HTML folder, where the download button links (_ext/pdf_download.py)
EDITIONS = {"en": "", "sl": "sl"}  # language -> its HTML folder under _build/html
COMBINED = "book/__pdf_edition__.html"  # the URL (never a file) of the combined document, beside the pages
PAGE_TIMEOUT_MS = 60_000

# Runs in each loaded page: unfold, clean up, rename ids and links; returns the article's HTML.
PREPARE_JS = """([doc, docs]) => {
  const anchor = (d, frag) => 'pdf--' + d.replace(/[^A-Za-z0-9_-]/g, '-') + (frag ? '--' + frag : '');
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  // unfold: sphinx-togglebutton's admonitions (the exercises' solutions) and every <details>
  article.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
  article.querySelectorAll('details').forEach(e => e.open = true);
  article.querySelectorAll('button, .headerlink, script, noscript, summary.toggle-details__summary').forEach(e => e.remove());
  // absolute URLs for images (the combined document lives elsewhere); no lazy loading
  article.querySelectorAll('img').forEach(img => { img.src = img.src; img.removeAttribute('loading'); img.removeAttribute('srcset'); });
  // a link to a page of the book becomes a link inside the PDF; a link to a local file that is not a page is dropped
  for (const a of article.querySelectorAll('a[href]')) {
    const u = new URL(a.getAttribute('href'), location.href);
    if (u.origin !== location.origin) continue;
    let path = decodeURIComponent(u.pathname).replace(/^\\//, '').replace(/\\.html$/, '');
    if (path === '' || path === 'index') path = docs[0];
    if (docs.includes(path)) a.setAttribute('href', '#' + anchor(path, decodeURIComponent(u.hash.slice(1))));
    else a.removeAttribute('href');
  }
  article.querySelectorAll('[id]').forEach(e => e.id = anchor(doc, e.id));
  const h1 = article.querySelector('h1');
  const sections = [...article.querySelectorAll('section > h2')].map(h => ({id: h.parentElement.id, title: h.textContent.trim()}));
  // numbered figures: "Figure 3" and the caption's text (Sphinx writes both into the figcaption)
  const figures = [...article.querySelectorAll('figure[id]')].filter(f => f.querySelector('figcaption .caption-number')).map(f => ({
    id: f.id, number: f.querySelector('figcaption .caption-number').textContent.trim(),
    caption: (f.querySelector('figcaption .caption-text') || f.querySelector('figcaption')).textContent.replace(/\\s+/g, ' ').trim()}));
  return {title: h1 ? h1.textContent.trim() : document.title, sections, figures, html: article.outerHTML};
}"""  # noqa: E501 (JavaScript run as it is written)

# The page's stylesheets: linked files by their (absolute) URL, so that their relative url()s still
# resolve; inline <style> elements (MathJax's generated CHTML rules among them) by their rules.
STYLES_JS = """() => [...document.styleSheets].map(s => {
  const media = s.media && s.media.mediaText ? ` media="${s.media.mediaText}"` : '';
  if (s.href) return `<link rel="stylesheet" href="${s.href}"${media}>`;
  try { return `<style${media}>` + [...s.cssRules].map(r => r.cssText).join('\\n') + '</style>'; } catch (e) { return ''; }
})"""  # noqa: E501 (JavaScript run as it is written)

PRINT_CSS = """
@page { size: A4; margin: 16mm 15mm 16mm 15mm; }
html, body { background: #fff !important; }
body { margin: 0; font-size: 10pt; }
.pdf-book { max-width: none; }
.pdf-book article.bd-article { max-width: none !important; padding: 0 !important; margin: 0 !important; }
.pdf-chapter, .pdf-contents, .pdf-figures { break-before: page; }
.pdf-cover { height: 240mm; display: flex; flex-direction: column; justify-content: center; text-align: center; }
.pdf-cover h1 { font-size: 26pt; margin-bottom: 1em; }
.pdf-contents ol { list-style: none; padding-left: 0; }
.pdf-contents ol ol { padding-left: 1.5em; }
.pdf-contents li { margin: 0.15em 0; }
.pdf-contents li.pdf-chapter-entry { margin-top: 0.6em; font-weight: 600; }
.pdf-contents li ol li { font-weight: normal; }
.pdf-contents a { display: flex; text-decoration: none; color: inherit; }
.pdf-contents a .pdf-title { flex: 1; }
.pdf-contents a .pdf-page { min-width: 2.5em; text-align: right; }
.pdf-figures ol { list-style: none; padding-left: 0; }
.pdf-figures li.pdf-figures-chapter { margin-top: 0.6em; font-weight: 600; }
.pdf-figures li.pdf-figures-chapter ol { font-weight: normal; padding-left: 1.5em; }
.pdf-figures li { margin: 0.15em 0; }
.pdf-figures a { display: flex; text-decoration: none; color: inherit; gap: 0.6em; }
.pdf-figures a .pdf-number { white-space: nowrap; min-width: 5.5em; }
.pdf-figures a .pdf-title { flex: 1; }
.pdf-figures a .pdf-page { min-width: 2.5em; text-align: right; }
h1, h2, h3, h4 { break-after: avoid; }
img, figure, .cell_output, table, mjx-container[display="true"], .pdf-widget { break-inside: avoid; }
pre { white-space: pre-wrap !important; word-break: break-word; overflow: visible !important; break-inside: auto !important; }
div.highlight, .cell_input { break-inside: avoid; }  /* a code block moves whole to the next page unless it is longer than one */
.bd-article table th, .bd-article table td { overflow-wrap: normal !important; }  /* words stay whole; long code may wrap */
.bd-article table code { overflow-wrap: anywhere; }
.admonition.toggle .admonition-title { padding-right: 0.6rem !important; }  /* no room for the (removed) toggle button */
div.highlight, .cell_input, .cell_output, .output { overflow: visible !important; max-height: none !important; }
mjx-container[display="true"] { overflow: visible !important; }
img { max-width: 100% !important; height: auto; }
.pdf-widget { display: block; margin: 0.5em 0; }
a[href^="#"] { text-decoration: none; }
"""  # noqa: E501 (the stylesheet as it is written)

FOOTER = '<div style="font-size:8px; width:100%; text-align:center; color:#555;"><span class="pageNumber"></span></div>'


@dataclass
class Chapter:
    """One page of the book, prepared for print."""

    doc: str
    title: str
    sections: list[dict]
    html: str
    figures: list[dict] = field(default_factory=list)  # {id, number ("Figure 3"), caption}


def anchor(doc: str, fragment: str = "") -> str:
    """The id of a page's element in the combined document (PREPARE_JS computes the same)."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "-", doc)
    return f"pdf--{safe}" + (f"--{fragment}" if fragment else "")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder: Path):
    """Serve ``folder`` on 127.0.0.1 (a free port); yields the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def check_html(html: Path, docs: list[str]) -> None:
    """A one-line error unless ``html`` holds every page of the TOC."""
    if not html.is_dir():
        raise ValueError(
            f"--html {str(html)!r} is not a folder: pass the built book's HTML (jupyter-book build . makes _build/html)"
        )
    missing = [d for d in docs if not (html / f"{d}.html").is_file()]
    if missing:
        raise ValueError(
            (
                f"--html {str(html)!r} lacks the TOC pages {missing}: build the book first (jupyter-book build . -W "
                "--keep-going)"
            )
        )


def wait_until_ready(page) -> None:
    """Wait for MathJax (when the page loads it) to finish typesetting and for every image to load."""
    if page.evaluate("() => document.querySelector('script[src*=\"mathjax\"]') !== null"):
        page.wait_for_function(
            "() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=PAGE_TIMEOUT_MS
        )
        page.evaluate("() => MathJax.startup.promise.then(() => true)")
    page.evaluate(
        """async () => { await Promise.all([...document.images].map(img => img.complete ? null :
            new Promise(done => { img.onload = img.onerror = done; }))); }"""
    )


WIDGETS = "article .tl-latent, article .tl-game"
"""The widgets that print as a screenshot of their initial state (thesis_lib.widgets: explorers, games). A training
replay (``.tl-replay``) is not among them: its own ``@media print`` style shows a strip of snapshots instead of its
slider (thesis_lib/widgets/replay.py)."""


def edition_words(language: str) -> dict[str, str]:
    """The edition's words: msgid -> msgstr of ``locales/<language>/LC_MESSAGES`` (the pages' catalogues
    and ``labels.po``); empty for English, whose words are the msgids."""
    if language == "en":
        return {}
    from babel.messages.pofile import read_po

    found: dict[str, str] = {}
    for po in sorted((ROOT / "locales" / language / "LC_MESSAGES").rglob("*.po")):
        with open(po, "rb") as f:
            found.update(
                {
                    m.id: m.string
                    for m in read_po(f)
                    if isinstance(m.id, str) and m.id and m.string and not m.fuzzy and not m.context
                }
            )
    return found


def freeze_widgets(page, words: dict[str, str] | None = None) -> int:
    """Replace every latent-space widget (``.tl-latent``) and live game (``.tl-game``) by a screenshot of its initial
    state; returns how many."""
    widgets = page.locator(WIDGETS)
    shots = []
    for i in range(widgets.count()):
        w = widgets.nth(i)
        w.scroll_into_view_if_needed()
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")  # drawn
        box = w.bounding_box()
        shots.append((base64.b64encode(w.screenshot()).decode(), box["width"] if box else None))
    page.evaluate(
        """([shots, selector, alts]) => [...document.querySelectorAll(selector)].forEach((w, i) => {
            const img = document.createElement('img');
            img.className = 'pdf-widget';
            img.alt = w.classList.contains('tl-game') ? alts[0] : alts[1];
            img.src = 'data:image/png;base64,' + shots[i][0];
            if (shots[i][1]) img.style.width = shots[i][1] + 'px';
            w.replaceWith(img);
        })""",
        [
            shots,
            WIDGETS,
            [
                say(words, "live game (its initial state; the HTML book trains it in the browser)"),
                say(words, "latent-space explorer (its initial state; the HTML book lets you move the sliders)"),
            ],
        ],
    )
    return len(shots)


def say(words: dict[str, str] | None, text: str) -> str:
    """``text`` in the edition's words (itself in English)."""
    return (words or {}).get(text, text)


def prepare_page(
    context, base_url: str, doc: str, docs: list[str], words: dict[str, str] | None = None
) -> tuple[Chapter, list[str]]:
    """Load one page and prepare it for print: (the chapter, the page's stylesheets)."""
    page = context.new_page()
    try:
        page.goto(f"{base_url}{doc}.html", wait_until="networkidle", timeout=PAGE_TIMEOUT_MS)
        page.evaluate("() => document.documentElement.setAttribute('data-theme', 'light')")
        wait_until_ready(page)
        untypeset = page.evaluate(
            (
                "() => [...document.querySelectorAll('.math')].filter(m => !m.querySelector('mjx-container'))"
                ".map(m => m.textContent.slice(0, 60))"
            )
        )
        if untypeset:
            raise ValueError(f"{doc}: MathJax did not typeset {len(untypeset)} formulas, e.g. {untypeset[0]!r}")
        freeze_widgets(page, words)
        styles = page.evaluate(STYLES_JS)
        found = page.evaluate(PREPARE_JS, [doc, docs])
    finally:
        page.close()
    return Chapter(doc, found["title"], found["sections"], found["html"], found["figures"]), styles


def contents_html(
    chapters: list[Chapter], numbers: dict[str, int], title: str = "Contents", figures_title: str = "List of figures"
) -> str:
    """The printed contents: every chapter and its sections, linked, with their page numbers."""

    def entry(target: str, title: str, cls: str = "") -> str:
        page = numbers.get(target, "")
        return (
            f'<li class="{cls}"><a href="#{target}"><span class="pdf-title">{html_lib.escape(title)}</span>'
            f'<span class="pdf-page" data-target="{target}">{page}</span></a>'
        )

    items = (
        [entry(FIGURES_ID, figures_title, "pdf-chapter-entry") + "</li>"] if any(ch.figures for ch in chapters) else []
    )
    for ch in chapters:
        subs = "".join(entry(s["id"], s["title"]) + "</li>" for s in ch.sections if s["id"])
        items.append(
            entry(anchor(ch.doc), ch.title, "pdf-chapter-entry") + (f"<ol>{subs}</ol>" if subs else "") + "</li>"
        )
    return (
        '<section class="pdf-contents" '
        f'id="pdf--contents"><h1>{html_lib.escape(title)}</h1><ol>{"".join(items)}</ol></section>'
    )


FIGURES_ID, FIGURES_TITLE = "pdf--figures", "List of figures"


def short_caption(caption: str) -> str:
    """A figure's entry in the list: its caption's first sentence."""
    first = re.split(r"(?<=[.!?])\s+(?=[A-ZČŠŽ(])", caption.strip(), maxsplit=1)[0]
    return first


def figures_html(chapters: list[Chapter], numbers: dict[str, int], title: str = "List of figures") -> str:
    """The list of figures (after the contents): per chapter, each figure's number, caption and page, linked."""
    if not any(ch.figures for ch in chapters):
        return ""
    esc = html_lib.escape
    groups = []
    for ch in chapters:
        if not ch.figures:
            continue
        rows = "".join(
            f'<li><a href="#{f["id"]}"><span class="pdf-number">{esc(f["number"])}</span><span '
            f'class="pdf-title">{esc(short_caption(f["caption"]))}</span>'
            f'<span class="pdf-page" data-target="{f["id"]}">{numbers.get(f["id"], "")}</span></a></li>'
            for f in ch.figures
        )
        groups.append(f'<li class="pdf-figures-chapter">{esc(ch.title)}<ol>{rows}</ol></li>')
    return f'<section class="pdf-figures" id="{FIGURES_ID}"><h1>{esc(title)}</h1><ol>{"".join(groups)}</ol></section>'


def book_html(chapters: list[Chapter], styles: list[str], meta: dict, numbers: dict[str, int]) -> str:
    """The combined document: cover, contents, then every page's article, each on a new page."""
    css = "\n".join(dict.fromkeys(styles))  # each page's stylesheets once, in order
    title, author = html_lib.escape(meta.get("title", "")), html_lib.escape(meta.get("author", ""))
    body = "".join(f'<section class="pdf-chapter" id="{anchor(ch.doc)}">{ch.html}</section>' for ch in chapters)
    return (
        f'<!DOCTYPE html><html lang="{meta.get("language", "en")}" data-theme="light">'
        f'<head><meta charset="utf-8"><title>{title}</title>'
        f"{css}<style>{PRINT_CSS}</style></head><body>"
        f'<div class="pdf-book bd-content"><div class="bd-article-container">'
        f'<section class="pdf-cover"><h1>{title}</h1><p>{author}</p>'
        f"<p>{html_lib.escape(str(meta.get('copyright', '')))}</p>"
        f'<p><a href="#pdf--contents">{html_lib.escape(say(meta.get("words"), "Contents"))}</a></p></section>'
        f"{contents_html(chapters, numbers, say(meta.get('words'), 'Contents'), say(meta.get('words'), FIGURES_TITLE))}"
        f"{figures_html(chapters, numbers, say(meta.get('words'), FIGURES_TITLE))}{body}</div></div></body></html>"
    )


def print_pdf(page, draft: bool = False) -> bytes:
    """Chromium's print of the loaded document (A4, backgrounds, page numbers in the footer), tagged: the PDF
    keeps the document's structure (headings, lists, figures with their alternative texts) for screen readers.
    ``draft``: the same pages, for their numbers only: untagged, without backgrounds and footers (in the margin),
    and with the images hidden (:data:`DRAFT_CSS`): they keep their place and are not encoded."""
    return page.pdf(
        format="A4",
        print_background=not draft,
        display_header_footer=not draft,
        header_template="<span></span>",
        footer_template=FOOTER,
        margin={"top": "16mm", "bottom": "16mm", "left": "15mm", "right": "15mm"},
        prefer_css_page_size=True,
        tagged=not draft,
    )


DRAFT_CSS = "img, canvas, svg, video { visibility: hidden !important; }"
"""The draft print's images: hidden, in their place (the pages break where they break in the final print)."""


def destination_pages(pdf: bytes) -> dict[str, int]:
    """The 1-based page of each named destination (Chromium names one for every linked id)."""
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(
        logging.ERROR
    )  # Skia's PDFs draw a harmless "Object count exceeds trailer size"
    reader = PdfReader(io.BytesIO(pdf))
    return {
        str(name).lstrip("/"): reader.get_destination_page_number(dest) + 1
        for name, dest in reader.named_destinations.items()
    }


def finish(pdf: bytes, chapters: list[Chapter], meta: dict) -> bytes:
    """Add the outline (chapters, their sections) and the metadata."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
    numbers = destination_pages(pdf)
    writer.add_outline_item(title=say(meta.get("words"), "Contents"), page_number=numbers["pdf--contents"] - 1)
    if FIGURES_ID in numbers:
        writer.add_outline_item(title=say(meta.get("words"), FIGURES_TITLE), page_number=numbers[FIGURES_ID] - 1)
    for ch in chapters:
        top = writer.add_outline_item(title=ch.title, page_number=numbers[anchor(ch.doc)] - 1)
        for s in ch.sections:
            if s["id"] in numbers:
                writer.add_outline_item(title=s["title"], page_number=numbers[s["id"]] - 1, parent=top)
    writer.page_mode = "/UseOutlines"
    writer.add_metadata(
        {
            "/Title": meta.get("title", ""),
            "/Author": meta.get("author", ""),
            "/Creator": "scripts/pdf.py (Chromium)",
            "/Lang": meta.get("language", "en"),
        }
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def print_book(context, base_url: str, chapters: list[Chapter], styles: list[str], meta: dict) -> bytes:
    """Print the combined document twice: the first, a draft (:func:`print_pdf`), tells the contents page its
    numbers."""
    page = context.new_page()
    document = book_html(chapters, styles, meta, {})
    page.route(
        f"{base_url}{COMBINED}", lambda r: r.fulfill(status=200, content_type="text/html; charset=utf-8", body=document)
    )
    page.goto(f"{base_url}{COMBINED}", wait_until="networkidle", timeout=PAGE_TIMEOUT_MS)
    wait_until_ready(page)
    draft = page.add_style_tag(content=DRAFT_CSS)
    numbers = destination_pages(print_pdf(page, draft=True))
    draft.evaluate("(style) => style.remove()")
    page.evaluate(
        (
            "(numbers) => document.querySelectorAll('.pdf-page[data-target]').forEach(s => s.textContent = "
            "numbers[s.dataset.target] || '')"
        ),
        numbers,
    )
    return finish(print_pdf(page), chapters, meta)


def check_out(out: Path) -> None:
    """A one-line error unless ``out`` can be the PDF's path."""
    if out.suffix.lower() != ".pdf" or out.is_dir():
        raise ValueError(f"--out {str(out)!r} is not a .pdf file path (e.g. _build/pdf/book.pdf)")


def build_pdf(html: Path, out: Path, docs: list[str] | None = None, log=print, language: str = "en") -> Path:
    """Print the built book ``html`` (the TOC's pages, in order, of the ``language`` edition) to ``out``;
    copy it to ``html/book.pdf`` (``html/book-<language>.pdf``)."""
    docs = docs or pages()
    html, out = Path(html).resolve(), Path(out)
    check_html(html, docs)
    check_out(out)
    if not Path(CHROMIUM).exists():
        raise ValueError(f"{CHROMIUM} not found: install Chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    words = edition_words(language)
    meta = {
        k: say(words, v) if isinstance(v, str) else v
        for k, v in (yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8")) or {}).items()
    }
    meta.update(language=language, words=words)
    start = time.perf_counter()
    with serve(html) as base_url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        context = browser.new_context(
            viewport={"width": 1100, "height": 900}, device_scale_factor=2, color_scheme="light"
        )
        chapters, styles = [], []
        for doc in docs:
            chapter, page_styles = prepare_page(context, base_url, doc, docs, words)
            chapters.append(chapter)
            styles += page_styles
        log(f"prepared {len(docs)} pages in {time.perf_counter() - start:.0f} s")
        pdf = print_book(context, base_url, chapters, styles, meta)
        browser.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pdf)
    shutil.copyfile(out, html / pdf_name(language))
    log(f"wrote {out} ({len(pdf) / 1e6:.1f} MB) and {html / pdf_name(language)} in {time.perf_counter() - start:.0f} s")
    return out


def editions_to_print(lang: str | None, explicit: bool) -> list[str]:
    """``--lang``'s edition; without it English, and the Slovene edition when it is built (not with --html/--out)."""
    if lang is not None:
        if lang not in EDITIONS:
            raise ValueError(f"--lang {lang!r} is not an edition of the book: use one of {sorted(EDITIONS)}")
        return [lang]
    built = [
        lang
        for lang, folder in EDITIONS.items()
        if lang == "en" or (ROOT / "_build" / "html" / folder / "index.html").exists()
    ]
    return ["en"] if explicit else built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--html", type=Path, help="the built book (default: _build/html; the Slovene edition's: _build/html/sl)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="the PDF to write (default: _build/pdf/book.pdf; the Slovene edition's: _build/pdf/book-sl.pdf)",
    )
    parser.add_argument(
        "--lang",
        help=f"one edition, {' or '.join(EDITIONS)} (default: English, and the Slovene edition when it is built)",
    )
    args = parser.parse_args(argv)
    try:
        jobs = [
            (
                args.html or ROOT / "_build" / "html" / EDITIONS[language],
                args.out or ROOT / "_build" / "pdf" / pdf_name(language),
                language,
            )
            for language in editions_to_print(args.lang, args.html is not None or args.out is not None)
        ]
        for html, out, _ in jobs:  # every one-line error before any printing starts
            check_html(Path(html).resolve(), pages())
            check_out(Path(out))
        print_editions(jobs)
    except ValueError as e:
        print(f"pdf.py: error: {e}", file=sys.stderr)
        return 2
    return 0


def print_editions(jobs: list[tuple[Path, Path, str]]) -> None:
    """Print each ``(html, out, language)``; two editions at once, each in its own process with its own Chromium.

    One edition keeps Chromium's processes busy for about two thirds of two cores (it waits for each page's
    network to go quiet, and a print runs in one process), so the second edition's pages load and print in the
    first one's gaps: both editions take about two thirds of the time they take one after the other."""
    if len(jobs) == 1:
        html, out, language = jobs[0]
        build_pdf(html, out, language=language)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(len(jobs), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [
            pool.submit(
                build_pdf, html, out, log=functools.partial(print, f"[{language}]", flush=True), language=language
            )
            for html, out, language in jobs
        ]
        for future in futures:
            future.result()  # re-raises an edition's ValueError here, as one line


if __name__ == "__main__":
    sys.exit(main())
