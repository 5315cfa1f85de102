"""The classroom edition: student copies of the chapters and an nbgrader course, for teachers.

    thesis-lib classroom OUT [--book DIR] [--chapters ae vae ...] [--force]

reads the book's chapter notebooks (the ``.ipynb`` files that ``_toc.yml`` lists) and writes::

    OUT/README.md                               what is where (for the teacher)
    OUT/student/<chapter>.ipynb                 the chapter without its solutions: every exercise's
                                                code cell left for the student, its check call kept
    OUT/student/<chapter>-exercises.ipynb       only the code exercises (statement, cell, check):
                                                no training, runs in seconds
    OUT/nbgrader/nbgrader_config.py             an nbgrader course directory ...
    OUT/nbgrader/source/<chapter>/<chapter>-exercises.ipynb
                                                ... with one assignment per chapter: the answer cells
                                                are "autograded answers" holding the reference solution
                                                between nbgrader's solution markers, the checks are
                                                "autograder tests" with a hidden ``assert check_...``

Where things come from: in a chapter, solutions are MyST ``{solution}`` blocks (sphinx-exercise)
inside markdown cells, and a code exercise is a code cell that defines a function whose body is
``raise NotImplementedError`` and passes it to ``check_NAME`` of :mod:`thesis_lib.exercises`.
The reference solution of ``check_NAME`` is ``solution_NAME`` in the same module; its body
becomes the answer in the nbgrader source version (and :func:`fill_answers` puts it into a
student's notebook, which is how the tests hand in a full-marks submission).

Nothing is written until every notebook has been converted, and an ``OUT`` that is not empty is
refused unless ``force=True`` (then only the files named above are replaced; an nbgrader
``gradebook.db`` and students' submissions stay).
"""

from __future__ import annotations

import ast
import builtins
import copy
import importlib
import inspect
import re
import textwrap
import types
from dataclasses import dataclass
from pathlib import Path

COURSE_ID = "generative-models"
POINTS = 1  # per code exercise
METADATA_KEY = "thesis_lib"  # cell metadata: {"exercise": grade id, "function": ..., "solution": "module:function"}
SOLUTION_TAGS = ("solution",)  # code cells tagged so (none today) are dropped from student copies
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|:{3,})\{(?P<name>[A-Za-z][\w:-]*)\}(?P<arg>.*)$")


# ----------------------------------------------------------------------------- the chapters
def toc_notebooks(book: str | Path = ".") -> dict[str, Path]:
    """The chapter notebooks of the book at ``book``, in the order of its ``_toc.yml``.

    Returns ``{name: path}`` with ``name`` the file's stem (``ae``, ``gan`` ...); pages that
    are not notebooks (``.md``) are left out.
    """
    import yaml

    root = Path(book)
    toc_file = root / "_toc.yml"
    if not toc_file.is_file():
        raise ValueError(f"no _toc.yml in {str(root)!r}: run from the book's root folder or pass --book DIR")
    data = yaml.safe_load(toc_file.read_text(encoding="utf-8"))
    files: list[str] = [data["root"]] if data.get("root") else []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                files.append(node["file"])
            for key, value in node.items():
                if key != "file":
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in data.items() if k != "root"})
    chapters: dict[str, Path] = {}
    for f in files:
        path = root / f
        path = path if path.suffix else path.with_suffix(".ipynb")
        if path.suffix == ".ipynb" and path.is_file():
            chapters[path.stem] = path
    return chapters


# ----------------------------------------------------------------------------- markdown: directives
@dataclass
class _Block:
    name: str  # directive name (exercise, solution, ...)
    start: int  # first line (the opening fence)
    end: int  # last line (the closing fence), inclusive
    arg: str


def _blocks(lines: list[str]) -> list[_Block]:
    """The top-level MyST directive blocks (```` ```{name} ```` or ``:::{name}`` fences) of a markdown text."""
    blocks, i = [], 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence = m["fence"]
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        blocks.append(_Block(m["name"], i, min(j, len(lines) - 1), m["arg"].strip()))
        i = j + 1
    return blocks


def strip_solutions(markdown: str) -> str:
    """``markdown`` without its ``{solution}`` blocks (also gated ``{solution-start}`` ... ``{solution-end}``)."""
    lines = markdown.split("\n")
    drop: set[int] = set()
    gated = None
    for b in _blocks(lines):
        if b.name == "solution-start":
            gated = b.start
        elif b.name == "solution-end" and gated is not None:
            drop.update(range(gated, b.end + 1))
            gated = None
        elif b.name == "solution" or gated is not None:
            drop.update(range(b.start, b.end + 1))
    kept = [line for k, line in enumerate(lines) if k not in drop]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")


