"""What the book's extensions print, in the edition's language (loaded through ``sphinx.local_extensions``).

sphinx-exercise and sphinx-proof print their own words: "Exercise 3", "Solution to Exercise 3",
"Algorithm 2", and the same in references ("{ref}`ae-ex-gaussian`" renders "Exercise 3"). They
look them up in their gettext domains (``exercise``, ``proof``), which have no Slovene. The
edition's words are in ``locales/<lang>/LC_MESSAGES/labels.po`` (one small catalogue, maintained
like the pages' ones), and this extension registers it for those domains and for the book's own
strings (domain ``thesis``: the download button, the author line, the PDF's cover and contents).

It also does what the extensions leave out for a translation:

* **Exercise titles are translatable.** The directive's argument (``{exercise} Why a plain
  autoencoder is a poor generator``) becomes a subtitle without a source, which Sphinx's gettext
  skips as "built in". Here it keeps its source, so it is extracted into the page's catalogue and
  translated like a sentence; the exercise registry (from which the solutions copy their titles)
  is refreshed with the translated exercise.
* **"Solution to Exercise 3" in the sentence's case.** The solution's title is the words
  "Solution to" and the exercise's label; Slovene needs the label's genitive (*Rešitev vaje 3*):
  ``msgctxt "solution title"`` of ``Exercise`` gives it.
* **Numbered references inside a sentence.** ``{prf:ref}`algoritma %s <label>``` (an explicit
  title with ``%s``) prints the algorithm's number in the title, as Sphinx's ``{numref}`` does
  (``{numref}`vaje %s <label>``` works for exercises as it is): a translation can inflect the
  word ("iz algoritma 1", "v vaji 3").
"""

from __future__ import annotations

import gettext
import io
from pathlib import Path

from docutils import nodes
from sphinx import addnodes, locale
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
DOMAINS = ("exercise", "proof", "thesis")  # the extensions' gettext domains, and the book's own
SOLUTION_CONTEXT = "solution title"  # msgctxt of the exercise's word inside a solution's title


def labels_catalogue(srcdir: str | Path, language: str | None) -> Path | None:
    """``locales/<language>/LC_MESSAGES/labels.po``, if the edition has one."""
    if language in (None, "en"):
        return None
    path = Path(srcdir) / "locales" / language / "LC_MESSAGES" / "labels.po"
    return path if path.exists() else None


def load_labels(path: Path) -> gettext.GNUTranslations:
    """The catalogue as Python's gettext reads it (compiled in memory with Babel; fuzzy entries left out)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(path, "rb") as f:
        catalogue = read_po(f)
    buffer = io.BytesIO()
    write_mo(buffer, catalogue, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class _Labels(gettext.NullTranslations):
    """The edition's labels first, then whatever the extension ships (not Sphinx's "no catalogue" marker class)."""


def register_labels(app, config) -> None:
    """Put the labels in front of the extensions' own catalogues (before their ``config-inited`` handlers use them)."""
    path = labels_catalogue(app.srcdir, config.language)
    if path is None:
        return
    labels = load_labels(path)
    for domain in DOMAINS:
        translator = _Labels()
        translator.add_fallback(labels)
        previous = locale.translators.get(("general", domain))
        if previous is not None and previous.__class__ is not gettext.NullTranslations:
            translator.add_fallback(previous)
        locale.translators["general", domain] = translator


def translated(domain: str, message: str, context: str | None = None) -> str:
    """``message`` in the edition's language (itself where the catalogue has none)."""
    translator = locale.translators.get(("general", domain))
    if translator is None:
        return message
    return translator.pgettext(context, message) if context else translator.gettext(message)


