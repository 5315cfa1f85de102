"""The linter and the formatter: ``ruff check`` and ``ruff format --check`` (configured in pyproject.toml)
find nothing in the repository."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a subprocess (the tiers are in conftest.py)

ROOT = Path(__file__).resolve().parents[1]


def ruff(*args: str, cwd: Path = ROOT, command: str = "check") -> subprocess.CompletedProcess:
    options = ["--output-format", "concise"] if command == "check" else ["--check"]
    return subprocess.run(
        [sys.executable, "-m", "ruff", command, "--no-cache", *options, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def test_ruff_finds_nothing_in_the_repository():
    done = ruff(".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_python_files_are_formatted():
    done = ruff(".", command="format")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_configured_rules_catch_an_unused_import_and_an_undefined_name(tmp_path):
    """The configuration is the one the repository test uses, and it does flag real mistakes."""
    bad = tmp_path / "bad.py"
    bad.write_text("import sys\nimport os\n\n\ndef f():\n    return undefined_name  # " + "x" * 120 + "\n")
    done = ruff("--config", str(ROOT / "pyproject.toml"), str(bad), cwd=tmp_path)
    assert done.returncode == 1
    assert all(rule in done.stdout for rule in ("F401", "F821", "E501", "I001")), done.stdout
    unformatted = tmp_path / "unformatted.py"
    unformatted.write_text("x = {'a':1}\n")
    assert (
        ruff("--config", str(ROOT / "pyproject.toml"), str(unformatted), cwd=tmp_path, command="format").returncode == 1
    )
