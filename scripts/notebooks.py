"""Execute, time and tidy the book's chapter notebooks.

The book never shows stale outputs: Jupyter Book executes every notebook afresh at build time
(``execute_notebooks: force`` in ``_config.yml``), and training results are cached by config and
library source hash (``train(..., cache=True)``), so a rebuild is fast but never stale.

The committed notebooks keep only the outputs that nbval compares: those of cells marked
``# NBVAL_CHECK_OUTPUT`` (small, deterministic numerical checks). Everything else is stripped.

    python scripts/notebooks.py run book/vae.ipynb     # execute in place, keep check outputs, print time
    python scripts/notebooks.py time                    # execute every chapter with a cold run cache;
                                                        # print times and profiles
    python scripts/notebooks.py check                   # fail if a notebook holds outputs it should not
    python scripts/notebooks.py colab                   # insert / refresh the Colab install cell of every chapter
    python scripts/notebooks.py colab --check           # fail if a chapter's first cell is not the current one
    python scripts/notebooks.py translate --lang sl OUT # the chapters in Slovene: OUT/<chapter>.ipynb
                                                        # (then: jupyter lab OUT)
    python scripts/notebooks.py translate --lang sl --check   # list every message without a translation; fail if any

The Colab cell is the first cell of every chapter notebook (those in ``_toc.yml``). On Google
Colab (``"google.colab" in sys.modules``) it pip-installs the library from the repository that
``_config.yml`` names (``repository.url`` and ``branch``: the one place of that URL); anywhere
else it does nothing. It is tagged ``remove-cell``, so the rendered book does not show it.
Re-run ``colab`` after changing the URL or adding a chapter.

The translated chapters (``translate``) are written from the catalogues of the Slovene edition
(``locales/<lang>/``) by ``notebook_i18n.py``: each markdown cell's paragraphs, headings, list
items, table cells, titles and math blocks carry the catalogue's translation; code cells are the
English ones. Messages without a translation stay English and are listed. ``OUT`` must be new or
empty (``--force``: replace the chapter notebooks in it). Give chapter notebooks after ``OUT``
(or after ``--check``) to translate only those.

The chapters are the notebooks of ``_toc.yml`` (see ``book_toc.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from book_toc import ROOT, notebooks
from nbclient import NotebookClient
from nbconvert.preprocessors import CoalesceStreamsPreprocessor

from book_tools.colab import colab_source, set_colab_cell

CHAPTERS = notebooks()
MARKER = "# NBVAL_CHECK_OUTPUT"
TIMEOUT = 900


def cmd_colab(paths: list[str], check: bool = False) -> int:
    source = colab_source()
    stale = []
    for p in paths or notebooks():
        nb = nbformat.read(ROOT / p, as_version=4)
        if set_colab_cell(nb, source):
            stale.append(p)
            if not check:
                nbformat.write(nb, ROOT / p)
    if check:
        print(
            "\n".join(
                f"{p}: the first cell is not the current Colab cell (run: python scripts/notebooks.py colab)"
                for p in stale
            )
            or "Colab cells are current"
        )
        return 1 if stale else 0
    print("\n".join(f"{p}: Colab cell written" for p in stale) or "Colab cells are current")
    return 0


def is_check_cell(cell) -> bool:
    return cell.cell_type == "code" and MARKER in cell.source


def tidy(nb) -> None:
    """Strip every output except those of check cells; clear the other cells' execution counts and metadata noise."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if is_check_cell(cell):
            cell.outputs = [
                o
                for o in cell.outputs
                if o.get("output_type") in ("stream", "execute_result") and o.get("name", "stdout") != "stderr"
            ]
            CoalesceStreamsPreprocessor().preprocess_cell(
                cell, {}, 0
            )  # one stdout chunk: the kernel splits prints by timing
            for o in cell.outputs:
                if o.get("output_type") == "execute_result":
                    o["data"] = {"text/plain": o["data"].get("text/plain", "")}
                    o["metadata"] = {}
        else:
            cell.outputs = []
            cell.execution_count = (
                None  # nbval refuses a cell with outputs but no execution count, so check cells keep theirs
            )
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    nb.metadata["language_info"] = {"name": "python"}  # the kernel adds its version details on every run


def execute(path: Path, env: dict[str, str] | None = None) -> tuple[float, "nbformat.NotebookNode"]:
    nb = nbformat.read(path, as_version=4)
    old = dict(os.environ)
    os.environ.update(env or {})
    try:
        start = time.perf_counter()
        NotebookClient(
            nb, timeout=TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        ).execute()
        return time.perf_counter() - start, nb
    finally:
        os.environ.clear()
        os.environ.update(old)


