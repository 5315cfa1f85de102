"""The built Slovene edition (``_build/html/sl``) has nothing English on its pages but code, formulas and the
bibliography's titles, and writes numbers the Slovene way.

Read from the built HTML (after ``scripts/build_book.py``; marked ``book_build`` and ``browser`` like
``tests/test_browser.py``, skipped when the edition is not built outside CI):

* **No translation dropped.** Sphinx keeps the English of a message whose translation does not parse
  as one paragraph (a msgstr "2. korak: ..." is a numbered list in Markdown) without a word
  (``_ext/thesis_i18n.py`` makes it a build warning). Here, from the edition's doctrees
  (``_build/.doctrees-sl``, Sphinx's record of which node it translated): no message whose
  catalogue has a different translation was left in English; and on the built pages, no such
  message's English words appear as they are.
* **No message without a translation**: the Slovene build marks every node left in English with the
  class ``untranslated`` (``translation_progress_classes``); no element of an article has it. (This
  fails while the catalogue lags behind the English text: ``tests/test_translation.py`` names
  the messages.)
* **The extensions' words**: no "Exercise", "Solution to", "Algorithm", "Proof" in the boxes' titles
  or in references; citations with "in" and "in sod.", not "and" and "et al."; the bibliography's
  entries without "and", "In", "editors", "pages".
* **Numbers**: no decimal point in the prose (outside formulas and code: a point between digits
  is a decimal point unless it groups thousands, ``10.000``); a space before every "%".
* **The author line** in the footer is Slovene.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import book_toc
import pytest

bs4 = pytest.importorskip("bs4")
babel_pofile = pytest.importorskip("babel.messages.pofile")

ROOT = Path(__file__).resolve().parents[1]
HTML = Path(os.environ.get("THESIS_LIB_BOOK_HTML", ROOT / "_build" / "html")).resolve()
SL = HTML / "sl"
DOCTREES = HTML.parent / ".doctrees-sl"  # scripts/build_book.py's doctrees of the Slovene edition
CATALOGUES = ROOT / "locales" / "sl" / "LC_MESSAGES"
IN_CI = os.environ.get("CI", "").lower() == "true"
PAGES = book_toc.pages()
pytestmark = [pytest.mark.book_build, pytest.mark.browser]

# what a reader does not read as Slovene prose: code, formulas, program output (English by the
# README's convention), the widgets (tests/test_widget_words.py), the header links
NOT_PROSE = [
    "script",
    "style",
    "pre",
    "code",
    "mjx-container",
    ".math",
    ".cell_input",
    ".cell_output",
    ".output",
    ".tl-latent",
    ".tl-game",
    ".headerlink",
    ".tl-lang-switch",
    "div.highlight",
    ".MathJax",
    ".untranslated",
    "a.reference.internal",
    "a.reference.external",
]
# (messages without a translation are English: the test of untranslated nodes counts them; links are
# titles and labels, "1.2 Generativne nasprotniške mreže", and URLs)
# a point between digits that groups thousands (CLDR sl: 10.000, 1.234.567), not a decimal point
GROUPED = re.compile(r"(?<![\d.,])[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?(?![\d.]\d)")  # 10.000, −1.600,5
# a dotted number that is a label, not a decimal: "1.2 Generativne ..." (a chapter's number before its title),
# "koraki 1.2, 1.3.1", "razdelek 1.1", "vrstice 2.1 do 2.3", an arXiv identifier
LABEL = re.compile(
    r"(?:\b(?i:korak\w*|vrstic\w*|razdel\w*|poglavj\w*|algorit\w*|sekcij\w*|enačb\w*|in|do|iz|,)\s+)\d+(?:\.\d+)+\b"
    r"|\b\d+\.\d+\.\d+\b|\b\d\.\d(?=\s+[A-ZČŠŽ][a-zčšž])|arXiv:\d+\.\d+|\(\d\.\d\)(?=\.)"
)


def blank(pattern: re.Pattern, text: str) -> str:
    """``text`` with ``pattern``'s matches replaced by as many spaces (so positions still match ``text``)."""
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the Slovene edition must be built in CI)")
    pytest.skip(reason)


def soup(doc: str):
    path = SL / f"{doc}.html"
    if not path.exists():
        _unavailable(f"the Slovene edition is not built: no {path} (run: .venv/bin/python scripts/build_book.py)")
    return bs4.BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def article(doc: str):
    return soup(doc).select_one("article.bd-article")


def prose(doc: str) -> str:
    """The article's text as a reader reads it, without code, formulas, program output and widgets."""
    node = article(doc)
    for selector in NOT_PROSE:
        for element in node.select(selector):
            element.decompose()
    # section numbers of headings and links ("1.2 Generativne ...") are labels
    for element in node.select(".section-number"):
        element.decompose()
    return " ".join(node.get_text(" ").split())


def translations(doc: str) -> list[tuple[str, str]]:
    path = CATALOGUES / f"{doc}.po"
    if not path.exists():
        return []
    with open(path, "rb") as f:
        return [
            (m.id, m.string)
            for m in babel_pofile.read_po(f)
            if isinstance(m.id, str) and m.id and m.string and m.id != m.string
        ]


