"""Glued numbers as the edition's language writes them (loaded through ``sphinx.local_extensions``).

The notebooks glue numbers (``glue("ae_nll", 122.4)``) and the prose pastes them with a Python
format spec (``{glue:text}`ae_nll:.1f```). In a translated edition (``language`` other than
English) this extension renders them with **Babel** (CLDR data) for that language: Slovene writes
``122,4``, ``64 %`` (a no-break space before the sign), ``10.000`` and ``−3.014``. Python decides
the digits, exactly as in the English edition (the spec's precision and rounding); Babel only
writes them (decimal sign, grouping, percent pattern, minus and plus signs).

Nouns and verbs that depend on a glued number are chosen by the number's CLDR plural category
(Slovene has four: one, two, few, other) with two roles of the ``glue`` domain:

* ``{glue:plural}`n_epochs:.0f|epoha|epohi|epohe|epoh``` prints the number and the form of its
  category, joined by a no-break space: "1 epoha", "2 epohi", "4 epohe", "5 epoh", "101 epoha".
  The forms are in CLDR's order of the language's categories (Slovene: one|two|few|other). A
  number printed with decimals takes one more form, the last (Slovene: the genitive singular,
  "2,5 nata", "0,5 epohe"); without it such a number is an error.
* ``{glue:word}`n_epochs:.0f|je dala|sta dali|so dale|je dalo``` prints only the form (a verb or
  an adjective that agrees with the number elsewhere in the sentence).

Both take the same key and spec as ``{glue:text}`` and print the same digits. See
``locales/README.md``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from docutils import nodes
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
NBSP = "\u00a0"
CLDR_ORDER = ("zero", "one", "two", "few", "many", "other")
_LANGUAGE: list[str] = ["en"]  # the language of the edition being built (one Sphinx application at a time)
# the format specs of the prose: [sign][,|_][.precision][type]
SPEC = re.compile(r"(?P<sign>[+\- ]?)(?P<group>[,_]?)(?:\.(?P<precision>\d+))?(?P<type>[dfFeEgGn%s]?)")


def is_english(language: str | None) -> bool:
    return (language or "en").split("_")[0].split("-")[0] == "en"


def python_text(value, spec: str) -> str:
    """``format(value, spec)`` as the English edition prints it, without grouping: Python decides the digits."""
    m = SPEC.fullmatch(spec)
    if m is None:
        raise ValueError(f"format spec {spec!r} is not one the edition can localise: use [+][,][.N](d|f|e|g|n|%|s)")
    kind = {"n": "g", "s": ""}.get(m["type"], m["type"])
    precision = f".{m['precision']}" if m["precision"] is not None else ""
    if kind == "d":
        value = int(value)
    elif kind:
        value = float(value)
    return format(value, f"{precision}{kind}")


def localise(value, spec: str, language: str) -> tuple[str, Decimal]:
    """``value`` formatted by ``spec`` as ``language`` writes numbers (Babel), and the number it shows.

    The digits are Python's (:func:`python_text`); Babel writes them with the locale's decimal sign,
    grouping, percent pattern and plus sign. Babel leaves a pattern's ``-`` as it is, where CLDR means the
    locale's minus sign, so that sign is put in here.

    >>> localise(0.6431, ".0%", "sl")[0], localise(10000.04, ".1f", "sl")[0], localise(-3014, "", "sl")[0]
    ('64\\xa0%', '10.000,0', '−3.014')
    """
    from babel import Locale
    from babel import numbers as babel_numbers

    locale = Locale.parse(language)
    m = SPEC.fullmatch(spec)
    text = python_text(value, spec)
    negative, digits = text.startswith("-"), text.lstrip("-").removesuffix("%")
    if "e" in digits.lower():  # scientific notation: the mantissa's digits as Python chose them
        mantissa, exponent = digits.lower().split("e")
        shown = Decimal(mantissa).scaleb(int(exponent))
        frac = len(mantissa.partition(".")[2])
        pattern = babel_numbers.parse_pattern("0" + ("." + "0" * frac if frac else "") + "E0")
    else:
        shown = Decimal(digits)
        frac = len(digits.partition(".")[2])
        base = locale.percent_formats[None] if m["type"] == "%" else locale.decimal_formats[None]
        pattern = babel_numbers.parse_pattern(base.pattern)
        pattern.frac_prec = (frac, frac)
    out = pattern.apply(shown.scaleb(-2) if m["type"] == "%" else shown, locale)  # a percent pattern scales by 100
    if negative:
        out = babel_numbers.get_minus_sign_symbol(locale) + out
    elif m["sign"] == "+":
        out = babel_numbers.get_plus_sign_symbol(locale) + out
    elif m["sign"] == " ":
        out = " " + out
    return out, shown


def plural_category(shown: Decimal, language: str) -> str:
    """CLDR's plural category of the number as shown (``Decimal("2.0")`` has a visible decimal: not "two")."""
    from babel import Locale

    return Locale.parse(language).plural_form(shown)


