"""The linter: ``ruff check`` (configured in pyproject.toml) finds nothing in the repository."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a subprocess (the tiers are in conftest.py)

ROOT = Path(__file__).resolve().parents[1]


def ruff(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", *args], capture_output=True, text=True, cwd=cwd)


def test_ruff_finds_nothing_in_the_repository():
    done = ruff(".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_configured_rules_catch_an_unused_import_and_an_undefined_name(tmp_path):
    """The configuration is the one the repository test uses, and it does flag real mistakes."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n\n\ndef f():\n    return undefined_name\n")
    done = ruff("--config", str(ROOT / "pyproject.toml"), str(bad), cwd=tmp_path)
    assert done.returncode == 1
    assert "F401" in done.stdout and "F821" in done.stdout
