"""Shared fixtures: the data root, seeding, the MNIST splits (skipped when absent), a headless Chromium
(``browser``); ``scripts/`` on the path. Shared helpers that are not fixtures are in ``tests/helpers.py``.

The data root is ``$THESIS_LIB_DATA``; when it is unset and the repository sits next to the
project's read-only data mirror (``<repo>/../shared/data``), that mirror is used.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
sys.path.insert(0, str(REPO_ROOT / "scripts"))  # the book's scripts (book_toc: the pages of _toc.yml)
sys.path.insert(0, str(REPO_ROOT))  # book_tools/, the book's tooling (not in the installed library)

if not os.environ.get("THESIS_LIB_DATA") and SHARED_DATA.is_dir():
    os.environ["THESIS_LIB_DATA"] = str(SHARED_DATA)

# One intra-op thread: the tiny models here gain nothing from more, and on a busy 2-core machine
# OpenMP threads that wait on each other make small ops 10-100x slower. Results are
# deterministic either way; this only keeps the suite fast.
torch.set_num_threads(1)

from thesis_lib.data import _RAW_FILES, data_root, load_dataset  # noqa: E402
from thesis_lib.seed import seed_everything  # noqa: E402

RAW_NAMES = [*_RAW_FILES[True], *_RAW_FILES[False]]


def image_data_available(folder: str) -> bool:
    """All four IDX files of ``folder`` (``MNIST`` or ``FashionMNIST``) exist under the data root."""
    raw = data_root() / folder / "raw"
    return all((raw / f).exists() or (raw / f"{f}.gz").exists() for f in RAW_NAMES)


def _skip_reason(folder: str) -> str:
    return (
        f"{folder} not found in {data_root() / folder / 'raw'}: set THESIS_LIB_DATA to a folder "
        f"holding {folder}/raw (e.g. the project's ../shared/data)"
    )


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same global RNG state."""
    seed_everything(0)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (``tests/browser_support.py``), one per test module; skipped where it is missing (in CI,
    ``CI=true``, that fails)."""
    import browser_support

    with browser_support.launch() as b:
        yield b


@pytest.fixture
def require_mnist():
    if not image_data_available("MNIST"):
        pytest.skip(_skip_reason("MNIST"))


@pytest.fixture
def require_fashion_mnist():
    if not image_data_available("FashionMNIST"):
        pytest.skip(_skip_reason("FashionMNIST"))


@pytest.fixture
def mnist_train(require_mnist):
    """MNIST train[:50000] (parsed once per process: the IDX loader is cached)."""
    return load_dataset("mnist", "train")


@pytest.fixture
def mnist_small(mnist_train):
    """The first 256 MNIST training images: enough for a few quick epochs."""
    return mnist_train.subset(256)
