"""The three versions a teacher gets (student copy, exercise-only notebook, nbgrader source), and writing them."""

from __future__ import annotations

import ast
import copy
import importlib
import re
from pathlib import Path

from ..colab import is_colab_cell
from ..toc import toc_notebooks
from .language import check_language, text, translated

COURSE_ID = "generative-models"
POINTS = 1  # per code exercise
METADATA_KEY = "thesis_lib"  # cell metadata: {"exercise": grade id, "function": ..., "solution": "module:function"}
SOLUTION_TAGS = ("solution",)  # code cells tagged so (none today) are dropped from student copies


from .parse import (
    CodeExercise,
    _chapter_modules,
    _check_calls,
    _exercise_blocks,
    _replace_stub,
    code_exercises,
    solution_body,
    strip_solutions,
)


# ----------------------------------------------------------------------------- the three versions
def _title(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, flags=re.M)
            if m:
                return m.group(1).strip()
    return fallback


def student_notebook(nb):
    """A copy of the chapter ``nb`` for students: every ``{solution}`` removed, outputs cleared;
    the exercise cells (``raise NotImplementedError`` stubs and their ``check_...`` calls) stay."""
    out = copy.deepcopy(nb)
    cells = []
    for cell in out.cells:
        if set(cell.metadata.get("tags", [])) & set(SOLUTION_TAGS):
            continue
        if cell.cell_type == "markdown":
            cell.source = strip_solutions(cell.source)
            if not cell.source.strip():
                continue
        elif cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    out.cells = cells
    out.metadata.pop("widgets", None)
    return out


def _exercise_parts(nb, name: str) -> list[tuple[str, str, list[CodeExercise]]]:
    """``(statement, code, exercises)`` per code exercise cell, in the chapter's order."""
    modules = _chapter_modules(nb)
    parts, statement = [], ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            blocks = _exercise_blocks(strip_solutions(cell.source))
            if blocks:
                statement = blocks[-1]
        elif cell.cell_type == "code":
            found = code_exercises(cell.source, modules)
            if found:
                parts.append((statement, cell.source, found))
                statement = ""
    return parts


def _cell(nbf, kind: str, source: str, cell_id: str, **metadata):
    new = nbf.v4.new_code_cell if kind == "code" else nbf.v4.new_markdown_cell
    cell = new(source)
    cell.id = cell_id
    cell.metadata.update(metadata)
    return cell


def _setup_source(parts) -> str:
    checks: dict[str, list[str]] = {}
    for _, _, found in parts:
        for ex in found:
            checks.setdefault(ex.module, []).append(ex.check)
    imports = [f"from {m} import {', '.join(dict.fromkeys(names))}" for m, names in checks.items()]
    return "\n".join(["import torch", "", *imports, "", "torch.manual_seed(0);"])


def _split_exercise_code(source: str, found: list[CodeExercise]) -> tuple[str, str]:
    """(the answer part: the cell without its exercise imports and check calls, the check calls)."""
    tree = ast.parse(source)
    lines = source.split("\n")
    drop, checks = set(), []
    wanted = {ex.check for ex in found}
    for stmt, check, _ in _check_calls(tree):
        if check in wanted:
            drop.update(range(stmt.lineno - 1, stmt.end_lineno))
            checks.append("\n".join(lines[stmt.lineno - 1 : stmt.end_lineno]))
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("thesis_lib.exercises"):
            drop.update(range(node.lineno - 1, node.end_lineno))
    answer = "\n".join(line for k, line in enumerate(lines) if k not in drop).strip("\n")
    return re.sub(r"\n{3,}", "\n\n\n", answer), "\n".join(checks)


def _new_exercise_notebook(nb, name: str):
    """``(parts, empty notebook with the chapter's metadata, title)`` for chapter ``nb``'s code
    exercises, or ``None`` when it has none (shared by both exercise editions)."""
    import nbformat

    parts = _exercise_parts(nb, name)
    if not parts:
        return None
    out = nbformat.v4.new_notebook(metadata=copy.deepcopy(nb.metadata))
    out.metadata.pop("widgets", None)
    return parts, out, _title(nb, name)


def exercise_notebook(nb, name: str, lang: str = "en"):
    """Only the code exercises of chapter ``nb``: a setup cell, then per exercise its statement,
    the student's cell (the chapter's stub) and the check call. ``None`` when there are none.
    ``lang``: the language of the notebook's own introduction (``nb`` is already in it)."""
    import nbformat

    start = _new_exercise_notebook(nb, name)
    if start is None:
        return None
    parts, out, title = start
    if nb.cells and is_colab_cell(nb.cells[0]):
        colab = copy.deepcopy(nb.cells[0])
        colab.outputs, colab.execution_count = [], None
        out.cells.append(colab)
    intro = f"# {text(lang, 'exercises_title', title=title)}\n\n{text(lang, 'exercises_intro', title=title)}"
    out.cells.append(_cell(nbformat, "markdown", intro, "intro"))
    out.cells.append(_cell(nbformat, "code", _setup_source(parts), "setup"))
    for statement, code, found in parts:
        answer, checks = _split_exercise_code(code, found)
        gid = found[0].grade_id
        if statement:
            out.cells.append(_cell(nbformat, "markdown", statement, f"{gid}-statement"))
        out.cells.append(_cell(nbformat, "code", answer, f"{gid}-answer", **{METADATA_KEY: _exercise_meta(found)}))
        out.cells.append(_cell(nbformat, "code", checks, f"{gid}-check"))
    return out


