"""The Colab install cell: the first cell of every chapter notebook. On Google Colab
(``"google.colab" in sys.modules``) it pip-installs the library from the repository that
``_config.yml`` names; anywhere else it does nothing. ``scripts/notebooks.py colab`` writes it,
and the classroom edition keeps it at the top of the student copies.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]

COLAB_ID = "colab-install"
COLAB_TAGS = ["remove-cell"]
COLAB_SOURCE = """\
# On Google Colab, install this book's library first (this cell does nothing anywhere else).
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "thesis-lib @ git+{url}@{branch}"], check=True)"""  # noqa: E501 (the cell's code as it is written)


def colab_source(config: Path = ROOT / "_config.yml") -> str:
    """The Colab cell's code for the repository that ``_config.yml`` names."""
    repo = yaml.safe_load(config.read_text())["repository"]
    url = repo["url"].rstrip("/")
    if not url.startswith("https://"):
        raise SystemExit(f"_config.yml repository.url must be an https URL of the repository, got {url!r}")
    return COLAB_SOURCE.format(url=url, branch=repo.get("branch", "main"))


def is_colab_cell(cell) -> bool:
    """Whether ``cell`` is a Colab install cell (by its id, or by its code for older copies)."""
    return cell.cell_type == "code" and (cell.get("id") == COLAB_ID or '"google.colab" in sys.modules' in cell.source)


def set_colab_cell(nb, source: str) -> bool:
    """Make the notebook's first cell the current Colab cell (insert or refresh); True if it changed."""
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": list(COLAB_TAGS)})
    cell.id = COLAB_ID
    old = nb.cells[0] if nb.cells and is_colab_cell(nb.cells[0]) else None
    if (
        old is not None
        and old.source == cell.source
        and old.metadata.get("tags") == COLAB_TAGS
        and old.get("id") == COLAB_ID
        and not old.outputs
    ):
        return False
    nb.cells = [cell] + [c for c in nb.cells if not is_colab_cell(c)]
    return True
