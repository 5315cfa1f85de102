"""The browser tests of ``tests/test_browser.py``, run once more on the Slovene edition.

``test_browser.py`` checks one built HTML tree, ``$THESIS_LIB_BOOK_HTML`` (default
``_build/html``). Here the same module is loaded a second time with that tree set to the
Slovene edition, ``_build/html/sl`` (built by ``scripts/build_book.py`` from the English
build's executed notebooks), so every page check (offline, images, math, solutions hidden,
citations and links, widgets, tables, no progress bars) runs on the Slovene pages too. The
checks that concern the build rather than a page are left to the English run.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_english = Path(os.environ.get("THESIS_LIB_BOOK_HTML", ROOT / "_build" / "html")).resolve()
_NOT_PER_PAGE = {"test_progress_bar_pattern_matches_tqdm_text", "test_the_ci_build_started_from_an_empty_run_cache"}


def _load_for(html: Path):
    spec = importlib.util.spec_from_file_location(
        "test_browser_sl_edition", Path(__file__).with_name("test_browser.py")
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    saved = os.environ.get("THESIS_LIB_BOOK_HTML")
    os.environ["THESIS_LIB_BOOK_HTML"] = str(html)
    try:
        spec.loader.exec_module(module)
    finally:
        if saved is None:
            os.environ.pop("THESIS_LIB_BOOK_HTML")
        else:
            os.environ["THESIS_LIB_BOOK_HTML"] = saved
    return module


_sl = _load_for(_english / "sl")
pytestmark = _sl.pytestmark
globals().update(
    {name: obj for name, obj in vars(_sl).items() if not name.startswith("__") and name not in _NOT_PER_PAGE}
)