def _exercise_meta(found: list[CodeExercise]) -> dict:
    return {"exercises": [{"function": ex.function, "solution": f"{ex.module}:{ex.solution}"} for ex in found]}


def _nbgrader(grade_id: str, *, solution: bool, grade: bool, locked: bool, points: int | None = None) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def nbgrader_notebook(nb, name: str, lang: str = "en"):
    """The nbgrader source (instructor) version of chapter ``nb``'s code exercises, or ``None``.

    * setup cell: read-only;
    * each answer cell: an *autograded answer*, the reference solution between
      ``### BEGIN SOLUTION`` / ``### END SOLUTION`` (``generate_assignment`` replaces it with
      ``raise NotImplementedError()`` in the students' version);
    * each check cell: an *autograder test* worth :data:`POINTS`; students see the check call
      (their feedback), the hidden ``assert`` (check functions imported afresh, so a student
      cannot redefine them) decides the points.

    ``lang``: the language of the notebook's own texts (``nb`` is already in it).
    """
    import nbformat

    start = _new_exercise_notebook(nb, name)
    if start is None:
        return None
    parts, out, title = start
    intro = f"# {text(lang, 'exercises_title', title=title)}\n\n{text(lang, 'nbgrader_intro', points=POINTS)}"
    out.cells.append(
        _cell(nbformat, "markdown", intro, "intro", **_nbgrader("intro", solution=False, grade=False, locked=True))
    )
    out.cells.append(
        _cell(
            nbformat,
            "code",
            _setup_source(parts),
            "setup",
            **_nbgrader("setup", solution=False, grade=False, locked=True),
        )
    )
    for statement, code, found in parts:
        answer, checks = _split_exercise_code(code, found)
        for ex in found:
            answer = _replace_stub(
                answer,
                ex.function,
                ["    ### BEGIN SOLUTION", *solution_body(ex.solution_function()), "    ### END SOLUTION"],
            )
        gid = found[0].grade_id
        if statement:
            out.cells.append(
                _cell(
                    nbformat,
                    "markdown",
                    statement,
                    f"{gid}-statement",
                    **_nbgrader(f"{gid}-statement", solution=False, grade=False, locked=True),
                )
            )
        out.cells.append(
            _cell(
                nbformat,
                "code",
                answer,
                f"{gid}-answer",
                **_nbgrader(f"{gid}-answer", solution=True, grade=False, locked=False),
                **{METADATA_KEY: _exercise_meta(found)},
            )
        )
        hidden = [
            f"from {ex.module} import {ex.check} as _check\n"
            + f'assert _check({ex.function}), "{text(lang, "not_passed", function=ex.function, check=ex.check)}"'
            for ex in found
        ]
        test = "\n".join([checks, "### BEGIN HIDDEN TESTS", *hidden, "### END HIDDEN TESTS"])
        out.cells.append(
            _cell(
                nbformat,
                "code",
                test,
                f"{gid}-test",
                **_nbgrader(f"{gid}-test", solution=False, grade=True, locked=True, points=POINTS * len(found)),
            )
        )
    return out


def fill_answers(nb):
    """A copy of an exercise notebook (student or nbgrader release version) with every answer
    cell filled in from the library's reference solutions: a full-marks submission."""
    out = copy.deepcopy(nb)
    for cell in out.cells:
        info = cell.metadata.get(METADATA_KEY)
        if cell.cell_type != "code" or not info:
            continue
        for ex in info["exercises"]:
            module, _, fn = ex["solution"].partition(":")
            cell.source = _replace_stub(
                cell.source, ex["function"], solution_body(getattr(importlib.import_module(module), fn))
            )
    return out


NBGRADER_CONFIG = '''\
"""nbgrader course directory of the book's classroom edition (written by `thesis-lib classroom`).

    cd {here}
    nbgrader generate_assignment ae          # source/ae -> release/ae (solutions and hidden tests removed)
    nbgrader autograde ae                    # grades submitted/<student>/ae/*.ipynb into gradebook.db
"""

c = get_config()  # noqa: F821 (provided by nbgrader)
c.CourseDirectory.course_id = "{course}"
c.CourseDirectory.assignments = {{{assignments}}}
# a check builds small tensors or a tiny model: seconds, but leave room for a slow machine
c.ExecutePreprocessor.timeout = 300
'''


