"""The book's translated editions (loaded through ``sphinx.local_extensions`` in ``_config.yml``).

The Slovene edition is built from the same sources by Sphinx's translation workflow
(``scripts/build_book.py``: ``language = "sl"``, the catalogues in ``locales/sl/LC_MESSAGES/``).
This extension does these things for it:

* **Executed notebooks, no execution.** With ``thesis_executed_notebooks`` set (the English
  build's ``_build/jupyter_execute``), myst-nb reads each chapter from the executed copy there
  instead of from ``book/`` (whose notebooks hold no outputs), with execution off: the translated
  pages show the English build's outputs, and nothing is executed or trained again. The executed
  notebook holds the source's cells (myst-nb writes it after executing them, moving the glued
  outputs into ``<page>.glue.json``, which is read back here), so the catalogues extracted from
  ``book/`` match it.
* **Glued values in translated sentences.** Sphinx parses each translated paragraph as a small
  document of its own, in which myst-nb's ``{glue}`` roles would not find the notebook's glued
  outputs; they are looked up in the page's notebook instead. Numbers are glued as they are;
  glued *words* (``{glue:md}`` values such as "second best", or a glued string) are translated
  by the table ``locales/<lang>/glued_values.json``, and a word missing there fails the build
  (a warning under ``-W``).
* **The strings outside the pages**: the book's title and author line and the TOC's captions,
  from the same catalogues (the author line from ``labels.po``, see ``_ext/thesis_labels.py``).
* **No translation dropped silently.** Sphinx keeps the English of a message whose translation
  does not parse as one paragraph (a msgstr "2. korak: ..." is a numbered list in Markdown) and
  says nothing; here that is a warning naming the message (an error under ``-W``), and the
  Slovene build marks every node left in English with the class ``untranslated``
  (``translation_progress_classes``, set by ``scripts/build_book.py``), which
  ``tests/test_slovene_pages.py`` looks for on the built pages.
* **The language switch.** Every page (in every edition) gets a small link to the same page in
  the other language. The link is relative (``sl/book/ae.html`` from the English page,
  ``../book/ae.html`` back), so it also works from ``file://``.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from html import escape
from pathlib import Path

from sphinx import addnodes
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

# the editions: language code -> (its name in its own language, the folder of its HTML under the English one)
EDITIONS = {"en": ("English", ""), "sl": ("Slovenščina", "sl/")}
_RENDERERS: dict[str, object] = {}  # docname -> the nb_renderer of the notebook being read
_CURRENT: list[str] = []  # the docname of the notebook being parsed
_PENDING_GLUE: dict[str, dict] = {}  # the glued outputs of the executed notebook being read


def _patch_myst_nb() -> None:
    import myst_nb.core.execute.base as nb_execute
    import myst_nb.ext.glue.roles as glue_roles
    import myst_nb.sphinx_ as nb_sphinx
    import nbformat

    if getattr(nb_sphinx.Parser.parse, "_thesis_i18n", False):
        return
    original_parse = nb_sphinx.Parser.parse

    def parse(self, inputstring, document):
        env = getattr(document.settings, "env", None) or self.env
        translated = document.current_source.endswith("<translated>")
        executed_dir = env.config.thesis_executed_notebooks
        if executed_dir and not translated and env.doc2path(env.docname).endswith(".ipynb"):
            executed = Path(executed_dir) / f"{env.docname}.ipynb"
            if not executed.exists():
                raise FileNotFoundError(f"{executed} missing: build the English edition first (scripts/build_book.py)")
            inputstring = with_current_markdown(executed.read_text(encoding="utf-8"), Path(env.doc2path(env.docname)))
            env.note_dependency(str(executed))  # a new English build re-renders the page
            # myst-nb moved the glued outputs out of the executed notebook, into <page>.glue.json
            glue = executed.with_suffix(".glue.json")
            _PENDING_GLUE.clear()
            if glue.exists():
                env.note_dependency(str(glue))
                _PENDING_GLUE.update(
                    {k: nbformat.from_dict(v) for k, v in json.loads(glue.read_text(encoding="utf-8")).items()}
                )
        if not translated:
            _RENDERERS.pop(env.docname, None)
            if env.config.language not in (None, "en"):  # only a translation looks glue up later
                _CURRENT[:] = [env.docname]
        try:
            original_parse(self, inputstring, document)
        finally:
            _PENDING_GLUE.clear()
            _CURRENT.clear()

    parse._thesis_i18n = True
    original_load_renderer = nb_sphinx.load_renderer

    def load_renderer(name):
        cls = original_load_renderer(name)

        def create(*args, **kwargs):  # myst-nb pops it from the document after parsing: keep it
            renderer = cls(*args, **kwargs)
            if _CURRENT:
                _RENDERERS[_CURRENT[0]] = renderer
            return renderer

        return create

    nb_sphinx.load_renderer = load_renderer
    nb_sphinx.Parser.parse = parse

    original_extract = nb_execute.extract_glue_data

    def extract_glue_data(*args, **kwargs):
        return {**_PENDING_GLUE, **original_extract(*args, **kwargs)}

    nb_execute.extract_glue_data = extract_glue_data

    original_retrieve = glue_roles.retrieve_glue_data

    def retrieve_glue_data(document, key):
        env = getattr(document.settings, "env", None)
        renderer = _RENDERERS.get(env.docname) if env is not None else None
        if "nb_renderer" in document or renderer is None:
            return original_retrieve(document, key)
        # a translated paragraph: the page's notebook has the data (lent for the look-up only,
        # since the document must stay picklable)
        document["nb_renderer"] = renderer
        try:
            result = original_retrieve(document, key)
        finally:
            del document["nb_renderer"]
        # words glued into a sentence (not numbers): in the sentence's language
        data = dict(result.data)
        if "text/markdown" in data:
            data["text/markdown"] = translate_glued(env.app, key, data["text/markdown"])
        elif "text/plain" in data:
            try:
                value = ast.literal_eval(data["text/plain"])
            except (ValueError, SyntaxError):
                value = None
            if isinstance(value, str) and re.search(r"[A-Za-z]", value):
                data["text/plain"] = repr(translate_glued(env.app, key, value))
        return dataclasses.replace(result, data=data)

    glue_roles.retrieve_glue_data = retrieve_glue_data


def with_current_markdown(executed: str, source: Path) -> str:
    """The executed notebook with the source's Markdown cells: myst-nb rewrites its executed copy only
    when it executes, so after a change to the prose alone (its code, and so its cached outputs,
    unchanged) the copy still holds the old sentences, which the catalogue no longer translates."""
    nb, src = json.loads(executed), json.loads(source.read_text(encoding="utf-8"))
    text = lambda cell: (
        "".join(cell.get("source", "")) if isinstance(cell.get("source"), list) else cell.get("source", "")
    )
    cells, current = nb.get("cells", []), src.get("cells", [])
    same_code = len(cells) == len(current) and all(
        a.get("cell_type") == b.get("cell_type") and (a.get("cell_type") != "code" or text(a) == text(b))
        for a, b in zip(cells, current)
    )
    if not same_code:  # the English build executes a notebook whose code changed: its copy is current
        return executed
    for a, b in zip(cells, current):
        if a.get("cell_type") == "markdown":
            a["source"] = b.get("source", "")
    return json.dumps(nb)


def glued_table(app) -> dict:
    """``locales/<lang>/glued_values.json``: the edition's words for glued Markdown values."""
    language = app.config.language
    path = Path(app.srcdir) / "locales" / language / "glued_values.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def translate_glued(app, key: str, value: str) -> str:
    """A glued Markdown value (``{glue:md}``) as the translated sentence around it needs it."""
    table = glued_table(app)
    text = value.strip()
    if text in table.get("values", {}):
        return table["values"][text]
    for rule in table.get("rules", []):
        if re.fullmatch(rule["match"], text):
            for pattern, replacement in rule["sub"]:
                text = re.sub(pattern, replacement, text)
            return text
    LOGGER.warning(
        (
            f"glued value {key!r} = {value!r} has no {app.config.language} translation in "
            f"locales/{app.config.language}/glued_values.json"
        ),
        type="thesis_i18n",
    )
    return value


