"""Root pytest configuration: the test tiers and the order of the README's test command.

Every test belongs to one tier, named by a marker (``pytest -m <tier>`` runs one):

* ``unit``: everything not in another tier (added here automatically). Seconds each, no
  training beyond a few tiny steps, no subprocess, no browser: ``pytest -m unit`` is the inner
  loop of a developer (about a minute).
* ``slow``: unit tests that train on MNIST, start subprocesses (the CLI, nbgrader, a wheel build,
  Sphinx's gettext) or need the judge CNN (trained once per run cache, about a minute); marked in
  the test files, and every test that uses the ``classifier`` fixture.
  ``pytest -m "unit or slow"`` runs all unit tests.
* ``book_build``: the Jupyter Book build with warnings as errors (``tests/test_book_build.py``).
  In CI the run cache is empty at this point, so the build trains every chapter's models, as a
  reader's first build does, and the pages it renders are those of a cold build.
* ``browser``: headless Chromium (Debian's ``chromium``) on the built pages (``tests/test_browser.py``,
  ``tests/test_pdf.py``, which prints them to ``_build/pdf/book.pdf``, ``tests/test_jupyterlab.py``)
  and on widgets written to a folder (``tests/test_widgets_browser.py``).
* ``notebook``: every chapter notebook under nbval (``book/*.ipynb``, ``--nbval-lax``: cells
  marked ``# NBVAL_CHECK_OUTPUT`` are compared with their stored output).

``pytest`` runs them all in this order: unit and slow, the book build, the browser tests, the
notebooks. The notebooks come last so that they reuse the runs the build just trained instead
of training every model a second time.
"""

TIERS = {
    "unit": "fast unit tests (no MNIST training, subprocess, browser or notebook): the inner loop",
    "slow": "unit tests that train on MNIST, start subprocesses or need the judge CNN",
    "book_build": "builds the Jupyter Book; runs after the unit tests",
    "browser": "checks pages or widgets in headless Chromium; runs after the book build",
    "notebook": "a chapter notebook's cell under nbval; runs last",
}


def pytest_configure(config):
    for name, text in TIERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")


def pytest_collection_modifyitems(session, config, items):
    import pytest

    for item in items:
        if str(item.fspath).endswith(".ipynb"):
            item.add_marker(pytest.mark.notebook)
        elif "classifier" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)  # the judge CNN: about a minute on a cold run cache
        if not any(item.get_closest_marker(tier) for tier in TIERS if tier != "unit"):
            item.add_marker(pytest.mark.unit)
    items.sort(key=_order)  # stable: the order within each group is kept


def _order(item) -> int:
    if item.get_closest_marker("notebook"):
        return 3
    if item.get_closest_marker("browser"):
        return 2
    return 1 if item.get_closest_marker("book_build") else 0


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
