"""The PDF editions: ``scripts/pdf.py`` (the README's command) prints the built book, read back with pypdf
(its structure) and PDFium (its text, ``pypdfium2``).

The PDFs are made here from ``_build/html`` by the same command the README gives, so the README's
test command produces ``_build/pdf/book.pdf`` and, from the Slovene edition ``_build/html/sl``,
``_build/pdf/book-sl.pdf``; every test runs on both (the Slovene one is skipped when its edition
is not built, outside CI). These tests need the built book and Chromium, so
they are marked ``book_build`` and ``browser`` and run after ``tests/test_book_build.py`` (see
the root ``conftest.py``). Outside CI they are skipped when the book is not built or Chromium is
missing; in CI (``CI=true``) that is a failure.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import subprocess
import sys
import time
import unicodedata
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urlsplit

import book_toc
import pytest
from pdf import (
    CHROMIUM,  # the browser the PDF script prints with
    EDITIONS,
    FIGURES_TITLE,
    anchor,
    edition_words,
    pdf_name,
    say,
    short_caption,
)

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"  # the English edition; the Slovene one is HTML / "sl"
SCRIPT = ROOT / "scripts" / "pdf.py"
IN_CI = os.environ.get("CI", "").lower() == "true"
PAGES = book_toc.pages()
HANG_GUARD_SECONDS = 1800  # only a guard against a hung browser; the time is measured and reported, not asserted


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the PDF edition must be built in CI)")
    pytest.skip(reason)


@dataclass
class Built:
    """One edition's PDF as pypdf reads it (its pages' texts as PDFium reads them), and what went into making it."""

    reader: object
    texts: list[str]
    seconds: float
    language: str = "en"

    @property
    def html(self) -> Path:
        return HTML / EDITIONS[self.language]

    @property
    def path(self) -> Path:
        return ROOT / "_build" / "pdf" / pdf_name(self.language)

    def say(self, text: str) -> str:
        return say(edition_words(self.language), text)

    def outline(self) -> list[tuple[str, int, list]]:
        """The top-level bookmarks: (title, 1-based page, children)."""
        items, out = self.reader.outline, []
        for i, item in enumerate(items):
            if isinstance(item, list):
                continue
            children = items[i + 1] if i + 1 < len(items) and isinstance(items[i + 1], list) else []
            out.append((item.title, self.reader.get_destination_page_number(item) + 1, children))
        return out


def squash(text: str) -> str:
    """Text without whitespace (PDF text extraction breaks lines and spaces where it likes) and with
    ligatures spelled out (the PDF's "ﬁ" is "fi")."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def article(doc: str, html_dir: Path = HTML) -> str:
    """The main article of a built page (its HTML)."""
    html = (html_dir / f"{doc}.html").read_text(encoding="utf-8")
    start = html.index('<article class="bd-article"')
    return html[start : html.index("</article>", start)]


def strip_tags(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def page_title(doc: str, html_dir: Path = HTML) -> str:
    """The page's <h1>, without its header link."""
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", article(doc, html_dir), re.S).group(1)
    return " ".join(strip_tags(re.sub(r'<a class="headerlink".*?</a>', "", h1, flags=re.S)).split())


_RUN: dict = {}  # the one run of scripts/pdf.py (it prints every built edition)


@pytest.fixture(scope="module", params=sorted(EDITIONS))
def pdf(request) -> Built:
    language = request.param
    html = HTML / EDITIONS[language]
    if not (html / "index.html").exists():
        _unavailable(
            f"the {language} edition is not built: no {html / 'index.html'} (run: .venv/bin/python "
            "scripts/build_book.py)"
        )
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} not found (install it: apt-get install -y chromium)")
    from pypdf import PdfReader

    if not _RUN:
        start = time.perf_counter()
        r = subprocess.run(
            [sys.executable, str(SCRIPT)], cwd=ROOT, capture_output=True, text=True, timeout=HANG_GUARD_SECONDS
        )
        _RUN.update(seconds=time.perf_counter() - start, result=r)
    r = _RUN["result"]
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    path = ROOT / "_build" / "pdf" / pdf_name(language)
    return Built(PdfReader(path), page_texts(path), _RUN["seconds"], language)


def page_texts(path: Path) -> list[str]:
    """Each page's text as PDFium (Chromium's PDF engine, ``pypdfium2``) reads it: in under a second, where pypdf's
    text extraction took 16 s for the Slovene edition's 212 pages (pypdf still reads the structure: the outline,
    links, images and the tagged alternative texts)."""
    import pypdfium2

    document, texts = pypdfium2.PdfDocument(path), []
    try:
        for page in document:
            text = page.get_textpage()
            # (PDFium gives a hyphen it takes for a word broken at a line's end as U+FFFE)
            texts.append(text.get_text_range().replace("\r\n", "\n").replace("\ufffe", "-"))
            text.close()
            page.close()
    finally:
        document.close()
    return texts


@pytest.mark.slow
@pytest.mark.parametrize("where", ["missing", "empty", "not a pdf"])
def test_bad_folder_or_file_is_a_one_line_error(tmp_path, where):
    """No traceback: one line naming the value and what is allowed; exit status 2; nothing written."""
    for doc in PAGES if where == "not a pdf" else []:  # a complete (if empty) book, so that --out is what is wrong
        (tmp_path / f"{doc}.html").parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f"{doc}.html").write_text("<html></html>")
    folder, out = (
        tmp_path / "nowhere" if where == "missing" else tmp_path,
        tmp_path / ("x.png" if where == "not a pdf" else "x.pdf"),
    )
    r = subprocess.run(
        [sys.executable, str(SCRIPT), "--html", str(folder), "--out", str(out)], capture_output=True, text=True
    )
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    named, why = {
        "missing": (folder, "not a folder"),
        "empty": (folder, "lacks the TOC pages ['book/intro'"),
        "not a pdf": (out, "not a .pdf file"),
    }[where]
    assert len(lines) == 1 and str(named) in lines[0] and why in lines[0] and "Traceback" not in r.stderr, r.stderr
    assert not out.exists() and not (tmp_path / "book.pdf").exists()


