"""Build the book in both languages: ``python scripts/build_book.py`` (the README's build command).

1. **English** (``_build/html``): ``jupyter-book build . -W --keep-going``. It executes every
   chapter (``execute_notebooks: force``, training cached by the run cache) and myst-nb writes
   each executed notebook to ``_build/jupyter_execute/``. The kernels get
   ``$THESIS_LIB_STATIC_WIDGETS`` (the latent-space widgets carry their static HTML, which only
   the pages need) and ``$THESIS_LIB_PROFILE`` (the library's timed stages,
   :mod:`thesis_lib.profiling`).
2. **Slovene** (``_build/html/sl/``): the same sources, built by Sphinx's translation workflow
   (``language: sl``, catalogues in ``locales/sl/LC_MESSAGES/``) with execution **off**: the
   local extension ``_ext/thesis_i18n.py`` hands myst-nb the executed notebook from step 1 for
   each chapter, so the Slovene pages show the very outputs (figures, widgets, glued numbers)
   of the English build and nothing is executed or trained a second time.

``python scripts/build_book.py html`` re-renders both editions' HTML from the executed notebooks of
the last full build (``_build/jupyter_execute``), executing and training nothing (about a minute):
for a change to the book's text, templates, CSS, Sphinx extensions or catalogues that does not
change what the code computes. (A changed code cell needs the full build.)

``python scripts/build_book.py gettext DIR`` writes the message templates (``.pot``) of the
current sources into DIR (execution off: only the prose is extracted); ``sphinx-intl update -p
DIR -l sl`` then merges them into the catalogues (see ``locales/README.md``).
Options after the first argument are passed to both builds (default ``-W --keep-going``).

Every build writes ``_build/build_info.json``: how many finished runs the cache held before, which
runs it trained, the seconds of the whole build, of each notebook (from myst-nb's "Executing
notebook" line to its "Executed notebook" line) and of each translated edition, and per notebook
where its time went (``profile``: kernel start and imports, training, each metric group, the
judge, widget export, figures, other).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from book_toc import notebooks

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
EXECUTED = BUILD / "jupyter_execute"  # where myst-nb writes the English build's executed notebooks
LANGUAGES = ("sl",)  # the translated editions; each is built into _build/html/<lang>/
BUILD_INFO = BUILD / "build_info.json"
PROFILE = BUILD / "profile.jsonl"  # the kernels' timed stages (thesis_lib.profiling), read into BUILD_INFO


def translated_overrides(language: str) -> dict:
    """The Sphinx settings that turn the English book into its ``language`` edition."""
    return {
        "language": language,
        "locale_dirs": ["locales/"],
        "gettext_compact": False,  # one catalogue per page: locales/sl/LC_MESSAGES/book/ae.po
        "gettext_allow_fuzzy_translations": False,
        **executed_overrides(),
        # every node Sphinx leaves in English gets the class "untranslated" (tests/test_slovene_pages.py looks for it)
        "translation_progress_classes": "untranslated",
    }


def sphinx_build(
    builder: str, outdir: Path, doctrees: Path, overrides: dict, warnings_are_errors: bool, keep_going: bool
) -> int:
    """Jupyter Book's own Sphinx entry point (``_config.yml`` + ``_toc.yml``), plus ``overrides``."""
    from jupyter_book.sphinx import build_sphinx

    overrides = {"external_toc_path": str(ROOT / "_toc.yml"), "latex_individualpages": False, **overrides}
    result = build_sphinx(
        ROOT,
        outdir,
        noconfig=True,
        path_config=str(ROOT / "_config.yml"),
        confoverrides=overrides,
        doctreedir=doctrees,
        builder=builder,
        warningiserror=warnings_are_errors,
        keep_going=keep_going,
    )
    return result if isinstance(result, int) else 1


def executed_overrides() -> dict:
    """Execution off; each chapter read from the English build's executed copy (``_ext/thesis_i18n.py``)."""
    return {
        "nb_execution_mode": "off",
        "nb_execution_cache_path": str(BUILD / ".jupyter_cache"),  # never used with execution off; kept out of the HTML
        "thesis_executed_notebooks": str(EXECUTED),
    }


def have_executed_notebooks() -> bool:
    missing = [p for p in notebooks()[:1] if not (EXECUTED / p).exists()]  # the first chapter of _toc.yml
    if missing:
        print(
            f"no executed notebooks in {EXECUTED}: build the English edition first (python scripts/build_book.py)",
            file=sys.stderr,
        )
    return not missing


