"""The book's figures: numbered, captioned, described and referenced, in both editions (loaded through
``sphinx.local_extensions`` in ``_config.yml``).

A chapter's figure is a glued matplotlib figure: the code cell glues it without showing it, and a
Markdown cell places it with myst-nb's ``glue:figure`` directive, which takes the figure's name
(its target), its alternative text and its caption::

    ```{glue:figure} fig-ae-reconstructions
    :name: fig-ae-reconstructions
    :alt: Two rows of ten digits: test images above, their reconstructions below, nearly identical.

    Test digits (top) and the autoencoder's reconstructions (bottom); mean error {glue:text}`ae-mse:.4f`.
    ```

and the text refers to it by number, ``{numref}`fig-ae-reconstructions```. Sphinx numbers the
figures of each page (``numfig``), writes ``<figure>``, ``<img alt=...>`` and ``<figcaption>``
("Figure 3: ..."), and the PDF edition lists them (``scripts/pdf.py``). This extension adds:

* **The words of the numbers in each edition.** ``_config.yml`` says "Figure %s"
  (``numfig_format``); the Slovene edition says "Slika %s" (:data:`NUMFIG_WORDS`; Sphinx's own
  Slovene catalogue has no word for figures).
* **Captions and alternative texts in the catalogues.** Sphinx's translation workflow extracts a
  figure's caption and its image's ``alt`` (an image with an alt text is translatable by default)
  and puts the translations back in the Slovene edition. But the message templates are extracted
  with execution off (``scripts/build_book.py gettext``), where a glued figure has no data and
  myst-nb's directive would leave nothing to extract: there it yields the figure's alt text and
  caption without the picture, so both reach the ``.pot``.
* **Checks** (warnings, so errors under the book build's ``-W``): every figure has a name, a
  caption and an alternative text for each image, and the text of the book refers to it
  (``{numref}``).
"""

from __future__ import annotations

from docutils import nodes
from sphinx import addnodes
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

NUMFIG_WORDS = {
    "sl": {"Figure %s": "Slika %s", "Table %s": "Tabela %s", "Listing %s": "Izpis %s", "Section %s": "Razdelek %s"}
}
"""The translated editions' words for numbered things (``numfig_format``), by the English format."""


def translate_numfig_format(app, config) -> None:
    """The edition's "Figure %s" (after Sphinx has filled in its defaults, priority 800)."""
    words = NUMFIG_WORDS.get(config.language or "en", {})
    config.numfig_format = {kind: words.get(fmt, fmt) for kind, fmt in config.numfig_format.items()}


def _patch_glue_figure() -> None:
    from myst_nb.core.variables import RetrievalError
    from myst_nb.ext.glue import directives

    original = directives.PasteFigureDirective.run
    if getattr(original, "_thesis_figures", False):
        return

    def run(self):
        env = getattr(self.state.document.settings, "env", None)
        if env is not None and env.app.builder.name == "gettext":
            try:
                directives.retrieve_glue_data(self.document, self.arguments[0])
            except RetrievalError:
                return _messages_only(self)
        return original(self)

    run._thesis_figures = True
    directives.PasteFigureDirective.run = run


def _messages_only(directive) -> list[nodes.Node]:
    """A glued figure without its data (message extraction): the alt text (a paragraph here: its message is
    the same as the image's ``alt`` in a build with the data) and the caption."""
    figure = nodes.figure("")
    directive.set_source_info(figure)
    alt = directive.options.get("alt", "")
    if alt:
        text = nodes.paragraph(alt, alt)
        directive.set_source_info(text)
        figure += text
    directive.add_name(figure)
    if directive.content:
        holder = nodes.Element()
        directive.state.nested_parse(directive.content, directive.content_offset, holder)
        if len(holder) and isinstance(holder[0], nodes.paragraph):
            first = holder[0]
            caption = nodes.caption(first.rawsource, "", *first.children)
            caption.source, caption.line = first.source, first.line
            figure += caption
            if len(holder) > 1:
                figure += nodes.legend("", *holder[1:])
    return [figure]


# ----------------------------------------------------------------------------- checks
def collect(app, doctree) -> None:
    """Note each page's figures (name, caption, alt texts) and what its text refers to by number."""
    env = app.env
    if app.builder.name == "gettext":
        return
    figures = env.__dict__.setdefault("thesis_figures", {})
    numrefs = env.__dict__.setdefault("thesis_numrefs", {})
    found = []
    for figure in doctree.findall(nodes.figure):
        images = [im for im in figure.findall(nodes.image) if not _in_unselected_mime(im)]
        found.append(
            {
                "ids": list(figure["ids"]),
                "caption": any(isinstance(c, nodes.caption) and c.astext().strip() for c in figure.children),
                "alts": [im.get("alt", "") for im in images],
                # a glued widget (a training replay's HTML) carries its own text alternatives, and has no image here
                "widget": any(
                    raw.get("format") == "html" and not _in_unselected_mime(raw) for raw in figure.findall(nodes.raw)
                ),
                "line": figure.line,
            }
        )
    figures[env.docname] = found
    numrefs[env.docname] = sorted(
        {n["reftarget"] for n in doctree.findall(addnodes.pending_xref) if n.get("reftype") == "numref"}
    )


def _in_unselected_mime(node) -> bool:
    """A glued figure's bundle also holds its text/plain rendering; only the container of the image (or of a
    widget's HTML) counts."""
    parent = node.parent
    if not isinstance(parent, nodes.container):
        return False
    if isinstance(node, nodes.image):
        return parent.get("mime_type", "image/").split("/")[0] != "image"
    return parent.get("mime_type", "text/html") != "text/html"


def purge(app, env, docname) -> None:
    for name in ("thesis_figures", "thesis_numrefs"):
        getattr(env, name, {}).pop(docname, None)


def merge(app, env, docnames, other) -> None:
    for name in ("thesis_figures", "thesis_numrefs"):
        mine = env.__dict__.setdefault(name, {})
        mine.update({d: v for d, v in getattr(other, name, {}).items() if d in docnames})


def check(app, env) -> None:
    """A figure without a name, caption or alt text, or that no page refers to, is a warning."""
    referred = {target.lower() for targets in getattr(env, "thesis_numrefs", {}).values() for target in targets}
    for docname, figures in sorted(getattr(env, "thesis_figures", {}).items()):
        for fig in figures:
            where = (docname, fig["line"])
            name = fig["ids"][0] if fig["ids"] else None
            problems = []
            if not name:
                problems.append("has no name (add :name: fig-...) so the text cannot refer to it")
            if not fig["caption"]:
                problems.append("has no caption")
            if (not fig["alts"] and not fig["widget"]) or not all(a.strip() for a in fig["alts"]):
                problems.append("has an image without alternative text (add :alt: ...)")
            if name and name.lower() not in referred:
                problems.append(f"is never referred to by number (write {{numref}}`{name}` in the text)")
            for problem in problems:
                LOGGER.warning(f"figure {name or '(unnamed)'} {problem}", location=where, type="thesis_figures")


def setup(app):
    _patch_glue_figure()
    app.connect("config-inited", translate_numfig_format, priority=900)
    app.connect("doctree-read", collect)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-check-consistency", check)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
