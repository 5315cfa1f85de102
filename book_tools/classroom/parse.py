"""Reading a chapter: its MyST solution blocks, its code exercises and their reference solutions."""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import re
import textwrap
import types
from dataclasses import dataclass

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|:{3,})\{(?P<name>[A-Za-z][\w:-]*)\}(?P<arg>.*)$")


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

    from thesis_lib import exercises

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
            if (
                isinstance(call.func, ast.Name)
                and call.func.id.startswith("check_")
                and call.args
                and isinstance(call.args[0], ast.Name)
            ):
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
        module = next(
            (m for m in [*chapter_modules, *_exercise_modules()] if hasattr(importlib.import_module(m), check)), None
        )
        if module is None:
            raise ValueError(
                f"{check} is not in thesis_lib.exercises: the exercise cell defining {function} cannot be graded"
            )
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
    has_doc = (
        isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    )
    if has_doc:
        body = body[1:]
    if not body:
        raise ValueError(f"{fn.__name__} has no code besides its docstring")
    # the last line of the signature (or of the docstring): comment lines after it belong to the body
    floor = (
        func.body[0].end_lineno
        if has_doc
        else max(
            [
                func.lineno,
                *(n.end_lineno for n in ast.walk(func.args) if hasattr(n, "end_lineno")),
                *([func.returns.end_lineno] if func.returns else []),
            ]
        )
    )
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
