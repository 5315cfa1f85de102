"""Caches that are never stale: every stored result is keyed by what produced it.

One helper for the three caches of the library (training runs, evaluations, the MNIST judge):

* :func:`source_fingerprint` hashes the torch version and the *code* of the library modules that a
  computation *imports*: the static import graph from its root modules, read from the files
  (``from .x import y`` anywhere in a module, except under ``if TYPE_CHECKING:``). So editing a
  plot never retrains a model, and editing one model's file never retrains another model. The
  code of a module is its syntax tree without docstrings (:func:`code_digest`): comments,
  docstrings and formatting cannot change a result, so editing them keeps every cache.
* :func:`key` turns settings and fingerprints into a short folder or file name;
  :func:`cached_json` stores a computed dict under such a name; :func:`atomic_write` writes any
  file so that a reader never sees half of it.

The cached files live under :func:`runs_root` (``$THESIS_LIB_RUNS``).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Callable, Iterable

import torch

from .errors import RunCacheError

RUNS_ENV = "THESIS_LIB_RUNS"
PACKAGE = "thesis_lib"
LIBRARY = Path(__file__).resolve().parent
# What a computation may import but what cannot change its result, so no fingerprint includes it: the
# progress display (it only prints), the error classes (their messages; whether to raise is decided
# by the code that raises, which counts) and the build profile's timers.
NEVER_IN_A_KEY = ("progress", "errors", "profiling")


def runs_root() -> Path:
    """Where cached runs (and evaluations and the judge) live: ``$THESIS_LIB_RUNS``, else ``~/.cache/thesis_lib/runs``.

    Raises :class:`~thesis_lib.errors.RunCacheError`, naming the variable and the path, when the
    path is a file or goes through one (it could never hold a run)."""
    value = os.environ.get(RUNS_ENV)
    root = Path(value).expanduser() if value else Path.home() / ".cache" / "thesis_lib" / "runs"
    for p in (root, *root.parents):
        if p.exists():
            if not p.is_dir():
                where = "is a file" if p == root else f"goes through the file {p}"
                source = f"${RUNS_ENV}={value}" if value else "the default run cache"
                raise RunCacheError(
                    (
                        f"{source}: {root} {where}, not a folder; point ${RUNS_ENV} at a folder (existing or new) "
                        "for the run cache"
                    )
                )
            break
    return root


def key(*parts: str) -> str:
    """A 16-hex-digit hash of the parts (settings as sorted JSON, fingerprints ...)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """``write(tmp)`` to a temporary file beside ``path``, then rename it over ``path``: readers never see half a
    file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def cached_json(path: Path, compute: Callable[[], dict]) -> dict:
    """The JSON stored at ``path``, or ``compute()`` stored there (atomically) first."""
    path = Path(path)
    if path.exists():
        return json.loads(path.read_text())
    result = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda p: Path(p).write_text(json.dumps(result, indent=1) + "\n"))
    return result


# ----------------------------------------------------------------------------- what a computation imports
def module_file(module: str, library: Path = LIBRARY) -> Path | None:
    """The file of a library module given relative to the package (``"models.vae"``, ``"config"``), if it exists."""
    base = library.joinpath(*module.split(".")) if module else library
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif not (isinstance(node, ast.If) and _is_type_checking(node)):
            yield from _import_nodes(node)


def imports_of(module: str, library: Path = LIBRARY) -> list[str]:
    """The library modules that ``module``'s source imports (directly), relative to the package."""
    path = module_file(module, library)
    if path is None:
        return []
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    package = [p for p in package if p]
    found: list[str] = []

    def add(parts: list[str]) -> None:
        name = ".".join(parts)
        if module_file(name, library) is not None and name not in found:
            found.append(name)

    for node in _import_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    add(alias.name.split(".")[1:])
            continue
        parts = (node.module or "").split(".") if node.module else []
        if node.level:
            target = package[: len(package) - (node.level - 1)] + parts
        elif parts and parts[0] == PACKAGE:
            target = parts[1:]
        else:
            continue  # another package (torch ...)
        for alias in node.names:
            if module_file(".".join(target + [alias.name]), library) is not None:
                add(target + [alias.name])  # a submodule: from .. import losses
            else:
                add(target)  # a name inside the module: from ..data import Dataset
    return found


def import_closure(roots: Iterable[str], blocked: Iterable[str] = (), library: Path = LIBRARY) -> list[str]:
    """``roots`` and every library module they import, transitively, never entering ``blocked`` ones; sorted."""
    blocked = set(blocked)
    seen: set[str] = set()
    todo = [r for r in roots if r not in blocked]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(m for m in imports_of(module, library) if m not in seen and m not in blocked)
    return sorted(seen)


def source_fingerprint(
    roots: Iterable[str], blocked: Iterable[str] = (), library: Path = LIBRARY, with_torch: bool = True
) -> str:
    """A hash of the torch version and of the code (:func:`code_digest`) of :func:`import_closure`
    (``roots``, ``blocked`` and :data:`NEVER_IN_A_KEY`). ``with_torch=False`` leaves the torch
    version out: what identifies a result stored in the package (the judge's weights), which any
    torch can load."""
    blocked = tuple(sorted({*blocked, *NEVER_IN_A_KEY}))
    return _fingerprint(tuple(roots), blocked, Path(library), _sources_stamp(Path(library)), with_torch)


def _sources_stamp(library: Path) -> tuple:
    """Sizes and modification times of the library's files: a cached fingerprint is recomputed when any changes."""
    return tuple(sorted((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in library.rglob("*.py")))


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return body[1:] or [ast.Pass()]
    return body


def _is_setting(node: ast.AST) -> bool:
    """A call of :func:`~thesis_lib.config.settings.setting` (a settings field: default and help)."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "setting") or (
        isinstance(func, ast.Attribute) and func.attr == "setting"
    )


def code_digest(source: str, filename: str = "<source>") -> bytes:
    """What of a module's source can change what it computes: its syntax tree (``ast.dump``, no line
    numbers) without the docstrings of the module, its classes and its functions, and without the
    help texts of the settings' fields (``setting(default, help)`` counts as ``setting(default)``).

    Comments and formatting are not in a syntax tree at all. Docstrings and field help are: the
    library never reads either while training (the CLI shows the help, and help changes no weight)."""
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            node.body = _without_docstring(node.body)
        elif _is_setting(node):
            node.args = node.args[:1]  # type: ignore[attr-defined]
            node.keywords = [k for k in node.keywords if k.arg != "help"]  # type: ignore[attr-defined]
    return ast.dump(tree).encode()


@functools.lru_cache(maxsize=64)
def _fingerprint(
    roots: tuple[str, ...], blocked: tuple[str, ...], library: Path, stamp: tuple, with_torch: bool = True
) -> str:
    h = hashlib.sha256(torch.__version__.encode() if with_torch else b"")
    for module in import_closure(roots, blocked, library):
        path = module_file(module, library)
        h.update(path.relative_to(library).as_posix().encode() + b"\0" + code_digest(path.read_text(), str(path)))
    return h.hexdigest()
