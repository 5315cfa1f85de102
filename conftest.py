"""Root pytest configuration: the test tiers and the order of the README's test command.

Every test belongs to one tier, named by a marker (``pytest -m <tier>`` runs one):

* ``unit``: everything not in another tier (added here automatically). Seconds each, no
  training beyond a few tiny steps, no subprocess, no browser: ``pytest -m unit`` is the inner
  loop of a developer (about a minute).
* ``slow``: unit tests that train on MNIST (the judge retrained and compared: a minute on one core), start
  subprocesses (the CLI, nbgrader, a wheel build, Sphinx's gettext) or need the judge CNN; marked in the test
  files, and every test that uses the ``classifier`` fixture.
  ``pytest -m "unit or slow"`` runs all unit tests.
* ``book_build``: the Jupyter Book build with warnings as errors (``tests/test_book_build.py``).
  In CI the run cache is empty at this point, so the build trains every chapter's models, as a
  reader's first build does, and the pages it renders are those of a cold build.
* ``browser``: headless Chromium (Debian's ``chromium``) on the built pages (``tests/test_browser.py``,
  ``tests/test_pdf.py``, which prints them to ``_build/pdf/book.pdf``, ``tests/test_jupyterlab.py``)
  and on widgets written to a folder (``tests/test_widgets_browser.py``).
* ``notebook``: every chapter notebook under nbval (``book/*.ipynb``, ``--nbval-lax``: cells
  marked ``# NBVAL_CHECK_OUTPUT`` are compared with their stored output).

``pytest`` runs them on two processes (pytest-xdist: ``-n 2`` in ``pyproject.toml``):

1. **the book build, alone.** Its two kernels (``scripts/build_book.py``) keep every core busy, so it runs
   first and every other test waits for it (:data:`ALONE`, :func:`pytest_runtest_setup`). Once no notebook
   waits for a kernel any more (the last one is executing, on one core) or every notebook is executed (what is
   left, the English and Slovene editions' Sphinx builds, runs on one core), the unit and slow tests (which need
   neither the pages nor the runs) start on the other process (:func:`cores_free`);
2. **everything else, on both processes**: unit and slow, then the browser tests, then the notebooks,
   which reuse the runs the build just trained instead of training every model a second time. Half of
   a browser test's time is one side waiting for the other (Python for Chromium and back), so two
   at a time keep both cores busy.

Each test belongs to a group (:func:`_group`): the tests of a module stay together, so a
module's fixtures (a wheel, a gettext build, the PDF print) are made once; ``tests/test_browser.py``
is split per edition and page (each page is loaded once, by one process); a notebook's cells share
one kernel; a module whose tests the tiers' order separates (unit tests first, build checks later) is two
scopes (:func:`scopes`). The process that runs the tests that run alone is given the last group beside them (xdist
gives every process a group ahead), not the next unit tests, which would wait for the build. ``pytest -n 0`` runs
everything in one process, in the order unit and slow, the build, the browser tests, the notebooks (the unit tests'
failures first).
"""

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

TIERS = {
    "unit": "fast unit tests (no MNIST training, subprocess, browser or notebook): the inner loop",
    "slow": "unit tests that train on MNIST, start subprocesses or need the judge CNN",
    "book_build": "builds the Jupyter Book (first and alone; with -n 0 after the unit tests) or needs it built",
    "browser": "checks pages or widgets in headless Chromium; runs after the book build",
    "notebook": "a chapter notebook's cell under nbval; runs last",
}


_SIGNAL_FOLDER = pytest.StashKey[Path]()


ONE_THREAD_ENV = "THESIS_LIB_TESTS_ONE_THREAD"
"""Set in pytest-xdist's processes, with ``OMP_NUM_THREADS=1``: see :func:`pytest_configure`."""


def pytest_configure(config):
    if _distributed(config) and not hasattr(config, "workerinput"):
        config.stash[_SIGNAL_FOLDER] = Path(tempfile.mkdtemp(prefix="thesis-lib-tests-"))
    if hasattr(config, "workerinput") and "OMP_NUM_THREADS" not in os.environ:
        # Two test processes share the two cores, so torch in their subprocesses (the notebooks' kernels,
        # the CLI, nbgrader, JupyterLab) gets one thread: two threads that wait on each other at every
        # operation ran a chapter's cell 4-10x slower beside the other process. The book build trains with
        # torch's default threads (tests/helpers.py: default_threads_env).
        os.environ["OMP_NUM_THREADS"] = "1"
        os.environ[ONE_THREAD_ENV] = "1"
    for name, text in TIERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")


BUILD_TEST = "tests/test_book_build.py::test_book_builds_without_warnings"
"""The book build (``tests/test_book_build.py``): under pytest-xdist it runs first and alone."""

