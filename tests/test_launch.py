"""Running the chapters elsewhere: the Colab install cell, the Binder configuration, and the data
download that both rely on. Nothing here reaches the network: Colab is simulated by a stand-in
``google.colab`` module and a recording ``subprocess.run``; Binder cannot be tried offline, so its
files are checked against Binder's documented layout."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest
import torchvision
import yaml

from book_tools.toc import toc_notebooks
from conftest import RAW_NAMES
from thesis_lib import data as data_mod

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
URL = CONFIG["repository"]["url"].rstrip("/")
BRANCH = CONFIG["repository"].get("branch", "main")
CHAPTERS = toc_notebooks(ROOT)


def _first_cell(path: Path):
    return nbformat.read(path, as_version=4).cells[0]


# ----------------------------------------------------------------------------- Colab
def _notebooks_script():
    """scripts/notebooks.py as a module (in-process: the library is already imported here)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("notebooks_script", ROOT / "scripts" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_chapter_starts_with_the_current_colab_cell(capsys):
    script = _notebooks_script()
    assert script.cmd_colab([], check=True) == 0, capsys.readouterr().out
    assert script.notebooks() == [p.relative_to(ROOT).as_posix() for p in CHAPTERS.values()]
    assert len(CHAPTERS) >= 6
    for name, path in CHAPTERS.items():
        cell = _first_cell(path)
        assert cell.cell_type == "code" and "remove-cell" in cell.metadata.get("tags", []), (
            f"{name}: the first cell must be the Colab cell, tagged remove-cell"
        )
        assert f"git+{URL}@{BRANCH}" in cell.source, (
            f"{name}: the Colab cell must install from _config.yml's repository.url ({URL})"
        )
        assert '"google.colab" in sys.modules' in cell.source and not cell.outputs


def _run_cell(source: str, monkeypatch, on_colab: bool) -> list[list[str]]:
    calls = []
    monkeypatch.setattr(
        subprocess, "run", lambda cmd, **kw: calls.append(list(cmd)) or subprocess.CompletedProcess(cmd, 0)
    )
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(source, "<colab cell>", "exec"), {})
    return calls


def test_colab_cell_installs_the_library_only_on_colab(monkeypatch):
    source = _first_cell(CHAPTERS["ae"]).source
    assert _run_cell(source, monkeypatch, on_colab=False) == [], "the Colab cell must do nothing outside Colab"
    calls = _run_cell(source, monkeypatch, on_colab=True)
    assert len(calls) == 1
    cmd = calls[0]
    assert cmd[:4] == [sys.executable, "-m", "pip", "install"]
    requirement = cmd[-1]
    assert requirement == f"thesis-lib @ git+{URL}@{BRANCH}"
    assert not any(re.match(r"torch(vision)?\s*==", a) for a in cmd), "never pin torch on Colab (it ships its own)"


def test_colab_data_downloads_through_torchvision_into_the_default_cache(monkeypatch, tmp_path, require_mnist):
    """No THESIS_LIB_DATA and an empty cache (a fresh Colab machine): torchvision downloads MNIST."""
    source = data_mod.data_root() / "MNIST" / "raw"
    if not all((source / n).exists() for n in RAW_NAMES):
        pytest.skip("needs the decompressed IDX files to stand in for the download")
    monkeypatch.delenv(data_mod.DATA_ENV, raising=False)
    monkeypatch.setattr(data_mod, "DEFAULT_ROOT", tmp_path / "cache")
    fetched = []

    def download(self):  # stands in for the network
        Path(self.raw_folder).mkdir(parents=True, exist_ok=True)
        for name in RAW_NAMES:
            shutil.copyfile(source / name, Path(self.raw_folder) / name)
            fetched.append(name)

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", download)
    data_mod._load_idx.cache_clear()
    try:
        test = data_mod.load_dataset("mnist", "test")
    finally:
        data_mod._load_idx.cache_clear()
    assert len(test) == 10_000 and sorted(fetched) == sorted(RAW_NAMES)
    assert data_mod.data_root() == tmp_path / "cache" and (tmp_path / "cache" / "MNIST" / "raw" / RAW_NAMES[0]).exists()


@pytest.mark.book_build
@pytest.mark.browser
def test_rendered_book_hides_the_colab_cell():
    from browser_support import BOOK_HTML as HTML
    from browser_support import unavailable as _unavailable

    if not (HTML / "index.html").exists():
        _unavailable(f"the book is not built: no {HTML / 'index.html'}")
    for name, path in CHAPTERS.items():
        page = (HTML / path.relative_to(ROOT)).with_suffix(".html")
        assert page.exists(), page
        html = page.read_text(encoding="utf-8")
        assert "google.colab" not in html and "git+" not in html, (
            f"{page}: the Colab cell must be removed from the book"
        )


# ----------------------------------------------------------------------------- Binder
def test_binder_configuration_follows_the_documented_layout():
    """repo2docker reads binder/: requirements.txt (pip), runtime.txt (python-X.Y), postBuild (executable)."""
    binder = ROOT / "binder"
    lines = [line.split("#")[0].strip() for line in (binder / "requirements.txt").read_text().splitlines()]
    lines = [line for line in lines if line]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines, "Binder has no GPU: torch's CPU build"
    includes = [line.split(None, 1)[1] for line in lines if line.startswith("-r ")]
    assert includes == ["../requirements.txt"] and (binder / includes[0]).resolve() == ROOT / "requirements.txt"
    pinned = (ROOT / "requirements.txt").read_text()
    assert re.search(r"^torch==\S+", pinned, flags=re.M) and re.search(r"^jupyterlab-myst==\S+", pinned, flags=re.M)
    assert re.fullmatch(r"python-3\.1[0-9]\s*", (binder / "runtime.txt").read_text())
    post = binder / "postBuild"
    assert os.access(post, os.X_OK) and post.read_text().startswith("#!")
    assert re.search(r"pip install (--no-deps )?\.$", post.read_text(), flags=re.M), "postBuild installs the library"
    assert CONFIG["launch_buttons"]["binderhub_url"] and CONFIG["launch_buttons"]["notebook_interface"] == "jupyterlab"