@pytest.mark.book_build
@pytest.mark.browser
def test_pdf_is_made_and_its_time_reported(pdf):
    """The PDF exists; how long it took (both editions) is written to _build/pdf/pdf_info.json (reported, not
    asserted)."""
    assert pdf.path.stat().st_size > 100_000
    info_path = pdf.path.parent / "pdf_info.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    info = info if isinstance(info, dict) and "seconds" in info else {}
    entry = {"pages": len(pdf.reader.pages), "bytes": pdf.path.stat().st_size}
    info.update({"seconds": round(pdf.seconds, 1), **(entry if pdf.language == "en" else {pdf.language: entry})})
    info_path.write_text(json.dumps(info, indent=1))
    print(f"PDF: {info}")


def html_figures(doc: str, html_dir: Path = HTML) -> list[dict]:
    """The numbered figures of a built page: id, number ("Figure 3" / "Slika 3") and caption text, in order."""
    found = []
    for fid, body in re.findall(r'<figure[^>]*\bid="([^"]+)"[^>]*>(.*?)</figure>', article(doc, html_dir), re.S):
        number = re.search(r'<span class="caption-number">(.*?)</span>', body, re.S)
        text = re.search(r'<span class="caption-text">(.*?)</span>\s*<a class="headerlink"', body, re.S)
        if number:
            found.append(
                {
                    "id": fid,
                    "number": " ".join(strip_tags(number.group(1)).split()),
                    "caption": " ".join(strip_tags(text.group(1) if text else "").split()),
                }
            )
    return found