ALONE = (BUILD_TEST,)
"""The tests that need both cores and run first, one after the other, while no other test runs (under
pytest-xdist): the book build (two kernels of one thread each on 2 cores). (The judge's check ran alone before
it, on torch's default two threads, until 2026-12-07: now it is a slow test on one core beside the others.)"""

ALONE_WAIT_S = 3600
"""How long the other tests wait for those of :data:`ALONE` (the cold build takes about 10 minutes)."""


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        if str(item.fspath).endswith(".ipynb"):
            item.add_marker(pytest.mark.notebook)
        elif "classifier" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)  # the judge CNN: about a minute on a cold run cache
        if not any(item.get_closest_marker(tier) for tier in TIERS if tier != "unit"):
            item.add_marker(pytest.mark.unit)
    items[:] = ordered(items, _distributed(config))


def ordered(items: list, build_first: bool = False) -> list:
    """The tests in the order they run: by tier (:func:`_order`), and within a tier each group's tests together
    (:func:`_group`; ``tests/test_browser.py``'s checks of one page follow each other, not check by check), in the
    order of their first test; otherwise in their collection's order."""
    by_tier = sorted(items, key=lambda item: _order(item, build_first))
    first: dict[tuple[int, str], int] = {}
    for i, item in enumerate(by_tier):
        first.setdefault((_order(item, build_first), _group(item.nodeid)), i)
    return sorted(by_tier, key=lambda item: first[_order(item, build_first), _group(item.nodeid)])


def _distributed(config) -> bool:
    """Whether this run's tests are spread over pytest-xdist's processes (``-n 2``, not ``-n 0``)."""
    return bool(getattr(config.option, "numprocesses", None)) or hasattr(config, "workerinput")


def _order(item, build_first: bool = False) -> int:
    if build_first and item.nodeid in ALONE:
        return ALONE.index(item.nodeid) - len(ALONE)
    if item.get_closest_marker("notebook"):
        return 3
    if item.get_closest_marker("browser"):
        return 2
    return 1 if item.get_closest_marker("book_build") else 0


def _group(nodeid: str) -> str:
    """The test's group: its tests run in one process, in their order (:func:`pytest_xdist_make_scheduler`).

    The tests that run alone (:data:`ALONE`) are a group; a chapter's cells are their notebook's (one kernel);
    the checks of ``tests/test_browser.py`` are grouped by their parameters, edition and page (the module's
    fixtures load each page once per process); every other test is grouped with its module (its fixtures are
    made once)."""
    if nodeid in ALONE:
        return "alone"
    module = nodeid.split("::", 1)[0]
    if module == "tests/test_browser.py" and nodeid.endswith("]"):
        return f"{module}[{nodeid.rsplit('[', 1)[1]}"
    return module


def scopes(nodeids: list[str]) -> dict[str, str]:
    """Each test's scope for the scheduler, from the run's tests in their order (:func:`_order`): its group
    (:func:`_group`), split where the order separates a group's tests. A module whose unit tests run first and whose
    other tests need the build (``tests/test_book_build.py``, ``tests/test_pdf.py``) is two scopes: a process that
    took the module with the unit tests would otherwise wait there for the build, with unit tests left to run."""
    out, runs, previous = {}, {}, None
    for nodeid in nodeids:
        group = _group(nodeid)
        if group != previous:
            runs[group] = runs.get(group, -1) + 1
        out[nodeid], previous = (f"{group} ({runs[group] + 1})" if runs[group] else group), group
    return out


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """xdist's scheduler by scope, with :func:`scopes` as the scope. (xdist's ``--dist loadgroup`` marks the
    group in the test's id, which pytest 9 no longer lets a plugin change.)"""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        _scopes: dict[str, str] = {}

        def schedule(self) -> None:
            if self.collection is None and self.registered_collections:  # the first time: the run's tests are known
                self._scopes = scopes(list(next(iter(self.registered_collections.values()))))
            super().schedule()

        def _split_scope(self, nodeid: str) -> str:
            return self._scopes.get(nodeid) or _group(nodeid)

        def _assign_work_unit(self, node) -> None:
            # xdist keeps a process a few tests ahead (a test runs once the next one is known): the process running
            # the tests that run alone gets the last group (a notebook's, which needs the build anyway), not the next
            # unit tests, which would wait there for the build while the other process could run them
            alone = self.assigned_work.get(node, {}).get(_group(BUILD_TEST), {})  # (the group of ALONE)
            if alone and not all(alone.values()) and self.workqueue:
                self.workqueue.move_to_end(next(reversed(self.workqueue)), last=False)
            super()._assign_work_unit(node)

    return GroupScheduling(config, log)