def _translatable_subtitles() -> None:
    """Wrap the exercise directive's subtitle (its argument) in a translatable inline with a source and raw
    text. (An inline, not the subtitle: sphinx-exercise's post-transform moves the subtitle's children into
    the exercise's title before the gettext builder extracts the messages.)"""
    from sphinx_exercise import directive as exercise_directive
    from sphinx_exercise.nodes import exercise_subtitle

    for cls in (exercise_directive.ExerciseDirective, exercise_directive.ExerciseStartDirective):
        run = cls.run
        if getattr(run, "_thesis_labels", False):
            continue

        def patched(self, _run=run):
            result = _run(self)
            if self.arguments:
                source, line = self.state_machine.get_source_and_line(self.lineno)
                for node in result:
                    for subtitle in node.findall(exercise_subtitle):
                        wrapper = nodes.inline(self.arguments[0], "", *subtitle.children, translatable=True)
                        wrapper.source, wrapper.line = source, line
                        subtitle.children = []
                        subtitle += wrapper
            return result

        patched._thesis_labels = True
        cls.run = patched


class RefreshExerciseRegistry(SphinxTransform):
    """After Sphinx's translation (priority 20): the registry's copy of each exercise (from which the
    solutions take the exercise's title) is the translated exercise."""

    default_priority = 22

    def apply(self, **kwargs) -> None:
        from sphinx_exercise.nodes import is_exercise_node

        registry = getattr(self.env, "sphinx_exercise_registry", None)
        if self.config.language in (None, "en") or registry is None:
            return
        for node in self.document.findall(is_exercise_node):
            entry = registry.get(node.get("label"))
            if entry is not None and entry.get("docname") == self.env.docname:
                entry["node"] = node.deepcopy()


class SolutionTitleCase(SphinxPostTransform):
    """ "Rešitev vaje 3": the exercise's word in a solution's title, in the case the catalogue gives it
    (``msgctxt "solution title"``), after sphinx-exercise has built the title (its priority 21)."""

    default_priority = 23

    def run(self, **kwargs) -> None:
        from sphinx_exercise.nodes import solution_node

        word = translated("exercise", "Exercise")
        inflected = translated("exercise", "Exercise", SOLUTION_CONTEXT)
        if inflected in (word, "Exercise"):
            return
        for solution in self.document.findall(solution_node):
            reference = solution.children[0].next_node(nodes.reference) if solution.children else None
            if reference is None or not reference.children or not isinstance(reference.children[0], nodes.Text):
                continue
            text = str(reference.children[0])
            if text.lstrip().startswith(word):
                reference.replace(reference.children[0], nodes.Text(text.replace(word, inflected, 1)))


class NumberedProofTitles(SphinxPostTransform):
    """``{prf:ref}`algoritma %s <label>```: the number of the algorithm where the title says ``%s``
    (sphinx-proof numbers only references without a title). Before the references are resolved (10)."""

    default_priority = 9

    def run(self, **kwargs) -> None:
        proofs = getattr(self.env, "proof_list", {})
        for xref in list(self.document.findall(addnodes.pending_xref)):
            if xref.get("refdomain") != "prf" or not xref.get("refexplicit") or "%s" not in xref.astext():
                continue
            target = xref["reftarget"]
            match = proofs.get(target)
            if match is None:
                continue  # sphinx-proof warns about the unknown label
            try:
                number = ".".join(map(str, self.env.toc_fignumbers[match["docname"]][match["countertype"]][target]))
            except KeyError:
                LOGGER.warning(
                    f"{target!r} has no number for '%s' in its reference's title", location=xref, type="thesis_labels"
                )
                continue
            for text in list(xref.findall(nodes.Text)):
                if "%s" in text:
                    text.parent.replace(text, nodes.Text(str(text).replace("%s", number)))


def setup(app):
    _translatable_subtitles()
    app.connect("config-inited", register_labels, priority=100)  # before sphinx-exercise's init_numfig (500)
    app.add_transform(RefreshExerciseRegistry)
    app.add_post_transform(SolutionTitleCase)
    app.add_post_transform(NumberedProofTitles)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