def build(
    book: str | Path = ".",
    chapters: list[str] | None = None,
    lang: str = "en",
    untranslated: dict[str, list[str]] | None = None,
) -> dict[str, object]:
    """Every file of the classroom edition, in memory: ``{relative path: text or notebook}``.

    ``lang``: ``en`` (the chapters as they are) or a language the book has catalogues for, into
    which the chapters are translated first (:mod:`.language`); ``untranslated``, if given,
    receives the messages each chapter leaves in English.
    """
    import nbformat

    tool = check_language(book, lang)
    available = toc_notebooks(book)
    if not available:
        raise ValueError(f"_toc.yml in {str(book)!r} lists no chapter notebooks")
    chosen = list(dict.fromkeys(chapters)) if chapters else list(available)
    unknown = [c for c in chosen if c not in available]
    if unknown:
        raise ValueError(f"unknown chapter {unknown[0]!r}; the chapters are: {', '.join(available)}")
    files: dict[str, object] = {}
    assignments = []
    for name in chosen:
        nb = nbformat.read(available[name], as_version=4)
        if tool is not None:
            docname = available[name].relative_to(Path(book)).with_suffix("").as_posix()
            nb, left = translated(tool, nb, book, docname, lang)
            if untranslated is not None:
                untranslated[name] = left
        files[f"student/{name}.ipynb"] = student_notebook(nb)
        exercises = exercise_notebook(nb, name, lang)
        if exercises is not None:
            files[f"student/{name}-exercises.ipynb"] = exercises
            files[f"nbgrader/source/{name}/{name}-exercises.ipynb"] = nbgrader_notebook(nb, name, lang)
            assignments.append(name)
    here = "OUT/nbgrader"
    files["nbgrader/nbgrader_config.py"] = NBGRADER_CONFIG.format(
        here=here, course=COURSE_ID, assignments=", ".join(f'"{a}": {{"name": "{a}"}}' for a in assignments)
    )
    files["README.md"] = text(lang, "readme", chapters=", ".join(chosen))
    return files


def write(
    out: str | Path,
    book: str | Path = ".",
    chapters: list[str] | None = None,
    force: bool = False,
    lang: str = "en",
    untranslated: dict[str, list[str]] | None = None,
) -> list[Path]:
    """Write the classroom edition into ``out`` (see the module's docstring) in ``lang`` (see
    :func:`build`); returns the files written.

    Raises ``ValueError`` (before writing anything) for an unknown chapter or language, a book
    folder without ``_toc.yml``, an ``out`` that is a file, or an ``out`` that is not empty and
    ``force`` is False.
    """
    import nbformat

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"OUT {str(out)!r} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ValueError(
            (
                f"OUT {str(out)!r} exists and is not empty: choose a new folder, or pass --force to replace the "
                "classroom files in it"
            )
        )
    files = build(book, chapters, lang, untranslated)  # everything converted before anything is written
    written = []
    for rel, content in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            nbformat.validate(content)
            nbformat.write(content, path)
        written.append(path)
    return written


# ----------------------------------------------------------------------------- command line
def add_arguments(parser) -> None:
    """The options of ``thesis-lib classroom`` (see :func:`write`)."""
    parser.add_argument(
        "out", type=Path, metavar="OUT", help="folder for the classroom edition (new or empty, or give --force)"
    )
    parser.add_argument(
        "--book",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="the book's root folder, with _toc.yml (default: the current folder)",
    )
    parser.add_argument(
        "--chapters",
        nargs="+",
        default=None,
        metavar="NAME",
        help="only these chapters, e.g. ae vae (default: every chapter notebook of _toc.yml)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into a non-empty OUT, replacing the classroom files of the same name",
    )
    parser.add_argument(
        "--lang",
        default="en",
        metavar="LANG",
        help=(
            "language of the edition: en (default), or one the book has catalogues for (sl), from which the chapters "
            "are translated; the checks' feedback stays English"
        ),
    )


def run(args) -> int:
    """``thesis-lib classroom``: write the edition and print a JSON summary (in another language
    also the number of messages each chapter leaves in English, and a line per such chapter on stderr)."""
    import json
    import sys

    untranslated: dict[str, list[str]] = {}
    written = write(
        args.out, book=args.book, chapters=args.chapters, force=args.force, lang=args.lang, untranslated=untranslated
    )
    summary = {"out": str(args.out), "files": [str(p.relative_to(args.out)) for p in written]}
    if args.lang != "en":
        summary["untranslated"] = {name: len(ids) for name, ids in untranslated.items()}
        for name, ids in untranslated.items():
            if ids:
                print(
                    (
                        f"{name}: {len(ids)} messages have no {args.lang} translation yet and stay English (python "
                        f"scripts/notebooks.py translate --lang {args.lang} --check lists them)"
                    ),
                    file=sys.stderr,
                )
    print(json.dumps(summary, indent=1))
    return 0
