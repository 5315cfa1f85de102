"""The book's pages, read from ``_toc.yml``: the one list of chapters.

``scripts/notebooks.py`` (which notebooks to run and check), ``tests/test_book_build.py`` (which
pages the build must produce) and ``tests/test_browser.py`` (which pages to open) all read it
here, so a chapter is added in ``_toc.yml`` alone.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TOC = ROOT / "_toc.yml"


def pages(toc: Path = TOC) -> list[str]:
    """Every document of the TOC (root first), as docnames such as ``book/ae``."""
    data = yaml.safe_load(Path(toc).read_text())
    found = [data["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in data.items() if k != "root"})
    return [re.sub(r"\.(md|ipynb|rst)$", "", p) for p in found]


def notebooks(toc: Path = TOC) -> list[str]:
    """The TOC's pages that are notebooks, as paths relative to the book's root (``book/ae.ipynb`` ...)."""
    root = Path(toc).parent
    return [f"{p}.ipynb" for p in pages(toc) if (root / f"{p}.ipynb").exists()]
