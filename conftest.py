"""Root pytest configuration: the order of the README's test command.

It runs, in order:

1. the unit tests (``tests/``);
2. the Jupyter Book build with warnings as errors (``tests/test_book_build.py``, marked
   ``book_build``). In CI the run cache is empty at this point, so the build trains every chapter's
   models, as a reader's first build does, and the pages it renders are those of a cold build;
3. the browser tests (``tests/test_browser.py`` and the others marked ``book_build`` and
   ``browser``), which check that HTML in headless Chromium, e.g. that no page shows a progress bar,
   and ``tests/test_pdf.py``, which prints it to ``_build/pdf/book.pdf`` (``scripts/pdf.py``) and reads that back;
4. every chapter notebook under nbval (``book/*.ipynb``, ``--nbval-lax``: cells marked
   ``# NBVAL_CHECK_OUTPUT`` are compared with their stored output). They come last so that they
   reuse the runs the build just trained instead of training every model a second time.
"""


def pytest_configure(config):
    config.addinivalue_line("markers", "book_build: builds the Jupyter Book; runs after all other tests")
    config.addinivalue_line("markers", "browser: checks the built book in Chromium; runs after the book build")


def _order(item) -> int:
    if str(item.fspath).endswith(".ipynb"):
        return 3
    if item.get_closest_marker("book_build") is None:
        return 0
    return 2 if item.get_closest_marker("browser") is not None else 1


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=_order)  # stable: the order within each group is kept


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
