"""The README's test command: its order and its groups under pytest-xdist (the root ``conftest.py``)."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _root_conftest():
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Item:
    def __init__(self, nodeid: str, *markers: str):
        self.nodeid, self.markers = nodeid, markers

    def get_closest_marker(self, name):
        return name if name in self.markers else None


def test_the_tests_that_run_alone_exist():
    """A renamed build or judge check would no longer run first and alone: the names must be real tests."""
    conftest = _root_conftest()
    assert conftest.ALONE[-1] == conftest.BUILD_TEST
    for nodeid in conftest.ALONE:
        path, name = nodeid.split("::")
        tree = ast.parse((ROOT / path).read_text())
        assert name in {f.name for f in tree.body if isinstance(f, ast.FunctionDef)}, nodeid


def test_the_build_runs_first_only_on_two_processes():
    conftest = _root_conftest()
    items = [
        _Item("tests/test_losses.py::test_a"),
        _Item(conftest.BUILD_TEST, "book_build"),
        _Item("tests/test_browser.py::test_b[en-index]", "browser", "book_build"),
        _Item("book/ae.ipynb::Cell 0", "notebook"),
        _Item(conftest.ALONE[0], "slow"),
    ]
    one = sorted(items, key=lambda i: conftest._order(i, build_first=False))
    assert [i.nodeid for i in one] == [
        "tests/test_losses.py::test_a",
        conftest.ALONE[0],
        conftest.BUILD_TEST,
        "tests/test_browser.py::test_b[en-index]",
        "book/ae.ipynb::Cell 0",
    ]
    two = sorted(items, key=lambda i: conftest._order(i, build_first=True))
    assert [i.nodeid for i in two][: len(conftest.ALONE)] == list(conftest.ALONE)


def test_groups_keep_a_notebook_a_page_and_a_module_together():
    group = _root_conftest()._group
    browser = "tests/test_browser.py::"
    assert group("book/vae.ipynb::Cell 3") == group("book/vae.ipynb::Cell 30") != group("book/gan.ipynb::Cell 3")
    assert group(f"{browser}test_images_load[en-book/gan]") == group(f"{browser}test_math_is_typeset[en-book/gan]")
    assert group(f"{browser}test_images_load[en-book/gan]") != group(f"{browser}test_images_load[sl-book/gan]")
    assert group(f"{browser}test_images_load[en-book/gan]") != group(f"{browser}test_images_load[en-book/vae]")
    assert group("tests/test_pdf.py::test_x[en]") == group("tests/test_pdf.py::test_y[sl]")  # one PDF print
    assert {group(nodeid) for nodeid in _root_conftest().ALONE} == {"alone"}


@pytest.mark.slow
def test_a_deselected_test_of_alone_is_not_waited_for():
    """``pytest -m unit`` deselects the judge's check (slow) and this test: the others must not wait (an hour)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider", "-m", "unit"]
        + ["tests/test_tiers.py", _root_conftest().ALONE[0]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and "3 passed in" in done.stdout, done.stdout[-2000:]  # the test above, on its own