def _translations(app) -> dict[str, str]:
    """Every msgid -> msgstr of the edition's catalogues (for the few strings outside the pages)."""
    from babel.messages.pofile import read_po

    found: dict[str, str] = {}
    for po in sorted((Path(app.srcdir) / "locales" / app.config.language / "LC_MESSAGES").rglob("*.po")):
        with open(po, "rb") as f:
            found.update({m.id: m.string for m in read_po(f) if m.id and m.string and not m.fuzzy and not m.context})
    return found


def translate_title(app, config) -> None:
    """The book's title (sidebar, browser tab) as the root page's heading translates it, and its author line."""
    if config.language in (None, "en"):
        return
    translations = _translations(app)
    for name in ("html_title", "project", "author"):
        value = getattr(config, name, None)
        if value in translations:
            setattr(config, name, translations[value])


class TableCellsTranslatable(SphinxTransform):
    """MyST gives the paragraphs of table cells no ``source``, and Sphinx's i18n skips such text as
    built-in (``sphinx.util.nodes.is_translatable``), so tables would stay English and never
    reach the catalogues. Give them their page's source before the translation transform (20)."""

    default_priority = 10

    def apply(self, **kwargs) -> None:
        from docutils import nodes

        source = self.document.get("source") or str(self.env.doc2path(self.env.docname))
        for table in self.document.findall(nodes.table):
            for paragraph in table.findall(nodes.paragraph):
                if not paragraph.source:
                    paragraph.source, paragraph.line = table.source or source, table.line or 0


