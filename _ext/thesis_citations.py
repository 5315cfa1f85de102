"""Citations in the edition's language (loaded through ``sphinx.local_extensions`` in ``_config.yml``).

sphinxcontrib-bibtex's ``author_year`` style writes "Kingma and Welling [2013]" and "Goodfellow
et al. [2014]", and pybtex's ``plain`` style, which formats the bibliography, writes "and",
"In … editors", "pages", "volume". For a Slovene edition (``language = "sl"``) this registers
the same styles with Slovene words and selects them:

* references (``{cite:t}``, ``{cite:p}``): ``author_year_sl``, "Kingma in Welling [2013]",
  "Goodfellow in sod. [2014]" (*in sodelavci*; the names are not inflected, so a translation
  puts a citation where the nominative fits: "v članku {cite:t}`…`", "kot so pokazali {cite:t}`…`");
* the bibliography: ``plain_sl``, "Diederik P. Kingma in Max Welling", "V: … (ur.), …, str.
  2672–2680", "letnik 37". The titles stay as published.

The English edition keeps the styles that ``_config.yml`` names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pybtex.richtext import Text
from pybtex.style.formatting import toplevel
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.formatting.unsrt import date, pages
from pybtex.style.template import field as bib_field
from pybtex.style.template import first_of, join, names, optional, optional_field, sentence, tag, together, words
from sphinxcontrib.bibtex.style.referencing import PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

# the words of a Slovene citation: between two authors, before the last of several, for "et al."
AND, ET_AL = " in ", " in sod."
STYLES = {"sl": {"author_year": "author_year_sl", "plain": "plain_sl"}}
"""For each edition: the English style's name -> the edition's style (registered below)."""


def _slovene_persons() -> PersonStyle:
    return PersonStyle(sep2=AND, last_sep=AND, other=Text(ET_AL))


@dataclass
class SloveneAuthorYearStyle(AuthorYearReferenceStyle):
    """``author_year`` with "in" and "in sod." (the brackets and the year as in the English edition)."""

    person: PersonStyle = field(default_factory=_slovene_persons)


class SlovenePlainStyle(PlainStyle):
    """pybtex's ``plain`` with the Slovene words of a bibliography entry (the fields as they are)."""

    def format_names(self, role, as_sentence=True):
        formatted = names(role, sep=", ", sep2=AND, last_sep=AND)
        return sentence[formatted] if as_sentence else formatted

    def format_editor(self, e, as_sentence=True):
        editors = self.format_names("editor", as_sentence=False)
        if "editor" not in e.persons:
            return editors
        result = join(sep=" ")[editors, "(ur.)"]
        return sentence[result] if as_sentence else result

    def get_article_template(self, e):
        volume_and_pages = first_of[
            optional[join[bib_field("volume"), optional["(", bib_field("number"), ")"], ":", pages]],
            words["str.", pages],
        ]
        return toplevel[
            self.format_names("author"),
            self.format_title(e, "title"),
            sentence[tag("em")[bib_field("journal")], optional[volume_and_pages], date],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]

    def format_volume_and_series(self, e, as_sentence=True):
        volume_and_series = optional[
            words[
                together["Letnik" if as_sentence else "letnik", bib_field("volume")],
                optional[words["iz zbirke", bib_field("series")]],
            ]
        ]
        number_and_series = optional[
            words[
                together["Številka" if as_sentence else "številka", bib_field("number")],
                optional[words["v zbirki", bib_field("series")]],
            ]
        ]
        result = first_of[volume_and_series, number_and_series, optional_field("series")]
        return sentence(capfirst=True)[result] if as_sentence else result

    def format_chapter_and_pages(self, e):
        return join(sep=", ")[optional[together["poglavje", bib_field("chapter")]], optional[together["str.", pages]]]

    def format_edition(self, e):
        return optional[words[bib_field("edition", apply_func=lambda x: x.lower()), "izdaja"]]

    def _in(self, e, extra):
        return words[
            "V:",
            sentence[
                optional[self.format_editor(e, as_sentence=False)],
                self.format_btitle(e, "booktitle", as_sentence=False),
                self.format_volume_and_series(e, as_sentence=False),
                extra,
            ],
        ]

    def get_inproceedings_template(self, e):
        return toplevel[
            sentence[self.format_names("author")],
            self.format_title(e, "title"),
            words[self._in(e, optional[together["str.", pages]]), self.format_address_organization_publisher_date(e)],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]

    def get_incollection_template(self, e):
        return toplevel[
            sentence[self.format_names("author")],
            self.format_title(e, "title"),
            self._in(e, self.format_chapter_and_pages(e)),
            sentence[optional_field("publisher"), optional_field("address"), self.format_edition(e), date],
            self.format_web_refs(e),
        ]


def register_styles() -> None:
    import pybtex.plugin
    from sphinxcontrib.bibtex.plugin import register_plugin

    register_plugin("sphinxcontrib.bibtex.style.referencing", "author_year_sl", SloveneAuthorYearStyle, force=True)
    pybtex.plugin.register_plugin("pybtex.style.formatting", "plain_sl", SlovenePlainStyle, force=True)


def select_styles(app, config) -> None:
    """In a translated edition, the edition's versions of the styles that ``_config.yml`` names."""
    styles = STYLES.get(config.language or "en", {})
    for name in ("bibtex_reference_style", "bibtex_default_style"):
        value = getattr(config, name, None)
        if value in styles:
            setattr(config, name, styles[value])


def setup(app):
    register_styles()
    app.connect("config-inited", select_styles, priority=800)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
