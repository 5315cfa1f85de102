"""The pages' accessibility fixes that need code (loaded through ``sphinx.local_extensions`` in ``_config.yml``).

``tests/test_browser.py`` runs axe-core's WCAG 2.0/2.1 A and AA rules on every page of both
editions and allows no critical or serious violation. What the theme gets wrong is fixed where it
is made, never by turning a rule off:

* **Bibliography entries** (this extension). docutils writes each citation as
  ``<div role="doc-biblioentry">`` inside ``<div role="list">``; ``doc-biblioentry`` is deprecated
  (DPUB-ARIA 1.1), and a list whose children are not list items is a *critical* violation
  (``aria-required-children``: the backlinks inside the entries count as the list's children).
  The HTML translator here writes each entry as ``role="listitem"``, which is what a list holds.
  The theme's own translator (pydata-sphinx-theme mixes its Bootstrap rules into every registered
  HTML translator when the builder starts) builds on this one.
* **Buttons whose visible text is not in their name** (``label-content-name-mismatch``, serious):
  ``_templates/search-button-field.html`` (the search button shows "Search Ctrl+K"
  but was named "Search": it is now named by its text) and
  ``_templates/theme-switcher.html`` (the colour-mode button's icons carried titles, which Font
  Awesome turns into SVG titles, "Light" / "Dark", that became the button's visible text: they
  are gone, the button keeps its name "Color mode" and its tooltip). Both are copies of
  pydata-sphinx-theme 0.17's components (``components/*.html``, found by name through
  ``templates_path``, which comes first), each with that one change.
* **Contrast** (``color-contrast``): ``_static/thesis_book.css``.
"""

from __future__ import annotations

from sphinx.writers.html5 import HTML5Translator


class AccessibleHTML5Translator(HTML5Translator):
    """Sphinx's HTML5 translator, with bibliography entries as list items."""

    def visit_citation(self, node) -> None:
        if not isinstance(node.previous_sibling(), type(node)):
            self.body.append('<div role="list" class="citation-list">\n')
        self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))


def setup(app):
    for builder in ("html", "dirhtml", "singlehtml"):
        app.set_translator(builder, AccessibleHTML5Translator, override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