class TranslateToctreeCaptions(SphinxTransform):
    """The TOC's part captions ("Chapters"), which sphinx-external-toc inserts after Sphinx's
    translation transform has run (priority 100 > 20), from the page's catalogue."""

    default_priority = 110

    def apply(self, **kwargs) -> None:
        if self.config.language in (None, "en"):
            return
        from sphinx.locale import init as init_locale
        from sphinx.util.i18n import docname_to_domain

        dirs = [str(Path(self.env.srcdir) / d) for d in self.config.locale_dirs]
        catalog, has_catalog = init_locale(
            dirs, self.config.language, docname_to_domain(self.env.docname, self.config.gettext_compact)
        )
        if not has_catalog:
            return
        for node in self.document.findall(addnodes.toctree):
            if node.get("caption"):
                node["caption"] = node["rawcaption"] = catalog.gettext(node["caption"])


def _catalogue(env, config) -> dict[str, str]:
    """The page's catalogue as Sphinx's ``Locale`` transform merges it (msgid -> msgstr)."""
    from sphinx.locale import init as init_locale
    from sphinx.util.i18n import docname_to_domain

    dirs = [str(Path(env.srcdir) / d) for d in config.locale_dirs]
    catalog, has_catalog = init_locale(dirs, config.language, docname_to_domain(env.docname, config.gettext_compact))
    merged: dict[str, str] = {}
    while has_catalog and catalog is not None:
        merged = {**getattr(catalog, "_catalog", {}), **merged}
        catalog = getattr(catalog, "_fallback", None)
    return {k: v for k, v in merged.items() if isinstance(k, str)}


def why_dropped(msgstr: str) -> str:
    """What in a msgstr makes Markdown read it as something other than one paragraph."""
    if re.match(r"\s*\d+[.)](\s|$)", msgstr):
        return "it begins with a number and a dot, a numbered list in Markdown: write '2\\. korak' or 'Korak 2'"
    if re.match(r"\s*([-*+](\s|$)|#|>|\||(\s{4}))", msgstr):
        return "it begins like a list, a heading, a quote, a table or code in Markdown"
    return "it does not parse as one paragraph"