def _exercise_blocks(markdown: str) -> list[str]:
    lines = markdown.split("\n")
    return ["\n".join(lines[b.start : b.end + 1]) for b in _blocks(lines) if b.name == "exercise"]


# ----------------------------------------------------------------------------- code: exercises
@dataclass
class CodeExercise:
    """One code exercise of a chapter: the student's function and the check that grades it."""

    function: str  # the function the student writes, e.g. my_bce_with_logits
    check: str  # the check it is passed to, e.g. check_bce_with_logits
    module: str  # where check and solution live, e.g. thesis_lib.exercises.ae

    @property
    def solution(self) -> str:
        return "solution_" + self.check.removeprefix("check_")

    @property
    def grade_id(self) -> str:
        return self.check.removeprefix("check_").replace("_", "-")

    def solution_function(self):
        return getattr(importlib.import_module(self.module), self.solution)


def _exercise_modules() -> list[str]:
    import pkgutil

    from . import exercises

    return [f"{exercises.__name__}.{m.name}" for m in pkgutil.iter_modules(exercises.__path__)]


def _stub_functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    """Top-level functions whose body raises NotImplementedError (the student's to write)."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and any(_is_not_implemented(s) for s in node.body):
            out[node.name] = node
    return out


def _is_not_implemented(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.Raise) or stmt.exc is None:
        return False
    exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def _check_calls(tree: ast.Module) -> list[tuple[ast.stmt, str, str]]:
    """``(statement, check name, function name)`` of top-level ``check_X(fn)`` calls."""
    out = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            if isinstance(call.func, ast.Name) and call.func.id.startswith("check_") and call.args and isinstance(call.args[0], ast.Name):
                out.append((node, call.func.id, call.args[0].id))
    return out


def code_exercises(source: str, chapter_modules: list[str]) -> list[CodeExercise]:
    """The code exercises of one code cell (empty when it is not an exercise cell)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics and the like: not an exercise cell
        return []
    stubs = _stub_functions(tree)
    found = []
    for _, check, function in _check_calls(tree):
        if function not in stubs:
            continue
        module = next((m for m in [*chapter_modules, *_exercise_modules()] if hasattr(importlib.import_module(m), check)), None)
        if module is None:
            raise ValueError(f"{check} is not in thesis_lib.exercises: the exercise cell defining {function} cannot be graded")
        ex = CodeExercise(function, check, module)
        if not hasattr(importlib.import_module(module), ex.solution):
            raise ValueError(f"{module} has {check} but no {ex.solution}: add the reference solution")
        found.append(ex)
    return found


def _chapter_modules(nb) -> list[str]:
    """The exercise modules a chapter imports from (``from thesis_lib.exercises.X import ...``)."""
    mods = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            for m in re.findall(r"^\s*from\s+(thesis_lib\.exercises\.\w+)\s+import\b", cell.source, flags=re.M):
                if m not in mods:
                    mods.append(m)
    return mods


# ----------------------------------------------------------------------------- reference solutions
def solution_body(fn: types.FunctionType) -> list[str]:
    """The body of a reference solution as lines indented by 4, docstring dropped, with local
    imports of every module-level name it uses (so it runs pasted into any notebook)."""
    source = textwrap.dedent(inspect.getsource(fn))
    func = ast.parse(source).body[0]
    assert isinstance(func, ast.FunctionDef)
    body = func.body
    has_doc = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)
    if has_doc:
        body = body[1:]
    if not body:
        raise ValueError(f"{fn.__name__} has no code besides its docstring")
    # the last line of the signature (or of the docstring): comment lines after it belong to the body
    floor = func.body[0].end_lineno if has_doc else max([func.lineno, *(n.end_lineno for n in ast.walk(func.args) if hasattr(n, "end_lineno")), *([func.returns.end_lineno] if func.returns else [])])
    lines = source.split("\n")
    first = body[0].lineno - 1  # index of the first statement's line
    while first > floor and lines[first - 1].strip().startswith("#"):
        first -= 1
    code = textwrap.dedent("\n".join(lines[first : func.end_lineno])).rstrip().split("\n")
    return [("    " + line) if line.strip() else "" for line in [*_imports_for(fn, func), *code]]