def front_matter(pdf) -> list[str]:
    """The bookmarks before the chapters, in the edition's words: the contents, and the list of figures when the
    book has figures."""
    return [
        pdf.say("Contents"),
        *([pdf.say(FIGURES_TITLE)] if any(html_figures(doc, pdf.html) for doc in PAGES) else []),
    ]


@pytest.mark.book_build
@pytest.mark.browser
def test_every_chapter_in_order_each_from_a_new_page(pdf):
    """The bookmarks are the contents page (and the list of figures) and the TOC's pages, in order, each on its own
    first page, which shows its title."""
    outline = pdf.outline()
    titles = [page_title(doc, pdf.html) for doc in PAGES]
    assert [t for t, _, _ in outline] == [*front_matter(pdf), *titles]
    starts = [p for _, p, _ in outline]
    assert starts == sorted(set(starts)), f"chapters share a page or are out of order: {starts}"
    assert len(PAGES) + 2 <= len(pdf.reader.pages) <= 40 * len(PAGES), len(pdf.reader.pages)
    for title, page, _ in outline[len(front_matter(pdf)) :]:
        assert squash(title) in squash(pdf.texts[page - 1]), f"{title!r} is not on its first page {page}"
    sections = sum(len(re.findall(r"<h2\b", article(doc, pdf.html))) for doc in PAGES)
    assert sum(len(children) for _, _, children in outline) == sections, (
        f"the outline should hold the pages' {sections} sections"
    )


@pytest.mark.book_build
@pytest.mark.browser
def test_contents_page_gives_each_chapters_page(pdf):
    """The printed contents lists every chapter with the page its bookmark opens."""
    outline = pdf.outline()
    contents = "\n".join(pdf.texts[outline[0][1] - 1 : outline[1][1] - 1])
    listed = {squash(m.group(1)): int(m.group(2)) for m in re.finditer(r"^(.*\S)[ \t]+(\d+)$", contents, re.M)}
    for title, page, _ in outline[1:]:  # the list of figures too
        assert listed.get(squash(title)) == page, (
            f"contents: {title!r} should say page {page}, says {listed.get(squash(title))}"
        )


@pytest.mark.book_build
@pytest.mark.browser
def test_list_of_figures_gives_each_figures_number_caption_and_page(pdf):
    """After the contents, a list of figures: per chapter, every numbered figure of the HTML with its number, its
    caption's first sentence and the page its destination is on, linked to it; the figures keep their alternative
    texts in the PDF's structure (a tagged PDF)."""
    figures = {doc: html_figures(doc, pdf.html) for doc in PAGES}
    if not any(figures.values()):
        pytest.skip("the built book has no numbered figures")
    outline = pdf.outline()
    assert outline[1][0] == pdf.say(FIGURES_TITLE), [t for t, _, _ in outline[:3]]
    listing = squash("\n".join(pdf.texts[outline[1][1] - 1 : outline[2][1] - 1]))
    pages = {
        str(name).lstrip("/"): pdf.reader.get_destination_page_number(dest) + 1
        for name, dest in pdf.reader.named_destinations.items()
    }
    missing = []
    for doc, figs in figures.items():
        for f in figs:
            target = anchor(doc, f["id"])
            assert target in pages, f"{doc}: figure {f['id']} is no destination in the PDF"
            # the caption's words up to its first formula (the PDF prints typeset math, the HTML holds its TeX)
            words = re.split(r"\\\(|\$", short_caption(f["caption"]), maxsplit=1)[0]
            has_math = "\\(" in f["caption"] or "$" in f["caption"]
            entry = re.compile(
                re.escape(squash(f"{f['number']}{words}"))
                + (r".{0,400}?" if has_math else "")
                + re.escape(f"{pages[target]}")
            )
            if not entry.search(listing):
                missing.append(f"{doc}: {f['number']} ({f['id']}) on page {pages[target]}")
            assert squash(f["number"]) in squash(pdf.texts[pages[target] - 1]), (
                f"{doc}: {f['number']} is not on page {pages[target]}"
            )
    assert not missing, f"the list of figures lacks or misnumbers: {missing[:10]}"
    links = {
        str(a.get_object().get("/Dest")).lstrip("/")
        for i in range(outline[1][1] - 1, outline[2][1] - 1)
        for a in pdf.reader.pages[i].get("/Annots") or []
        if a.get_object().get("/Subtype") == "/Link"
    }
    unlinked = [f["id"] for doc, figs in figures.items() for f in figs if anchor(doc, f["id"]) not in links]
    assert not unlinked, f"entries without a link to their figure: {unlinked[:10]}"
    alts = _structure_alts(pdf.reader)
    html_alts = [
        unescape(a) for doc in PAGES for a in re.findall(r'<figure[^>]*>\s*<img alt="([^"]*)"', article(doc, pdf.html))
    ]
    assert set(html_alts) <= set(alts), (
        f"figures without their alt text in the tagged PDF: {sorted(set(html_alts) - set(alts))[:5]}"
    )


