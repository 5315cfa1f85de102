"""The book's pages, read from ``_toc.yml`` (by :mod:`book_tools.toc`): the one list of chapters.

``scripts/notebooks.py`` (which notebooks to run and check), ``tests/test_book_build.py`` (which
pages the build must produce) and ``tests/test_browser.py`` (which pages to open) read it here.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOC = ROOT / "_toc.yml"
sys.path.insert(0, str(ROOT))

from book_tools.toc import toc_notebooks, toc_pages  # noqa: E402


def pages(toc: Path = TOC) -> list[str]:
    """Every document of the TOC (root first), as docnames such as ``book/ae``."""
    return toc_pages(Path(toc).parent)


def notebooks(toc: Path = TOC) -> list[str]:
    """The TOC's notebooks, as paths relative to the book's root (``book/ae.ipynb`` ...)."""
    root = Path(toc).parent
    return [p.relative_to(root).as_posix() for p in toc_notebooks(root).values()]