def _alone_done_signal(config) -> Path | None:
    """The file written when the last test that runs alone has finished (pass or fail), one per ``pytest`` run
    (:func:`pytest_configure_node` hands it to each process); ``None`` outside pytest-xdist's processes (one
    process runs the tests in order)."""
    path = getattr(config, "workerinput", {}).get("alone_done_signal")
    return Path(path) if path else None


def _cores_free_signal(config) -> Path | None:
    """The file the book build writes (:func:`cores_free`) when what is left of it needs one core only."""
    path = getattr(config, "workerinput", {}).get("cores_free_signal")
    return Path(path) if path else None


NEEDS_THE_BUILD = ("book_build", "browser", "notebook")
"""The tiers whose tests need the built pages or the runs the build trains: they wait until the build has ended.
A unit or slow test needs neither (``pytest -n 0`` runs them before the build)."""


@pytest.fixture
def cores_free(request):
    """A function the book build's test calls once the build needs one core only (its last notebook executes on
    one kernel, the other has nothing left to do; or every notebook is executed and the two editions' Sphinx
    builds, on one core, are left): the unit and slow tests may then start on the other process.
    Does nothing outside pytest-xdist."""
    path = _cores_free_signal(request.config)
    return (lambda: path.write_text(request.node.nodeid)) if path else (lambda: None)


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook, on the process that hands out the tests
def pytest_configure_node(node):
    folder = node.config.stash[_SIGNAL_FOLDER]
    node.workerinput["alone_done_signal"] = str(folder / "alone-done")
    node.workerinput["cores_free_signal"] = str(folder / "cores-free")


_LAST_ALONE = pytest.StashKey[str]()  # the node id of the last test of ALONE in this run ("" when none is)
_SEEN: set[str] = set()  # the signals this process has seen ("alone done", "cores free")


def pytest_collection_finish(session):
    # after every hook that deselects (-m, -k), so a test of ALONE that will not run is not waited for
    alone = [item.nodeid for item in session.items if item.nodeid in ALONE]
    session.config.stash[_LAST_ALONE] = max(alone, key=ALONE.index, default="")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    yield
    signal = _alone_done_signal(item.config)
    if signal is not None and item.nodeid == item.config.stash.get(_LAST_ALONE, None):
        signal.write_text(item.nodeid)  # the last of the tests that run alone has finished (pass or fail)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Under xdist every other test waits until the tests that run alone (:data:`ALONE`) have finished; a unit or
    slow test only until the build's training is over (:func:`cores_free`)."""
    done = _alone_done_signal(item.config)
    if done is None or item.nodeid in ALONE or not item.config.stash.get(_LAST_ALONE, ""):
        return
    needs_build = any(item.get_closest_marker(tier) for tier in NEEDS_THE_BUILD)
    if "alone done" in _SEEN or (not needs_build and "cores free" in _SEEN):
        return
    signals = {"alone done": done}
    if not needs_build:
        signals["cores free"] = _cores_free_signal(item.config)
    deadline = time.monotonic() + ALONE_WAIT_S
    while not (seen := {name for name, path in signals.items() if path.exists()}):
        if time.monotonic() > deadline:
            pytest.fail(f"the tests that run first and alone ({', '.join(ALONE)}) took over {ALONE_WAIT_S} s")
        time.sleep(1)
    _SEEN.update(seen | ({"cores free"} if "alone done" in seen else set()))


def pytest_unconfigure(config):
    folder = config.stash.get(_SIGNAL_FOLDER, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def _patch_nbval_output_timeout(seconds: int = 120) -> None:
    """nbval waits only 5 s (hard-coded) for a cell's output messages after it finishes; on a
    busy 2-core machine a kernel that has just trained a model can take longer, and the cell then
    fails with 'Timeout of 5 seconds exceeded waiting for output'. Give it more time."""
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:
        return
    original = IPyNbCell.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.output_timeout = max(getattr(self, "output_timeout", 5), seconds)

    IPyNbCell.__init__ = __init__


_patch_nbval_output_timeout()


GLUE_MIMETYPES = tuple(
    f"application/papermill.record/{m}"
    for m in (
        "text/plain",
        "text/html",
        "text/markdown",
        "text/latex",
        "image/png",
        "image/svg+xml",
        "application/json",
    )
)
"""What ``myst_nb.glue`` displays: ``scripts/notebooks.py`` stores a check cell's printed output only, so
nbval compares what the cell prints, not the values it hands to the page (those are checked by the
asserts that guard them and by the build)."""


def _patch_nbval_skip_glue() -> None:
    try:
        from nbval.plugin import IPyNbFile
    except ImportError:
        return
    original = IPyNbFile.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.skip_compare = tuple(self.skip_compare) + GLUE_MIMETYPES

    IPyNbFile.__init__ = __init__


_patch_nbval_skip_glue()