def _structure_alts(reader) -> list[str]:
    """The alternative texts in the PDF's structure tree (a tagged PDF's /Figure elements)."""
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root, "the PDF is not tagged"
    found, stack = [], [root["/StructTreeRoot"]]
    while stack:
        node = stack.pop()
        try:
            node = node.get_object()
        except AttributeError:
            continue
        if not hasattr(node, "get"):
            continue
        if "/Alt" in node:
            found.append(str(node["/Alt"]))
        kids = node.get("/K")
        stack.extend(kids if isinstance(kids, list) else [kids] if kids is not None else [])
    return found


def _images(resources) -> int:
    """The image XObjects a page's (or a form's) resources draw, forms' own included. (pypdf's ``page.images`` counts
    the same ones and inline images too, which it finds by parsing every content stream: 200 times slower here, and
    Chromium draws none.)"""
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    found = 0
    for ref in (xobjects.get_object() if xobjects is not None else {}).values():
        xobject = ref.get_object()
        if xobject.get("/Subtype") == "/Image":
            found += 1
        elif xobject.get("/Subtype") == "/Form":
            found += _images(xobject.get("/Resources"))
    return found


@pytest.mark.book_build
@pytest.mark.browser
def test_pdf_holds_every_figure_and_widget(pdf):
    """At least one image per <img> of the built pages' articles (a widget counts once: its initial picture)."""
    expected = 0
    for doc in PAGES:
        html = article(doc, pdf.html)
        widgets = len(re.findall(r'<div[^>]*class="tl-latent(?:\s[^"]*)?"', html))
        in_widgets = len(
            re.findall(r'<img[^>]*class="tl-latent-(?:sprite|image)"', html)
        )  # a sprite sheet, or a decoder widget's initial image
        expected += len(re.findall(r"<img\b", html)) - in_widgets + widgets
    images = sum(_images(page.get("/Resources")) for page in pdf.reader.pages)
    assert expected > 10 and images >= expected, (
        f"{images} images in the PDF, {expected} figures and widgets in the HTML"
    )


@pytest.mark.book_build
@pytest.mark.browser
def test_math_is_typeset(pdf):
    """The pages' maths is in the PDF typeset: no TeX delimiters are left in its text (scripts/pdf.py also
    refuses to print a formula MathJax did not typeset)."""
    formulas = sum(len(re.findall(r'class="math notranslate', article(doc, pdf.html))) for doc in PAGES)
    assert formulas > 20, formulas
    raw = [t for t in pdf.texts if re.search(r"\\\(|\\\)|\\\[|\\\]|\$\$", t)]
    assert not raw, raw[0][:300]


