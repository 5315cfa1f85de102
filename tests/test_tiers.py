"""The README's test command: its order and its groups under pytest-xdist (the root ``conftest.py``)."""

from __future__ import annotations

import ast
import importlib.util
import os
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


JUDGE_CHECK = "tests/test_metrics.py::test_retraining_the_judge_gives_the_stored_weights"
"""A slow test that once ran alone, before the build (on two threads): now it waits like the other slow tests."""


def test_the_tests_that_run_alone_exist():
    """A renamed build would no longer run first and alone: the names must be real tests."""
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
        _Item(JUDGE_CHECK, "slow"),
    ]
    one = sorted(items, key=lambda i: conftest._order(i, build_first=False))
    assert [i.nodeid for i in one] == [
        "tests/test_losses.py::test_a",
        JUDGE_CHECK,
        conftest.BUILD_TEST,
        "tests/test_browser.py::test_b[en-index]",
        "book/ae.ipynb::Cell 0",
    ]
    two = sorted(items, key=lambda i: conftest._order(i, build_first=True))
    assert [i.nodeid for i in two] == [
        conftest.BUILD_TEST,
        "tests/test_losses.py::test_a",
        JUDGE_CHECK,  # (no longer alone: on one thread, beside the other tests)
        "tests/test_browser.py::test_b[en-index]",
        "book/ae.ipynb::Cell 0",
    ]


def test_groups_keep_a_notebook_a_page_and_a_module_together():
    group = _root_conftest()._group
    browser = "tests/test_browser.py::"
    assert group("book/vae.ipynb::Cell 3") == group("book/vae.ipynb::Cell 30") != group("book/gan.ipynb::Cell 3")
    assert group(f"{browser}test_images_load[en-book/gan]") == group(f"{browser}test_math_is_typeset[en-book/gan]")
    assert group(f"{browser}test_images_load[en-book/gan]") != group(f"{browser}test_images_load[sl-book/gan]")
    assert group(f"{browser}test_images_load[en-book/gan]") != group(f"{browser}test_images_load[en-book/vae]")
    assert group("tests/test_pdf.py::test_x[en]") == group("tests/test_pdf.py::test_y[sl]")  # one PDF print
    assert {group(nodeid) for nodeid in _root_conftest().ALONE} == {"alone"}


def test_a_module_whose_tests_the_order_separates_is_two_scopes():
    """A unit test of ``tests/test_book_build.py`` runs with the unit tests and its build checks after the build:
    two scopes, so the process that runs the first does not wait for the build in the second with units left."""
    conftest = _root_conftest()
    items = [
        _Item("tests/test_book_build.py::test_unit"),
        _Item("tests/test_book_build.py::test_runs", "book_build"),
        _Item("tests/test_losses.py::test_a"),
        _Item("tests/test_losses.py::test_b"),
        _Item(conftest.BUILD_TEST, "book_build"),
    ]
    ordered = [i.nodeid for i in conftest.ordered(items, build_first=True)]
    scope = conftest.scopes(ordered)
    assert scope[conftest.BUILD_TEST] == "alone"
    assert scope["tests/test_losses.py::test_a"] == scope["tests/test_losses.py::test_b"] == "tests/test_losses.py"
    assert scope["tests/test_book_build.py::test_unit"] == "tests/test_book_build.py"
    assert scope["tests/test_book_build.py::test_runs"] == "tests/test_book_build.py (2)"
    assert list(dict.fromkeys(scope[n] for n in ordered))[-1] == "tests/test_book_build.py (2)"  # after the units


def test_a_pages_browser_checks_run_together_and_are_one_scope():
    """pytest collects ``tests/test_browser.py`` check by check; in the run's order each page's checks follow each
    other, so each page is one scope (loaded once, by one process)."""
    conftest = _root_conftest()
    browser = "tests/test_browser.py::"
    nodeids = [f"{browser}{check}[en-{page}]" for check in ("test_a", "test_b") for page in ("book/ae", "book/gan")]
    items = [_Item(n, "browser", "book_build") for n in nodeids] + [_Item("tests/test_losses.py::test_a")]
    order = [i.nodeid for i in conftest.ordered(items, build_first=True)]
    assert order == ["tests/test_losses.py::test_a"] + [nodeids[i] for i in (0, 2, 1, 3)]
    scope = conftest.scopes(order)
    assert len({scope[n] for n in nodeids}) == 2 and scope[nodeids[0]] == conftest._group(nodeids[0])


