"""The book builds with warnings as errors, and the committed notebooks hold no stale outputs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import book_toc
import pytest
from build_book import KERNEL_FREE  # what it prints when a kernel has nothing left to execute
from helpers import default_threads_env

ROOT = Path(__file__).resolve().parents[1]
BUILD_INFO = ROOT / "_build" / "build_info.json"  # read by the browser tests


@pytest.mark.slow
def test_notebooks_keep_only_check_outputs():
    """Only '# NBVAL_CHECK_OUTPUT' cells keep outputs; the book shows freshly executed ones."""
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "notebooks.py"), "check"], capture_output=True, text=True, cwd=ROOT
    )
    assert r.returncode == 0, r.stdout + r.stderr


EXECUTED = "Executed every notebook"
"""What ``scripts/build_book.py`` prints when every notebook is executed: nothing trains after it."""
ENGLISH_EDITION = "Building the English edition"
SLOVENE_EDITION = "Building the sl edition"
"""What ``scripts/build_book.py`` prints when the English edition is built and the Slovene one begins."""


@pytest.mark.book_build
def test_book_builds_without_warnings(cores_free):
    # the README's build: the English book (jupyter-book build . -W --keep-going), then the
    # Slovene edition from its executed notebooks (scripts/build_book.py, which writes build_info.json)
    build = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "build_book.py"), "-W", "--keep-going"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env=default_threads_env(),  # the reader's build: its kernels' threads are build_book.py's, not the tests'
    )
    lines = []
    for line in build.stdout:
        lines.append(line)
        if line.startswith((KERNEL_FREE, EXECUTED)):
            # one kernel is left, or none (Sphinx, one core): the unit tests may start beside (conftest.py)
            cores_free()
    log = "".join(lines)
    assert build.wait() == 0, log[-5000:]
    # Sphinx warnings fail the build under -W; this also catches any that --keep-going reported.
    # (ipykernel's own log line about running over TCP is not a Sphinx warning.)
    warnings = [line for line in log.splitlines() if "WARNING" in line and "Kernel is running over TCP" not in line]
    assert not warnings, warnings[:20]
    html = ROOT / "_build" / "html"
    for page in book_toc.pages():
        assert (html / f"{page}.html").exists(), page
        assert (html / "sl" / f"{page}.html").exists(), f"sl/{page}"
    # the Slovene edition reuses the executed notebooks: it executes nothing
    info = json.loads(BUILD_INFO.read_text())
    assert "sl" in info["translation_seconds"], log[-3000:]
    english_log, translation_log = log.split(ENGLISH_EDITION, 1)[1].split(SLOVENE_EDITION, 1)
    assert "Executing notebook" not in translation_log, "the Slovene edition executed a notebook"
    # the notebooks were executed two at a time before: myst-nb took every one from that build's cache
    assert "Executing notebook" not in english_log, "myst-nb executed a notebook the build had executed"
    # (every notebook Sphinx read: all of them in a first build, none when the book is built and nothing changed)
    plain = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", english_log)
    reading = plain.split("reading sources...", 1)[-1].split("looking for now-outdated files", 1)[0]
    read = [nb for nb in book_toc.notebooks() if re.search(rf"{re.escape(nb.removesuffix('.ipynb'))}\b", reading)]
    assert english_log.count("Using cached notebook") == len(read), english_log[-3000:]
    assert info["kernels"] >= 1 and info["threads"] >= 1 and info["execution_seconds"] > 0, info
    # ... and said when a kernel had nothing left to do, before the last notebook ended
    assert (KERNEL_FREE in log.split(EXECUTED, 1)[0]) == (info["kernels"] > 1), log[-3000:]
    # every executed chapter has its time and where it went
    assert set(info["notebook_seconds"]) == set(info["profile"]) == {Path(p).stem for p in book_toc.notebooks()}, info
    # ... started in the TOC's order (two at a time): each chapter trains its own runs, later pages reuse them
    assert list(info["notebook_seconds"]) == [Path(p).stem for p in book_toc.notebooks()], info["notebook_seconds"]
    for name, row in info["profile"].items():
        assert "kernel start and imports" in row and "other" in row, (name, row)
        assert sum(row.values()) <= info["notebook_seconds"][name] + 1, (name, row)


@pytest.mark.book_build
def test_every_chapter_run_is_diagnosed_healthy():
    """`thesis_lib.diagnose` finds no failure signature in any run the book trained (issue 23: the chapters'
    runs are the healthy counterparts of the gallery's failures). Runs after the build, which fills the run cache."""
    from thesis_lib import diagnose
    from thesis_lib.cache import runs_root
    from thesis_lib.checkpoint import CHECKPOINT

    runs = sorted(p.parent for p in runs_root().glob(f"*/{CHECKPOINT}"))
    assert {p.name.split("-")[0] for p in runs} >= {"ae", "gan", "vae", "aae"}, runs  # the build trained each kind
    found = {p.name: [f"{f.name}: {f.explanation}" for f in diagnose(p)] for p in runs}
    assert not {name: f for name, f in found.items() if f}, found


@pytest.mark.book_build
@pytest.mark.parametrize("edition", ["", "sl/"])
def test_every_signature_that_diagnose_prints_has_its_section(edition):
    """`thesis-lib diagnose` points each finding at `failures.html#<name>`: the built page (both editions) has an
    element with that id, a section heading of its own."""
    import re

    from thesis_lib.diagnosis import PAGE, SIGNATURES

    page = ROOT / "_build" / "html" / edition / "book" / PAGE
    text = page.read_text()
    for s in SIGNATURES:
        assert re.search(rf'<section id="{re.escape(s.name)}"|id="{re.escape(s.name)}"', text), (edition, s.name)


@pytest.mark.unit
def test_pages_are_read_in_the_order_of_the_toc():
    """_ext/toc_order.py puts Sphinx's reading (and so myst-nb's execution) in the order of _toc.yml: the chapters
    before the comparison and the papers page that reuse their runs, whatever the pages' names sort as."""
    from sphinx_external_toc.parsing import parse_toc_yaml

    sys.path.insert(0, str(ROOT / "_ext"))
    import toc_order

    site_map = parse_toc_yaml(ROOT / "_toc.yml")
    assert toc_order.toc_order(site_map) == book_toc.pages()

    class App:
        class config:
            external_site_map = site_map

    docnames = sorted([*book_toc.pages(), "book/zz_orphan", "a_orphan"])  # Sphinx's order: alphabetical
    toc_order.reorder(App, None, docnames)
    assert docnames == [*book_toc.pages(), "a_orphan", "book/zz_orphan"]
    assert docnames.index("book/gan") < docnames.index("book/comparison") < docnames.index("book/papers")


def test_the_build_starts_every_notebook_once_and_each_page_after_the_chapters_it_reuses():
    """``scripts/build_book.py`` starts the longest notebooks first, two at a time: every notebook of the TOC once,
    the comparison after the GAN chapter (whose run it reuses), the papers page after the VAE chapter (its 2-D
    model); a notebook it does not list starts after those it lists, in the TOC's order."""
    import build_book

    toc = book_toc.notebooks()
    order = build_book.starting_order(toc)
    assert sorted(order) == sorted(toc) and len(order) == len(set(order))
    assert order.index("book/comparison.ipynb") > order.index("book/gan.ipynb")
    assert order.index("book/papers.ipynb") > order.index("book/vae.ipynb")
    assert build_book.starting_order(["book/new.ipynb", *toc])[len(build_book.STARTING_ORDER)] == "book/new.ipynb"
