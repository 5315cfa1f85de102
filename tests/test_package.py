"""The installable package: ``pip install .`` gives a working library outside the repository.

The test builds the wheel from the package's own files (a copy of ``pyproject.toml``,
``README.md`` and ``thesis_lib/``, so nothing else of the repository can leak in), installs it
into a temporary folder and, from another working directory with only that folder on the path,
trains a tiny model, explores it (the static HTML reads the package's non-Python files) and
reads the papers' stored results (package data). Nothing reaches the network: the wheel is built
with the environment's setuptools (``--no-build-isolation``) and installed without dependencies.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds and installs a wheel, trains in a subprocess

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "thesis_lib"


def _package_data_files() -> list[str]:
    """Every non-Python file of the package (what the wheel must carry), relative to the root."""
    return sorted(
        p.relative_to(ROOT).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(PACKAGE, src / "thesis_lib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path_factory.mktemp("dist")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            str(src),
            "-w",
            str(dist),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    wheels = list(dist.glob("thesis_lib-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_carries_every_package_file_and_pins_no_torch(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    data = _package_data_files()
    assert any(n.endswith(".json") for n in data), "the papers' stored results should be package data"
    missing = [n for n in data if n not in names]
    assert not missing, f"non-Python files of the package missing from the wheel: {missing}"
    modules = sorted(p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
    assert [m for m in modules if m not in names] == []
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    torch_reqs = [r for r in requires if r.split()[0].split(";")[0].lower() in ("torch", "torchvision")]
    assert len(torch_reqs) == 2 and not any("==" in r for r in torch_reqs), (
        f"torch must not be pinned exactly (Colab ships its own): {torch_reqs}"
    )
    assert "thesis-lib = thesis_lib.cli:main" in entry_points
    assert not [n for n in names if n.startswith("book_tools/")], "the book's tooling stays beside the book"


SCRIPT = r"""
import json, sys
from pathlib import Path
import torch
torch.set_num_threads(1)
import thesis_lib
from thesis_lib import VAEConfig, load, load_dataset, papers, train, widgets
from thesis_lib.callbacks import StopAfter

data = load_dataset("mnist", "train").subset(512)
run = train(VAEConfig(hidden_dims=(32,), latent_dim=2), "run", epochs=1, batch_size=64, callbacks=[StopAfter(5)],
            data=data, progress=False, validate=False)
model = load("run")
explorer = widgets.explore(model, data.subset(256), steps=3)
html = explorer.static_html()
results = {name: papers.load_result(name)["name"] for name in papers.EXPERIMENTS}
stored = papers.stored_results_dir()
print(json.dumps({
    "file": thesis_lib.__file__, "steps": run.global_step, "sample": list(model.sample(4).shape),
    "html": len(html), "script": "<script>" in html and "tl-latent" in html,
    "results": results, "stored": str(stored), "pngs": sorted(p.name for p in stored.glob("*.png")),
}))
"""


@pytest.mark.usefixtures("require_mnist")
def test_installed_wheel_trains_and_explores_from_another_directory(wheel, tmp_path):
    site = tmp_path / "site"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--no-compile",
            "-q",
            "--target",
            str(site),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "THESIS_LIB_RUNS": str(tmp_path / "runs")}
    r = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert Path(out["file"]).resolve().is_relative_to(site.resolve()), (
        f"imported {out['file']}, not the installed wheel in {site}"
    )
    assert out["steps"] == 5 and out["sample"] == [4, 1, 28, 28]
    assert out["script"] and out["html"] > 1000
    assert Path(out["stored"]).resolve().is_relative_to(site.resolve())
    assert set(out["results"]) == set(out["results"].values()) and out["results"]
    assert out["pngs"], "the stored sample grids should be installed with the results"
    assert (elsewhere / "run" / "checkpoint.pt").exists()

    def cli(*args: str) -> subprocess.CompletedProcess:
        """The installed command, run from outside the repository."""
        command = [sys.executable, "-m", "thesis_lib", *args]
        return subprocess.run(command, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)

    # the console script is installed too, and answers from outside the repository
    r = cli("reproduce", "--list")
    assert r.returncode == 0 and "gan-parzen" in r.stdout, r.stderr
    assert (site / "bin" / "thesis-lib").exists()
    # the classroom edition needs the book's repository: outside it, one line says so
    r = cli("classroom", "class")
    assert r.returncode == 2 and "clone of the book's repository" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (elsewhere / "class").exists(), r.stderr