@pytest.mark.slow
def test_a_deselected_test_of_alone_is_not_waited_for():
    """``pytest -m unit`` deselects the build (book_build) and this test (slow): the others must not wait (an hour)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider", "-m", "unit"]
        + ["tests/test_tiers.py", _root_conftest().ALONE[0]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    unit = [
        f.name
        for f in ast.parse(Path(__file__).read_text()).body
        if isinstance(f, ast.FunctionDef)
        and f.name.startswith("test_")
        and not any("slow" in ast.unparse(d) for d in f.decorator_list)
    ]  # this module's unit tests: all of them pass, and nothing waited
    assert done.returncode == 0 and f"{len(unit)} passed in" in done.stdout, done.stdout[-2000:]


def test_a_unit_test_waits_for_the_cores_a_browser_test_for_the_whole_build(tmp_path):
    """``pytest_runtest_setup`` in a test process: once the build has freed a core, a unit test starts and a
    browser test still waits, until the tests that run alone have ended."""
    import threading

    conftest = _root_conftest()
    config = type("Config", (), {})()
    config.workerinput = {"alone_done_signal": str(tmp_path / "alone"), "cores_free_signal": str(tmp_path / "free")}
    config.stash = pytest.Stash()
    config.stash[conftest._LAST_ALONE] = conftest.BUILD_TEST
    unit, page = _Item("tests/test_losses.py::test_a"), _Item("tests/test_browser.py::test_b[en-index]", "browser")
    unit.config = page.config = config

    def started(item, seconds=1.5) -> bool:
        runner = threading.Thread(target=conftest.pytest_runtest_setup, args=(item,), daemon=True)
        runner.start()
        runner.join(seconds)
        return not runner.is_alive()

    assert not started(unit)  # the build still trains
    (tmp_path / "free").write_text("")
    assert started(unit)
    assert not started(page)
    (tmp_path / "alone").write_text("")
    assert started(page, 5)


FAKE_SUITE = {
    "tests/test_book_build.py": """
import os, time
from pathlib import Path
import pytest

SHARED = Path(os.environ["FAKE_SUITE_SHARED"])

@pytest.mark.book_build
def test_book_builds_without_warnings(cores_free):
    cores_free()  # the English edition is built: the unit tests may start
    deadline = time.monotonic() + 30
    while not (SHARED / "unit-ran").exists():
        assert time.monotonic() < deadline, "no unit test ran while the Slovene edition was built"
        time.sleep(0.05)
    time.sleep(3)  # the rest of the Slovene edition: a browser test would start in this time, were it not held
    (SHARED / "build-done").write_text("")
""",
    "tests/test_unit.py": """
import os
from pathlib import Path

SHARED = Path(os.environ["FAKE_SUITE_SHARED"])

def test_a_unit_test():
    assert not (SHARED / "build-done").exists()
    (SHARED / "unit-ran").write_text("")
""",
    "tests/test_unit_2.py": """
import os
from pathlib import Path

SHARED = Path(os.environ["FAKE_SUITE_SHARED"])

def test_another_unit_test():  # xdist would hand this module to the build's process, to run after the build
    assert not (SHARED / "build-done").exists()
""",
    "tests/test_pages.py": """
import os
from pathlib import Path
import pytest

SHARED = Path(os.environ["FAKE_SUITE_SHARED"])

@pytest.mark.browser
def test_a_page():
    assert (SHARED / "build-done").exists(), "a browser test started before the build had ended"
""",
}


@pytest.mark.slow
def test_unit_tests_start_when_the_build_frees_a_core_and_browser_tests_wait_for_its_end(tmp_path):
    """The root ``conftest.py`` on a suite of stand-ins under ``pytest -n 2``: the build (in the group that runs
    alone) calls ``cores_free()`` and then waits for a unit test to have run on the other process; a browser test
    must still wait until the build has ended."""
    suite = tmp_path / "suite"
    files = {**FAKE_SUITE, "conftest.py": (ROOT / "conftest.py").read_text(), "pytest.ini": "[pytest]\n"}
    for name, text in files.items():
        (suite / name).parent.mkdir(parents=True, exist_ok=True)
        (suite / name).write_text(text)
    (tmp_path / "shared").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider", "-p", "no:nbval"],
        cwd=suite,
        env={**os.environ, "FAKE_SUITE_SHARED": str(tmp_path / "shared")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and "4 passed in" in done.stdout, done.stdout[-3000:]


def _stand_in_notebook(notebook, env, settings):
    """A notebook's execution for ``build_book.execute_all``: b.ipynb takes long, the others a moment."""
    import time

    import nbformat

    start = time.time()
    time.sleep(1.5 if notebook == "b.ipynb" else 0.05)
    return nbformat.writes(nbformat.v4.new_notebook()), start, time.time(), None, None


@pytest.mark.slow  # worker processes
@pytest.mark.parametrize("kernels", [2, 3])
def test_the_build_frees_a_kernel_once_no_notebook_waits_for_one(monkeypatch, tmp_path, capsys, kernels):
    """The build says so when a kernel has nothing left to execute (its test then starts the unit tests beside the
    last notebook): once, after the short notebooks, before the long one ends; the results stay in the TOC's order."""
    import build_book

    names = "abcd"[: kernels + 1]  # b takes long
    monkeypatch.setattr(build_book, "notebooks", lambda: [f"{n}.ipynb" for n in names])  # in the TOC's order
    monkeypatch.setattr(build_book, "KERNELS", kernels)
    monkeypatch.setattr(build_book, "cores", lambda: kernels)
    monkeypatch.setattr(build_book, "execute_one", _stand_in_notebook)
    monkeypatch.setattr(build_book, "EXECUTION_CACHE", tmp_path / "cache")
    monkeypatch.setattr(build_book, "PROFILES", tmp_path / "profile")
    code, windows, executed, info = build_book.execute_all({})
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and list(windows) == list(names) and list(executed) == [f"{n}.ipynb" for n in names]
    said = [i for i, line in enumerate(lines) if line.startswith(build_book.KERNEL_FREE)]
    done = {n: next(i for i, line in enumerate(lines) if f"{n}.ipynb: Executed notebook" in line) for n in names}
    assert len(said) == 1, lines
    assert done["a"] < said[0] < done["b"] and done["c"] < said[0], lines
    assert lines[-1].startswith("Executed every notebook") and info["kernels"] == kernels, lines
