"""The book builds with warnings as errors, and the committed notebooks hold no stale outputs."""

from __future__ import annotations

import json
import subprocess
import sys
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


def test_notebooks_keep_only_check_outputs():
    """Only '# NBVAL_CHECK_OUTPUT' cells keep outputs; the book shows freshly executed ones."""
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "notebooks.py"), "check"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.book_build
def test_book_builds_without_warnings():
    jb = Path(sys.executable).parent / "jupyter-book"
    before = finished_runs()
    r = subprocess.run([str(jb), "build", ".", "-W", "--keep-going"], capture_output=True, text=True, cwd=ROOT)
    log = r.stdout + r.stderr
    # which runs the build trained itself (all of them when it started from an empty run cache)
    BUILD_INFO.parent.mkdir(parents=True, exist_ok=True)
    BUILD_INFO.write_text(json.dumps({"cached_before": len(before), "trained": sorted(finished_runs() - before)}, indent=1) + "\n")
    assert r.returncode == 0, log[-5000:]
    # Sphinx warnings fail the build under -W; this also catches any that --keep-going reported.
    # (ipykernel's own log line about running over TCP is not a Sphinx warning.)
    warnings = [line for line in log.splitlines() if "WARNING" in line and "Kernel is running over TCP" not in line]
    assert not warnings, warnings[:20]
    html = ROOT / "_build" / "html"
    for page in book_toc.pages():
        assert (html / f"{page}.html").exists(), page