@pytest.mark.book_build
@pytest.mark.browser
def test_solutions_are_unfolded(pdf):
    """Every exercise's solution is printed: the start of each solution's text is in the PDF."""
    text = squash(" ".join(pdf.texts))
    checked, missing = 0, []
    for doc in PAGES:
        for body in re.findall(
            r'<div class="solution[^"]*"[^>]*>\s*<p class="admonition-title">.*?</p>(.*?)</div>',
            article(doc, pdf.html),
            re.S,
        ):
            words = strip_tags(body).split("\\(")[0].split("\\[")[0].split("$")[0]
            snippet = squash(words)[:30]
            if len(snippet) >= 12:
                checked += 1
                if snippet not in text:
                    missing.append(f"{doc}: {snippet}")
    assert checked >= 5, f"only {checked} solutions checked"
    assert not missing, missing[:10]


@pytest.mark.book_build
@pytest.mark.browser
def test_no_unresolved_references_and_links_work(pdf):
    """No '??' anywhere; every link inside the PDF reaches a destination; none points at the local print server."""
    assert not [i + 1 for i, t in enumerate(pdf.texts) if "??" in t]
    names = set(pdf.reader.named_destinations)
    internal, broken = 0, []
    for i, page in enumerate(pdf.reader.pages):
        for annot in page.get("/Annots") or []:
            a = annot.get_object()
            if a.get("/Subtype") != "/Link":
                continue
            dest = a.get("/Dest")
            uri = str((a.get("/A") or {}).get("/URI", ""))
            if dest is not None:
                internal += 1
                if isinstance(dest, str) and dest not in names:
                    broken.append(f"page {i + 1}: {dest}")
            elif uri.startswith(("http://127.0.0.1", "http://localhost")):
                broken.append(f"page {i + 1}: {uri}")
    assert internal > 50, f"only {internal} internal links (contents, citations, cross-references)"
    assert not broken, broken[:10]


@pytest.mark.book_build
@pytest.mark.browser
def test_download_button_offers_the_pdf(pdf):
    """Every page's download menu links to its edition's PDF, and that link reaches a copy of it."""
    for doc in PAGES:
        page = pdf.html / f"{doc}.html"
        found = re.search(
            r'<a href="([^"]+)"[^>]*class="[^"]*btn-download-book-pdf-button', page.read_text(encoding="utf-8")
        )
        assert found, f"{doc}: no 'Book (PDF)' entry in the download menu"
        target = (page.parent / unquote(found.group(1))).resolve()
        assert target.is_file() and target.read_bytes() == pdf.path.read_bytes(), f"{doc}: {found.group(1)} -> {target}"


def html_link_targets(html_dir: Path = HTML) -> set[str]:
    """Where the built pages' internal links (cross-references, citations, glossary terms) point,
    named as in the PDF (``scripts/pdf.py``'s ``anchor``: page and fragment)."""
    targets = set()
    for doc in PAGES:
        for tag in re.findall(r"<a\b[^>]*>", article(doc, html_dir)):
            href, cls = re.search(r'href="([^"]*)"', tag), re.search(r'class="([^"]*)"', tag)
            cls = cls.group(1) if cls else ""
            if (
                not href
                or "headerlink" in cls
                or ("reference internal" not in cls and not href.group(1).startswith("#"))
            ):
                continue
            parts = urlsplit(unescape(href.group(1)))
            path = (
                posixpath.normpath(posixpath.join(posixpath.dirname(doc), parts.path)).removesuffix(".html")
                if parts.path
                else doc
            )
            if path in PAGES or path == "index":
                targets.add(anchor(PAGES[0] if path == "index" else path, unquote(parts.fragment)))
    return targets


@pytest.mark.book_build
@pytest.mark.browser
def test_every_link_of_the_html_leads_somewhere_in_the_pdf(pdf):
    """Each target of the HTML's internal links is a destination in the PDF (so the link survived the print)."""
    targets = html_link_targets(pdf.html)
    names = {str(n).lstrip("/") for n in pdf.reader.named_destinations}
    assert len(targets) > 20, sorted(targets)[:5]
    missing = sorted(targets - names)
    assert not missing, f"{len(missing)} of {len(targets)} link targets are not destinations in the PDF: {missing[:10]}"