class ReportDroppedTranslations(SphinxTransform):
    """Right after Sphinx's translation (priority 20): every message whose catalogue has a different
    translation but whose node was left as it was is a warning. Sphinx drops such a translation
    silently when its msgstr does not parse as a paragraph (``sphinx.transforms.i18n.Locale``)."""

    default_priority = 21

    def apply(self, **kwargs) -> None:
        if self.config.language in (None, "en"):
            return
        from sphinx.util.nodes import extract_messages

        catalogue = None
        for node, msg in extract_messages(self.document):
            if node.get("translated"):
                continue
            catalogue = _catalogue(self.env, self.config) if catalogue is None else catalogue
            msgstr = catalogue.get(msg, "")
            if msgstr.strip() and msgstr != msg:
                LOGGER.warning(
                    f"translation not applied, the page keeps the English {msg[:70]!r}: {why_dropped(msgstr)}",
                    location=node,
                    type="thesis_i18n",
                    subtype="dropped",
                )


class MarkTranslatedImages(SphinxTransform):
    """Sphinx translates an image's alternative text but leaves the image marked as untranslated
    (its ``Locale`` transform sets ``translated`` for every other kind of node), so that
    ``translation_progress_classes`` would call every translated figure untranslated."""

    default_priority = 21

    def apply(self, **kwargs) -> None:
        if self.config.language in (None, "en"):
            return
        from docutils import nodes

        translations = None
        for image in self.document.findall(nodes.image):
            if image.get("translated") is False and image.get("alt"):
                translations = set(_catalogue(self.env, self.config).values()) if translations is None else translations
                if image["alt"] in translations:
                    image["translated"] = True


def separate_output_folder(app) -> None:
    """An edition built from the executed notebooks (a translation, or the English HTML re-rendered:
    ``scripts/build_book.py html``) writes its notebook outputs beside the English build's, neither
    into its HTML nor over the executed notebooks it reads."""
    config = getattr(app.env, "mystnb_config", None)
    if config is not None and (app.config.language not in (None, "en") or app.config.thesis_executed_notebooks):
        html = Path(app.outdir)
        build = html.parents[1] if app.config.language not in (None, "en") else html.parent
        folder = build / f"jupyter_execute-{app.config.language or 'en'}"
        app.env.mystnb_config = config.copy(output_folder=str(folder.resolve()))


def language_switch(pagename: str, language: str) -> str:
    """The link from ``pagename`` in ``language`` to the same page in the other edition."""
    up = "../" * pagename.count("/")
    if language == "en":
        other = "sl"
        href = f"{up}{EDITIONS[other][1]}{pagename}.html"
    else:
        other = "en"
        href = f"{up}../{pagename}.html"
    name = EDITIONS[other][0]
    return (
        f'<p class="tl-lang-switch d-print-none" style="text-align:right;margin:0 0 .5em;font-size:.9em">'
        f'<a class="tl-lang-link" href="{escape(href)}" hreflang="{other}" lang="{other}">{escape(name)}</a></p>\n'
    )


def add_language_switch(app, pagename, templatename, context, doctree) -> None:
    if doctree is None or "body" not in context:
        return
    language = app.config.language or "en"
    if language not in EDITIONS:
        return
    context["body"] = language_switch(pagename, language) + context["body"]


MYST_NB_VERSION = "1.4.0"
"""The myst-nb whose internals :func:`_patch_myst_nb` replaces (requirements.txt pins it; a test checks)."""


def check_myst_nb(version: str) -> None:
    """Refuse another myst-nb than the one this extension's patches were written for, in one sentence."""
    if version != MYST_NB_VERSION:
        from sphinx.errors import ExtensionError

        raise ExtensionError(
            f"_ext/thesis_i18n.py replaces internals of myst-nb {MYST_NB_VERSION} (Parser.parse, load_renderer, "
            f"the glue functions) and myst-nb {version} is installed: check _patch_myst_nb against it, then "
            "update MYST_NB_VERSION and the pin in requirements.txt"
        )


def setup(app):
    import myst_nb

    check_myst_nb(myst_nb.__version__)
    app.add_config_value("thesis_executed_notebooks", "", "env")
    _patch_myst_nb()
    app.connect("config-inited", translate_title, priority=900)
    app.add_transform(TableCellsTranslatable)
    app.add_transform(TranslateToctreeCaptions)
    app.add_transform(ReportDroppedTranslations)
    app.add_transform(MarkTranslatedImages)
    app.connect("builder-inited", separate_output_folder, priority=900)
    app.connect("html-page-context", add_language_switch)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
