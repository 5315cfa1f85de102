"""The download button offers the PDF edition (loaded through ``sphinx.local_extensions`` in ``_config.yml``).

sphinx-book-theme builds its header buttons as a list in the page context (``header_buttons``,
filled by its ``html-page-context`` handlers at priority 501); the download group
(``label: download-buttons``: the page's .ipynb / source / print) is one entry of that list. After
the theme, this adds a "Book (PDF)" link to that group, pointing at the edition's PDF in the root
of its HTML output, where ``scripts/pdf.py`` puts its copy: ``book.pdf`` in ``_build/html``, and
the Slovene edition's ``book-sl.pdf`` in ``_build/html/sl``. The entry's words come from the
edition's ``labels.po`` (gettext domain ``thesis``, registered by ``_ext/thesis_labels.py``).
"""

from __future__ import annotations

from sphinx.locale import get_translation

# the English edition's; scripts/pdf.py writes <html>/book.pdf; tests/test_pdf.py checks the link resolves
PDF_NAME = "book.pdf"
_ = get_translation("thesis")


def pdf_name(language: str | None) -> str:
    """The file name of an edition's PDF: ``book.pdf`` (English), ``book-sl.pdf`` (Slovene)."""
    return PDF_NAME if (language or "en") == "en" else f"book-{language}.pdf"


def add_book_pdf(app, pagename, templatename, context, doctree) -> None:
    """Append the book's PDF to the page's download group (pages without one are left alone)."""
    for button in context.get("header_buttons") or []:
        if button.get("type") == "group" and button.get("label") == "download-buttons":
            button["buttons"].append(
                {
                    "type": "link",
                    "url": context["pathto"](pdf_name(app.config.language), 1),
                    "text": str(_("Book (PDF)")),
                    "tooltip": str(_("Download the whole book as a PDF")),
                    "icon": "fas fa-book",
                    "label": "download-book-pdf-button",
                }
            )


def setup(app):
    app.connect("html-page-context", add_book_pdf, priority=600)  # after sphinx-book-theme's add_header_buttons (501)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