def english_run(msgid: str, msgstr: str) -> str | None:
    """The longest run of plain English words of ``msgid`` (no markup, math or roles) that its translation
    does not contain: if the page shows it, the English was kept."""
    plain = re.sub(r"\{[\w:-]+\}`[^`]*`|\$[^$]*\$|`[^`]*`|\*+|\[[^\]]*\]\([^)]*\)", "\n", msgid)
    runs = [" ".join(r.split()) for r in re.split(r"[\n()\":;»«]|(?<=[.!?])\s", plain)]
    runs = [r for r in runs if len(r.split()) >= 4 and re.search(r"[a-z]{3}", r) and r not in msgstr]
    return max(runs, key=len) if runs else None


def doctree(doc: str):
    import pickle

    path = DOCTREES / f"{doc}.doctree"
    if not path.exists():
        _unavailable(
            f"the Slovene edition's doctrees are missing: no {path} (run: .venv/bin/python scripts/build_book.py)"
        )
    with open(path, "rb") as f:
        return pickle.load(f)


def messages(doc: str) -> list[tuple[bool, str]]:
    """(translated?, msgid) of every translatable node of the page, as Sphinx left them."""
    from sphinx.util.nodes import extract_messages

    return [(bool(node.get("translated")), msg) for node, msg in extract_messages(doctree(doc))]


@pytest.mark.parametrize("doc", PAGES)
def test_no_translation_is_dropped(doc):
    """Every message whose catalogue has a different translation was translated (the doctree's record)."""
    catalogue = dict(translations(doc))
    dropped = [msg for done, msg in messages(doc) if not done and msg in catalogue]
    assert not dropped, f"{len(dropped)} translations not applied (the page shows the English):\n" + "\n".join(
        m[:100] for m in dropped[:20]
    )


@pytest.mark.parametrize("doc", [d for d in PAGES if d not in ("book/bibliography",)])
def test_no_node_is_left_untranslated(doc):
    """Sphinx's own record: no element of the article carries the class ``untranslated``."""
    page = article(doc)
    left = [
        " ".join(e.get_text(" ").split())[:100]
        for e in page.select(".untranslated")
        if not e.find_parent(class_=re.compile(r"cell_output|output"))
    ]
    assert not left, f"{len(left)} messages shown in English:\n" + "\n".join(left[:20])


@pytest.mark.parametrize("doc", PAGES)
def test_no_translated_sentence_shows_its_english(doc):
    """Every message of the page whose translation differs: its English words are not in its prose as they are
    (code and what it prints stay English by the README's convention)."""
    text = prose(doc)
    current = {msg for _, msg in messages(doc)}
    shown = [run for en, sl in translations(doc) if en in current and (run := english_run(en, sl)) and run in text]
    assert not shown, f"{len(shown)} English sentences on the Slovene page:\n" + "\n".join(shown[:20])


@pytest.mark.parametrize("doc", PAGES)
def test_exercise_solution_and_algorithm_labels_are_slovene(doc):
    page = article(doc)
    titles = [" ".join(t.get_text(" ").split()) for t in page.select(".admonition-title")]
    english = [t for t in titles if re.search(r"\b(Exercise|Solution|Algorithm|Proof|Theorem)\b", t)]
    assert not english, english[:10]
    references = [" ".join(a.get_text(" ").split()) for a in page.select("a.reference")]
    english = [r for r in references if re.search(r"\b(Exercise|Algorithm|Solution)\s+\d", r)]
    assert not english, english[:10]
    for title in titles:  # "Rešitev vaje 3 (…)": the exercise's word in the genitive
        assert not re.match(r"Rešitev Vaja", title), title


@pytest.mark.parametrize("doc", PAGES)
def test_citations_are_slovene(doc):
    """ "Kingma in Welling [2013]", "Goodfellow in sod. [2014]": no "and" or "et al." in a citation."""
    cites = [
        " ".join(a.get_text(" ").split())
        for a in article(doc).select("a.reference.internal")
        if "bibliography" in (a.get("href") or "") or re.search(r"\[\d{4}\]|\d{4}\)", a.get_text())
    ]
    english = [c for c in cites if re.search(r"\band\b|et al\.", c)]
    assert not english, english[:10]


def test_bibliography_entries_are_slovene():
    """The entries' words (authors' "in", "V:", "(ur.)", "str.") are Slovene; the titles stay as published."""
    entries = [
        " ".join(e.get_text(" ").split()) for e in article("book/bibliography").select(".citation p, dd, .citation")
    ]
    assert entries, "no bibliography entries found"
    english = [e for e in entries if re.search(r"\band\b [A-Z]|\bIn [A-Z]|\beditors?\b|, pages \d", e)]
    assert not english, english[:5]


@pytest.mark.parametrize("doc", PAGES)
def test_no_decimal_point_and_a_space_before_percent(doc):
    text = prose(doc)
    masked = blank(LABEL, blank(GROUPED, text))
    points = [text[max(0, m.start() - 40) : m.end() + 20] for m in re.finditer(r"\d\.\d", masked)]
    assert not points, f"{len(points)} decimal points in the prose:\n" + "\n".join(points[:20])
    percent = [m.group(0) for m in re.finditer(r"\S{0,20}\d%", text)]
    assert not percent, f"{len(percent)} percentages without a space: {percent[:10]}"


def test_footer_author_is_slovene():
    footer = (
        " ".join(soup(PAGES[0]).select_one("footer, .bd-footer-content, .footer-item").get_text(" ").split())
        if soup(PAGES[0]).select_one("footer, .bd-footer-content, .footer-item")
        else ""
    )
    assert "book contributors" not in footer and "(thesis)" not in footer, footer
