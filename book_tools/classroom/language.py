"""The classroom edition in a language of the book: the chapters translated by the book's own
tooling, and the few texts the edition writes itself.

The chapters are translated by ``scripts/notebook_i18n.py`` of the book given with ``--book``
(from its gettext catalogues, ``locales/<lang>/``), loaded from there: translating is book
tooling, which needs the book's catalogues and toolchain (myst-parser, Babel) and never ships in
the installed library. English (``en``) needs none of it.

What stays English in another language: the check functions' feedback (``thesis_lib.exercises``
prints it) and whatever the catalogues do not translate yet (reported per chapter).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

TOOL = Path("scripts") / "notebook_i18n.py"  # the book's translation tooling, relative to the book

TEXTS = {
    "en": {
        "exercises_title": "Exercises: {title}",
        "exercises_intro": (
            "The code exercises of the chapter *{title}*. Write each function in its cell, then run the check below "
            "it: the library's check prints what works and what does not yet. The chapter itself has the background "
            "and the written exercises."
        ),
        "nbgrader_intro": (
            "Write each function in its cell (replace `raise NotImplementedError()`), then run the check below it "
            "for feedback. Each exercise is worth {points} point(s) when the library's check passes."
        ),
        "not_passed": "{function} does not pass {check}",
        "readme": """\
# Classroom edition of the book

Written by `thesis-lib classroom` from the book's chapters ({chapters}).

* `student/<chapter>.ipynb`: the chapter for students: the solutions are removed; every code
  exercise is a cell to fill in, followed by the library's check, which prints feedback.
* `student/<chapter>-exercises.ipynb`: only the code exercises of the chapter (no training).
* `nbgrader/`: an nbgrader course directory. `source/<chapter>/` is the instructor version
  (reference solutions between `### BEGIN SOLUTION` / `### END SOLUTION`, hidden tests);
  run `nbgrader generate_assignment <chapter>` inside `nbgrader/` for the students' version,
  and `nbgrader autograde <chapter>` to grade what they hand in (one point per exercise).

Note that the library itself contains the reference solutions (`thesis_lib.exercises.*.solution_*`)
and the online book shows them folded: the checks are feedback for learning, not an exam.
""",
    },
    "sl": {
        "exercises_title": "Vaje: {title}",
        "exercises_intro": (
            "Programerske vaje poglavja *{title}*. Vsako funkcijo napišite v njeni celici in nato zaženite "
            "preverjanje pod njo: preverjanje iz knjižnice izpiše, kaj že deluje in kaj še ne (v angleščini). "
            "Teoretično ozadje in pisne vaje so v samem poglavju."
        ),
        "nbgrader_intro": (
            "Vsako funkcijo napišite v njeni celici (namesto `raise NotImplementedError()`) in nato zaženite "
            "preverjanje pod njo, ki izpiše povratno informacijo (v angleščini). Število točk za vajo: {points}; "
            "dobite jih, ko vajo sprejme preverjanje iz knjižnice."
        ),
        "not_passed": "{function} ne prestane preverjanja {check}",
        "readme": """\
# Izvedba knjige za pouk

Zapisal jo je ukaz `thesis-lib classroom --lang sl` iz poglavij knjige ({chapters}), prevedenih
iz slovenskih katalogov knjige.

* `student/<poglavje>.ipynb`: poglavje za študente brez rešitev; vsaka programerska vaja je
  celica, ki jo študent izpolni, pod njo pa je preverjanje iz knjižnice, ki izpiše povratno
  informacijo (v angleščini).
* `student/<poglavje>-exercises.ipynb`: samo programerske vaje poglavja (brez učenja modelov).
* `nbgrader/`: mapa predmeta za nbgrader. `source/<poglavje>/` je različica za učitelja
  (referenčne rešitve med `### BEGIN SOLUTION` in `### END SOLUTION`, skriti testi); ukaz
  `nbgrader generate_assignment <poglavje>` v mapi `nbgrader/` pripravi različico za študente,
  `nbgrader autograde <poglavje>` pa oceni oddane naloge (ena točka na vajo).

Referenčne rešitve so tudi v sami knjižnici (`thesis_lib.exercises.*.solution_*`), spletna knjiga
pa jih kaže zložene: preverjanja so povratna informacija za učenje, ne izpit.
""",
    },
}


def text(lang: str, key: str, **values) -> str:
    """The edition's own text ``key`` in ``lang`` (English where ``lang`` has none)."""
    return TEXTS.get(lang, TEXTS["en"]).get(key, TEXTS["en"][key]).format(**values)


def book_translator(book: str | Path):
    """The book's translation tooling (``<book>/scripts/notebook_i18n.py``) as a module, or a one-line ValueError."""
    path = Path(book) / TOOL
    if not path.is_file():
        raise ValueError(
            (
                f"a translated classroom edition needs the book's {TOOL.as_posix()}, which {str(Path(book))!r} "
                "lacks: pass --book with the book's repository"
            )
        )
    name = f"_book_notebook_i18n_{abs(hash(str(path.resolve())))}"  # one module per book folder
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before running it: its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    except ImportError as e:
        del sys.modules[name]
        raise ValueError(
            f"translating the chapters needs the book's requirements (pip install -r requirements.txt): {e}"
        ) from None
    return module


def check_language(book: str | Path, lang: str):
    """The book's translator for ``lang`` (``None`` for English), or a one-line ValueError naming
    the languages the book has catalogues for."""
    if lang == "en":
        return None
    if not isinstance(lang, str) or not lang.isidentifier():
        raise ValueError(f"--lang {lang!r} is not a language code; use en or one of the book's locales/ folders")
    tool = book_translator(book)
    available = tool.languages(book)
    if lang not in available:
        raise ValueError(
            (
                f"--lang {lang!r}: the book has catalogues for en (the source) and "
                f"{', '.join(available) or 'no other language'}"
            )
        )
    return tool


def translated(tool, nb, book: str | Path, docname: str, lang: str) -> tuple[object, list[str]]:
    """``(chapter nb in lang, the msgids left in English)``."""
    out, report = tool.translate_notebook(nb, tool.catalogue(book, lang, docname), lang)
    return out, [m.id for m in report.untranslated]