def _imports_for(fn: types.FunctionType, func: ast.FunctionDef) -> list[str]:
    """``import`` lines for the module-level names the body of ``fn`` reads (annotations of its
    own signature are not needed), one line per module, plain imports first."""
    assigned = {a.arg for a in [*func.args.args, *func.args.kwonlyargs, *func.args.posonlyargs]}
    loaded: list[str] = []
    for stmt in func.body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name):
                (assigned.add if isinstance(node.ctx, (ast.Store, ast.Del)) else loaded.append)(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                assigned.add(node.name)
    plain: list[str] = []
    froms: dict[str, list[str]] = {}
    for name in dict.fromkeys(loaded):
        if name in assigned or name not in fn.__globals__ or hasattr(builtins, name):
            continue
        value = fn.__globals__[name]
        if isinstance(value, types.ModuleType):
            parent, _, leaf = value.__name__.rpartition(".")
            if value.__name__ == name:
                plain.append(f"import {name}")
            elif leaf == name:
                froms.setdefault(parent, []).append(name)
            else:
                plain.append(f"import {value.__name__} as {name}")
            continue
        module, qual = getattr(value, "__module__", None), getattr(value, "__name__", None)
        if module and qual and getattr(importlib.import_module(module), qual, None) is value:
            froms.setdefault(module, []).append(qual if qual == name else f"{qual} as {name}")
        else:  # a constant or an object defined in the solution's own module
            froms.setdefault(fn.__module__, []).append(name)
    lines = sorted(plain) + [f"from {m} import {', '.join(sorted(names))}" for m, names in sorted(froms.items())]
    return [*lines, ""] if lines else []


def _replace_stub(source: str, function: str, body: list[str]) -> str:
    """``source`` with the ``raise NotImplementedError`` of ``function`` (and a ``# YOUR CODE HERE``
    line just above it) replaced by ``body``."""
    tree = ast.parse(source)
    func = _stub_functions(tree).get(function)
    if func is None:
        raise ValueError(f"no unanswered function {function!r} (one that raises NotImplementedError) in the cell")
    stmt = next(s for s in func.body if _is_not_implemented(s))
    lines = source.split("\n")
    start, end = stmt.lineno - 1, stmt.end_lineno - 1
    if start > 0 and lines[start - 1].strip() == "# YOUR CODE HERE":
        start -= 1
    indent = re.match(r"\s*", lines[stmt.lineno - 1]).group(0)
    shifted = [(indent + line[4:]) if line else "" for line in body]
    return "\n".join([*lines[:start], *shifted, *lines[end + 1 :]])


# ----------------------------------------------------------------------------- the three versions
def _title(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, flags=re.M)
            if m:
                return m.group(1).strip()
    return fallback


def _is_colab_cell(cell) -> bool:
    return cell.cell_type == "code" and '"google.colab" in sys.modules' in cell.source


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


def exercise_notebook(nb, name: str):
    """Only the code exercises of chapter ``nb``: a setup cell, then per exercise its statement,
    the student's cell (the chapter's stub) and the check call. ``None`` when there are none."""
    import nbformat

    parts = _exercise_parts(nb, name)
    if not parts:
        return None
    out = nbformat.v4.new_notebook(metadata=copy.deepcopy(nb.metadata))
    out.metadata.pop("widgets", None)
    title = _title(nb, name)
    if nb.cells and _is_colab_cell(nb.cells[0]):
        colab = copy.deepcopy(nb.cells[0])
        colab.outputs, colab.execution_count = [], None
        out.cells.append(colab)
    out.cells.append(_cell(nbformat, "markdown", f"# Exercises: {title}\n\nThe code exercises of the chapter *{title}*. Write each function in its cell, then run the check below it: the library's check prints what works and what does not yet. The chapter itself has the background and the written exercises.", "intro"))
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
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def nbgrader_notebook(nb, name: str):
    """The nbgrader source (instructor) version of chapter ``nb``'s code exercises, or ``None``.

    * setup cell: read-only;
    * each answer cell: an *autograded answer*, the reference solution between
      ``### BEGIN SOLUTION`` / ``### END SOLUTION`` (``generate_assignment`` replaces it with
      ``raise NotImplementedError()`` in the students' version);
    * each check cell: an *autograder test* worth :data:`POINTS`; students see the check call
      (their feedback), the hidden ``assert`` (check functions imported afresh, so a student
      cannot redefine them) decides the points.
    """
    import nbformat

    parts = _exercise_parts(nb, name)
    if not parts:
        return None
    out = nbformat.v4.new_notebook(metadata=copy.deepcopy(nb.metadata))
    out.metadata.pop("widgets", None)
    title = _title(nb, name)
    out.cells.append(_cell(nbformat, "markdown", f"# Exercises: {title}\n\nWrite each function in its cell (replace `raise NotImplementedError()`), then run the check below it for feedback. Each exercise is worth {POINTS} point(s) when the library's check passes.", "intro", **_nbgrader("intro", solution=False, grade=False, locked=True)))
    out.cells.append(_cell(nbformat, "code", _setup_source(parts), "setup", **_nbgrader("setup", solution=False, grade=False, locked=True)))
    for statement, code, found in parts:
        answer, checks = _split_exercise_code(code, found)
        for ex in found:
            answer = _replace_stub(answer, ex.function, ["    ### BEGIN SOLUTION", *solution_body(ex.solution_function()), "    ### END SOLUTION"])
        gid = found[0].grade_id
        if statement:
            out.cells.append(_cell(nbformat, "markdown", statement, f"{gid}-statement", **_nbgrader(f"{gid}-statement", solution=False, grade=False, locked=True)))
        out.cells.append(_cell(nbformat, "code", answer, f"{gid}-answer", **_nbgrader(f"{gid}-answer", solution=True, grade=False, locked=False), **{METADATA_KEY: _exercise_meta(found)}))
        hidden = [f"from {ex.module} import {ex.check} as _check" + "\n" + f'assert _check({ex.function}), "{ex.function} does not pass {ex.check}"' for ex in found]
        test = "\n".join([checks, "### BEGIN HIDDEN TESTS", *hidden, "### END HIDDEN TESTS"])
        out.cells.append(_cell(nbformat, "code", test, f"{gid}-test", **_nbgrader(f"{gid}-test", solution=False, grade=True, locked=True, points=POINTS * len(found))))
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
            cell.source = _replace_stub(cell.source, ex["function"], solution_body(getattr(importlib.import_module(module), fn)))
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

README = """\
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
"""


def build(book: str | Path = ".", chapters: list[str] | None = None) -> dict[str, object]:
    """Every file of the classroom edition, in memory: ``{relative path: text or notebook}``."""
    import nbformat

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
        files[f"student/{name}.ipynb"] = student_notebook(nb)
        exercises = exercise_notebook(nb, name)
        if exercises is not None:
            files[f"student/{name}-exercises.ipynb"] = exercises
            files[f"nbgrader/source/{name}/{name}-exercises.ipynb"] = nbgrader_notebook(nb, name)
            assignments.append(name)
    here = "OUT/nbgrader"
    files["nbgrader/nbgrader_config.py"] = NBGRADER_CONFIG.format(here=here, course=COURSE_ID, assignments=", ".join(f'"{a}": {{"name": "{a}"}}' for a in assignments))
    files["README.md"] = README.format(chapters=", ".join(chosen))
    return files


def write(out: str | Path, book: str | Path = ".", chapters: list[str] | None = None, force: bool = False) -> list[Path]:
    """Write the classroom edition into ``out`` (see the module's docstring); returns the files written.

    Raises ``ValueError`` (before writing anything) for an unknown chapter, a book folder without
    ``_toc.yml``, an ``out`` that is a file, or an ``out`` that is not empty and ``force`` is False.
    """
    import nbformat

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"OUT {str(out)!r} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ValueError(f"OUT {str(out)!r} exists and is not empty: choose a new folder, or pass --force to replace the classroom files in it")
    files = build(book, chapters)  # everything converted before anything is written
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
    parser.add_argument("out", type=Path, metavar="OUT", help="folder for the classroom edition (new or empty, or give --force)")
    parser.add_argument("--book", type=Path, default=Path("."), metavar="DIR", help="the book's root folder, with _toc.yml (default: the current folder)")
    parser.add_argument("--chapters", nargs="+", default=None, metavar="NAME", help="only these chapters, e.g. ae vae (default: every chapter notebook of _toc.yml)")
    parser.add_argument("--force", action="store_true", help="write into a non-empty OUT, replacing the classroom files of the same name")


def run(args) -> int:
    """``thesis-lib classroom``: write the edition and print a JSON summary."""
    import json

    written = write(args.out, book=args.book, chapters=args.chapters, force=args.force)
    print(json.dumps({"out": str(args.out), "files": [str(p.relative_to(args.out)) for p in written]}, indent=1))
    return 0
