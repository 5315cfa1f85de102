"""Root pytest configuration: run the book's build test after everything else.

The README's test command runs, in order: the unit tests (``tests/``), every chapter notebook
under nbval (``book/*.ipynb``, ``--nbval-lax``: cells marked ``# NBVAL_CHECK_OUTPUT`` are
compared with their stored output), and finally the Jupyter Book build with warnings as errors
(``tests/test_book_build.py``, marked ``book_build``). The build comes last so that it reuses the
training runs the notebooks just cached, instead of training every model a second time.
"""


def pytest_configure(config):
    config.addinivalue_line("markers", "book_build: builds the Jupyter Book; runs after all other tests")


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: item.get_closest_marker("book_build") is not None)