def build_translation(language: str, warnings_are_errors: bool = True, keep_going: bool = True) -> int:
    if not have_executed_notebooks():
        return 1
    return sphinx_build(
        "html",
        BUILD / "html" / language,
        BUILD / f".doctrees-{language}",
        translated_overrides(language),
        warnings_are_errors,
        keep_going,
    )


def rerender(warnings_are_errors: bool = True, keep_going: bool = True) -> int:
    """Both editions' HTML from the last full build's executed notebooks: nothing is executed or trained."""
    if not have_executed_notebooks():
        return 1
    code = sphinx_build(
        "html", BUILD / "html", BUILD / ".doctrees", executed_overrides(), warnings_are_errors, keep_going
    )
    return code or max(build_translation(lang, warnings_are_errors, keep_going) for lang in LANGUAGES)


def gettext(outdir: Path) -> int:
    """The message templates (.pot) of the current English sources, one per page."""
    # without outputs the glued values are missing: the prose around them is what is extracted
    overrides = {
        "gettext_compact": False,
        "nb_execution_mode": "off",
        "gettext_uuid": False,
        "gettext_location": False,
        "suppress_warnings": ["mystnb.glue"],
    }
    return sphinx_build("gettext", Path(outdir), Path(outdir) / ".doctrees", overrides, False, False)


def finished_runs() -> set[str]:
    """The cached runs (``<model>-<key>`` folders with a checkpoint) in the run cache."""
    from thesis_lib.cache import runs_root

    root = runs_root()
    return {p.parent.name for p in root.glob("*-*/checkpoint.pt")} if root.is_dir() else set()


def run_logged(command: list[str], env: dict[str, str]) -> tuple[int, dict[str, tuple[float, float]]]:
    """Run ``command``, echoing its output, and read from it when each notebook executed:
    ``{name: (start, end)}`` in Unix time, from myst-nb's "Executing notebook" and "Executed notebook" lines."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env)
    windows: dict[str, tuple[float, float]] = {}
    current = None
    for line in proc.stdout:
        now = time.time()
        sys.stdout.write(line)
        sys.stdout.flush()
        if m := re.search(r"book/(\w+)\.ipynb: Executing notebook", line):
            current = (m.group(1), now)
        elif current and "Executed notebook in" in line:
            windows[current[0]] = (current[1], now)
            current = None
    return proc.wait(), windows


def write_build_info(info: dict, windows: dict[str, tuple[float, float]]) -> None:
    from thesis_lib.profiling import summarise

    records = [json.loads(line) for line in PROFILE.read_text().splitlines()] if PROFILE.exists() else []
    info["notebook_seconds"] = {name: round(end - start, 1) for name, (start, end) in windows.items()}
    info["profile"] = summarise(records, windows)
    BUILD_INFO.parent.mkdir(parents=True, exist_ok=True)
    BUILD_INFO.write_text(json.dumps(info, indent=1) + "\n")


def main(argv: list[str]) -> int:
    if argv[:1] == ["gettext"]:
        return gettext(Path(argv[1]) if len(argv) > 1 else BUILD / "gettext")
    if argv[:1] == ["translation"]:  # only the translated editions, from an existing English build
        return max(build_translation(lang) for lang in LANGUAGES)
    if argv[:1] == ["html"]:  # both editions' HTML again, from an existing English build's executed notebooks
        return rerender()
    options = argv or ["-W", "--keep-going"]
    jb = Path(sys.executable).parent / "jupyter-book"
    BUILD.mkdir(exist_ok=True)
    PROFILE.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "THESIS_LIB_STATIC_WIDGETS": "1", "THESIS_LIB_PROFILE": str(PROFILE)}
    start, before = time.perf_counter(), finished_runs()
    code, windows = run_logged([str(jb), "build", str(ROOT), *options], env)
    info = {"cached_before": len(before), "trained": sorted(finished_runs() - before), "translation_seconds": {}}
    for lang in LANGUAGES if not code else ():
        began = time.perf_counter()
        print(
            f"Building the {lang} edition into {BUILD / 'html' / lang} (from the executed notebooks, no execution)",
            flush=True,
        )
        code = build_translation(lang, "-W" in options, "--keep-going" in options)
        info["translation_seconds"][lang] = round(time.perf_counter() - began, 1)
        print(f"The {lang} edition took {info['translation_seconds'][lang]:.0f} s", flush=True)
        if code:
            break
    info["build_seconds"] = round(time.perf_counter() - start, 1)
    write_build_info(info, windows)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