def choose_form(shown: Decimal, forms: list[str], language: str) -> str:
    """The word of ``forms`` (CLDR's categories of ``language`` in order, then the form after decimals) for
    ``shown``."""
    from babel import Locale

    tags = [t for t in CLDR_ORDER if t in Locale.parse(language).plural_form.tags or t == "other"]
    if len(forms) not in (len(tags), len(tags) + 1):
        raise ValueError(
            f"{len(forms)} forms given; {language} needs {len(tags)} ({'|'.join(tags)}), "
            f"and one more for a number shown with decimals"
        )
    has_decimals = shown.as_tuple().exponent < 0
    if has_decimals and not is_english(language):
        if len(forms) == len(tags):
            raise ValueError(
                f"the number is shown with decimals ({shown}): give a last form for it "
                f"({'|'.join(tags)}|decimal; in Slovene the genitive singular)"
            )
        return forms[-1]
    return forms[tags.index(plural_category(shown, language))]


def _number(value_text: str):
    from ast import literal_eval

    try:
        value = literal_eval(value_text)
    except (ValueError, SyntaxError):
        return value_text
    return value


def _localised_format_plain_text(original):
    def format_plain_text(text: str, fmt_spec: str) -> str:
        value = _number(text)
        if is_english(_LANGUAGE[0]) or isinstance(value, bool) or not isinstance(value, (int, float)):
            return original(text, fmt_spec)
        return localise(value, fmt_spec if fmt_spec != "s" else "", _LANGUAGE[0])[0]

    format_plain_text._thesis_numbers = True
    return format_plain_text


def _role(with_number: bool):
    from myst_nb.core.variables import RetrievalError
    from myst_nb.ext.glue import roles as glue_roles
    from myst_nb.ext.glue.utils import glue_warning
    from myst_nb.ext.utils import RoleBase

    class PluralRole(RoleBase):
        """``{glue:plural}`key:spec|form|form|...``` (``with_number``) or ``{glue:word}`...```."""

        def run(self):
            head, _, rest = self.text.partition("|")
            forms = [f.strip() for f in rest.split("|")] if rest else []
            key, _, spec = head.strip().partition(":")
            role = "glue:plural" if with_number else "glue:word"
            try:
                result = glue_roles.retrieve_glue_data(self.document, key)  # thesis_i18n finds the page's data
                value = _number(result.data.get("text/plain", ""))
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError(f"{key!r} is not a number ({value!r})")
                language = _LANGUAGE[0]
                if is_english(language):
                    shown_text = format(value, spec or "")
                    shown = Decimal(python_text(value, spec or "").lstrip("-").removesuffix("%"))
                else:
                    shown_text, shown = localise(value, spec or "", language)
                word = choose_form(shown, forms, language)
            except (RetrievalError, ValueError, InvalidOperation) as exc:
                return [], [glue_warning(f"{{{role}}}`{self.text}`: {exc}", self.document, self.line)]
            text = f"{shown_text}{NBSP}{word}" if with_number else word
            node = nodes.inline(text, text, classes=["pasted-text"])
            self.set_source_info(node)
            return [node], []

    return PluralRole()


def remember_language(app, config) -> None:
    _LANGUAGE[0] = config.language or "en"


def setup(app):
    from myst_nb.ext.glue import roles as glue_roles

    if not getattr(glue_roles.format_plain_text, "_thesis_numbers", False):
        glue_roles.format_plain_text = _localised_format_plain_text(glue_roles.format_plain_text)
    app.connect("config-inited", remember_language)
    app.add_role_to_domain("glue", "plural", _role(with_number=True))
    app.add_role_to_domain("glue", "word", _role(with_number=False))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
