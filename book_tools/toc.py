"""The book's pages, read from its ``_toc.yml``: the one list of chapters.

The classroom edition (:mod:`book_tools.classroom`), ``scripts/notebooks.py`` (which notebooks to
run, time and check), and the tests (which pages the build must produce, which pages the browser
opens) all read it here, so a chapter is added in ``_toc.yml`` alone.
"""

from __future__ import annotations

import re
from pathlib import Path


def toc_file(book: str | Path = ".") -> Path:
    """``book/_toc.yml``, or a one-line error if the folder is not a book."""
    path = Path(book) / "_toc.yml"
    if not path.is_file():
        raise ValueError(f"no _toc.yml in {str(Path(book))!r}: run from the book's root folder or pass --book DIR")
    return path


def toc_pages(book: str | Path = ".") -> list[str]:
    """Every document of the book's TOC (root first), as docnames such as ``book/ae``."""
    import yaml

    data = yaml.safe_load(toc_file(book).read_text(encoding="utf-8"))
    found: list[str] = [data["root"]] if data.get("root") else []

    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                found.append(node["file"])
            for key, value in node.items():
                if key != "file":
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in data.items() if k != "root"})
    return [re.sub(r"\.(md|ipynb|rst)$", "", p) for p in found]


def toc_notebooks(book: str | Path = ".") -> dict[str, Path]:
    """The book's chapter notebooks in TOC order, as ``{stem: path}`` (``{"ae": book/ae.ipynb, ...}``);
    pages that are not notebooks (``.md``) are left out."""
    root = Path(book)
    chapters: dict[str, Path] = {}
    for page in toc_pages(root):
        path = root / f"{page}.ipynb"
        if path.is_file():
            chapters[path.stem] = path
    return chapters
