"""The book builds with warnings as errors, and the committed notebooks hold no stale outputs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import book_toc
from thesis_lib.cache import runs_root

ROOT = Path(__file__).resolve().parents[1]
BUILD_INFO = ROOT / "_build" / "build_info.json"  # read by the browser tests


def finished_runs() -> set[str]:
    """The cached runs (``<model>-<key>`` folders with a checkpoint) in the run cache."""
    root = runs_root()
    return {p.parent.name for p in root.glob("*-*/checkpoint.pt")} if root.is_dir() else set()


@pytest.mark.slow
def test_notebooks_keep_only_check_outputs():
    """Only '# NBVAL_CHECK_OUTPUT' cells keep outputs; the book shows freshly executed ones."""
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "notebooks.py"), "check"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


def run_and_time_notebooks(command: list[str]) -> tuple[int, str, dict[str, float]]:
    """Run the build, reading its log as it comes: (return code, log, seconds per executed notebook).

    A notebook's time runs from its "Executing notebook" line to the next line that is not its
    kernel's chatter (Sphinx reading the next page): what a reader's cold build of that chapter
    costs, when the run cache is empty."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # lines as they happen, not when a pipe buffer fills
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env)
    lines, seconds, current = [], {}, None
    for line in proc.stdout:
        now = time.perf_counter()
        lines.append(line)
        executing = re.search(r"book/(\w+)\.ipynb: Executing notebook", line)
        if current and (executing or "Kernel" not in line):
            seconds[current[0]] = round(now - current[1], 1)
            current = None
        if executing:
            current = (executing.group(1), now)
    return proc.wait(), "".join(lines), seconds


@pytest.mark.book_build
def test_book_builds_without_warnings():
    # the README's build: the English book (jupyter-book build . -W --keep-going), then the
    # Slovene edition from its executed notebooks (scripts/build_book.py)
    before = finished_runs()
    start = time.perf_counter()
    returncode, log, seconds = run_and_time_notebooks([sys.executable, str(ROOT / "scripts" / "build_book.py"), "-W", "--keep-going"])
    # which runs the build trained itself (all of them when it started from an empty run cache), and how long each chapter took
    BUILD_INFO.parent.mkdir(parents=True, exist_ok=True)
    translations = {lang: float(s) for lang, s in re.findall(r"The (\w+) edition took (\d+) s", log)}
    info = {
        "cached_before": len(before), "trained": sorted(finished_runs() - before), "build_seconds": round(time.perf_counter() - start, 1),
        "notebook_seconds": seconds, "translation_seconds": translations,
    }
    BUILD_INFO.write_text(json.dumps(info, indent=1) + "\n")
    assert returncode == 0, log[-5000:]
    # Sphinx warnings fail the build under -W; this also catches any that --keep-going reported.
    # (ipykernel's own log line about running over TCP is not a Sphinx warning.)
    warnings = [line for line in log.splitlines() if "WARNING" in line and "Kernel is running over TCP" not in line]
    assert not warnings, warnings[:20]
    html = ROOT / "_build" / "html"
    for page in book_toc.pages():
        assert (html / f"{page}.html").exists(), page
        assert (html / "sl" / f"{page}.html").exists(), f"sl/{page}"
    # the Slovene edition reuses the executed notebooks: it executes nothing
    assert "sl" in translations, log[-3000:]
    translation_log = log.split("Building the sl edition", 1)[1]
    assert "Executing notebook" not in translation_log, "the Slovene edition executed a notebook"