def cmd_run(paths: list[str]) -> int:
    for p in paths:
        path = Path(p)
        seconds, nb = execute(path)
        tidy(nb)
        nbformat.write(nb, path)
        print(f"{path}: executed in {seconds:.1f} s; check outputs kept")
    return 0


def cmd_time(paths: list[str]) -> int:
    """Execute every chapter with a fresh, empty run cache (so training really happens), one at a time with
    torch's default threads, as a reader runs a chapter (the budget of a notebook; the book build runs two at a
    time, one thread each, and reports its own times), with the build's static widgets; print each one's time
    and where it went."""
    from thesis_lib.profiling import PROFILE_ENV, summarise

    results, windows = {}, {}
    with tempfile.TemporaryDirectory() as runs:
        profile = Path(runs) / "profile.jsonl"
        env = {"THESIS_LIB_RUNS": runs, "THESIS_LIB_STATIC_WIDGETS": "1", PROFILE_ENV: str(profile)}
        for p in paths or CHAPTERS:
            start = time.time()
            seconds, _ = execute(ROOT / p, env)
            windows[Path(p).stem] = (start, time.time())
            results[p] = round(seconds, 1)
            print(f"{p}: {seconds:.1f} s", flush=True)
        records = [json.loads(line) for line in profile.read_text().splitlines()] if profile.exists() else []
    print(f"total: {sum(results.values()):.1f} s")
    print(json.dumps(results))
    for name, row in summarise(records, windows).items():
        print(f"{name}: " + ", ".join(f"{stage} {s:.1f}" for stage, s in row.items()))
    return 0


def cmd_check(paths: list[str]) -> int:
    bad = []
    for p in paths or CHAPTERS:
        nb = nbformat.read(ROOT / p, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and cell.outputs and not is_check_cell(cell):
                bad.append(f"{p}: cell {i} has outputs but is not a '{MARKER}' cell")
            if cell.cell_type == "code" and is_check_cell(cell) and not cell.outputs:
                bad.append(f"{p}: check cell {i} has no stored output for nbval to compare")
    print("\n".join(bad) or "notebooks are tidy")
    return 1 if bad else 0


def cmd_translate(paths: list[str], lang: str, check: bool = False, force: bool = False) -> int:
    """Write the chapters in ``lang`` to OUT (``paths[0]``), or with ``check`` only list what has no translation."""
    from notebook_i18n import translate_chapters

    if not check and not paths:
        raise SystemExit("translate: give the folder to write the translated chapters to (OUT), or --check")
    out = None if check else Path(paths[0])
    chapters = [Path(p).stem for p in (paths if check else paths[1:])] or None
    if out is not None and (out.is_file() or (out.is_dir() and any(out.iterdir()) and not force)):
        raise SystemExit(
            (
                f"translate: OUT {str(out)!r} is a file or a folder that is not empty: choose a new folder, or pass "
                "--force to replace the chapters in it"
            )
        )
    try:
        translated = translate_chapters(ROOT, lang, chapters)
    except ValueError as e:
        raise SystemExit(f"translate: {e}") from None
    missing = 0
    for name, (nb, report) in translated.items():
        missing += len(report.untranslated)
        print("\n".join(report.lines(f"book/{name}.ipynb", limit=None if check else 5)))
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            nbformat.validate(nb)
            nbformat.write(nb, out / f"{name}.ipynb")
    if out is not None:
        print(
            f"wrote {len(translated)} chapters in {lang} to {out}"
            + (f"; {missing} messages stay English (--check lists them all)" if missing else "")
        )
    return 1 if check and missing else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["run", "time", "check", "colab", "translate"])
    parser.add_argument("paths", nargs="*")
    parser.add_argument(
        "--check",
        action="store_true",
        help=(
            "colab: only report chapters whose Colab cell is missing or stale; translate: write nothing, list the "
            "messages without a translation and fail if there are any"
        ),
    )
    parser.add_argument("--lang", default="sl", help="translate: the language of the catalogues (default: sl)")
    parser.add_argument(
        "--force", action="store_true", help="translate: write into a non-empty OUT, replacing the chapter notebooks"
    )
    args = parser.parse_intermixed_args()  # options before or after the paths
    if args.command == "colab":
        return cmd_colab(args.paths, check=args.check)
    if args.command == "translate":
        return cmd_translate(args.paths, args.lang, check=args.check, force=args.force)
    return {"run": cmd_run, "time": cmd_time, "check": cmd_check}[args.command](args.paths)


if __name__ == "__main__":
    sys.exit(main())
