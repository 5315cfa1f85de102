"""Build the book in both languages: ``python scripts/build_book.py`` (the README's build command).

1. **Execution** of every chapter afresh, two at a time (:func:`execute_all`): the machine's cores are
   split between two kernels (on 2 cores, one thread each). Training small models is
   compute-bound, and torch's threads wait for each other at every operation, so two kernels of one
   thread train 1.1-1.6x as much as one kernel of two threads (``benchmarks/bench_kernels.py``),
   and the single-threaded rest of a notebook (evaluation, figures, kernel start) runs beside the
   other. The longest notebooks start
   first (:data:`STARTING_ORDER`), every page after the chapters whose runs it reuses; one that
   asks for a run the other kernel is training waits for it (the run cache's lock,
   :func:`thesis_lib.api.run_lock`) and then loads it. When no notebook waits for a kernel any more, the
   build says so (:data:`KERNEL_FREE`): the README's test command then starts the unit tests beside the last.
   The kernels get ``$THESIS_LIB_STATIC_WIDGETS`` (the latent-space widgets carry their static HTML, which only
   the pages need) and ``$THESIS_LIB_PROFILE`` (the library's timed stages,
   :mod:`thesis_lib.profiling`). The executed notebooks go into a fresh jupyter-cache
   (``_build/.jupyter_cache``, emptied first: nothing from an earlier build can be shown).
   **English** (``_build/html``): Jupyter Book's Sphinx build (``-W --keep-going``) with myst-nb
   in its ``cache`` mode, so it takes every notebook's outputs from that cache, executes nothing
   (a notebook missing there would be executed, as ``jupyter-book build .`` does with
   ``execute_notebooks: force``), and writes each page's glued outputs to
   ``_build/jupyter_execute/<page>.glue.json``; the build then writes the executed notebooks beside
   them (:func:`keep_executed`).
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
runs it trained, the seconds of the whole build, of the execution (``execution_seconds``, with the
``kernels`` and each kernel's ``threads``), of each notebook (its kernel's start to its last cell)
and of each translated edition, and per notebook where its time went (``profile``: kernel start
and imports, training, each metric group, the judge, widget export, figures, other).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

import yaml
from book_toc import notebooks

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
EXECUTED = BUILD / "jupyter_execute"  # where myst-nb writes the English build's executed notebooks
LANGUAGES = ("sl",)  # the translated editions; each is built into _build/html/<lang>/
BUILD_INFO = BUILD / "build_info.json"
PROFILES = BUILD / "profile"  # the kernels' timed stages (thesis_lib.profiling), one file per notebook
EXECUTION_CACHE = BUILD / ".jupyter_cache"  # this build's executed notebooks, where myst-nb's cache mode finds them
KERNELS = 2
"""Notebooks executed at once (fewer on a machine with fewer cores)."""
KERNEL_FREE = "A kernel is free"
"""What :func:`execute_all` prints when no notebook waits for a kernel any more and one of them is idle (the last
notebooks are still executing): the tests of the README's command start the unit tests on the freed cores."""
STARTING_ORDER = ("book/vae.ipynb", "book/gan.ipynb", "book/ae.ipynb", "book/comparison.ipynb", "book/aae.ipynb")
"""The order in which notebooks start (the TOC's others after them, in its order): longest first, so that the two
kernels end together, and every page after the chapters whose runs it reuses (the comparison after the GAN
chapter, the papers page after the VAE's 2-D model). Measured on 2 cores (cold, one thread per kernel): vae 187,
comparison 177, gan 158, ae 139, aae 129 s; in the TOC's order the second kernel ran the GAN chapter, the AAE
chapter and the comparison, 465 s, while the first was done after 344 s."""


def starting_order(toc: list[str]) -> list[str]:
    """The TOC's notebooks in :data:`STARTING_ORDER`, then the rest in the TOC's order."""
    return [n for n in STARTING_ORDER if n in toc] + [n for n in toc if n not in STARTING_ORDER]


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
        "nb_execution_cache_path": str(EXECUTION_CACHE),  # never used with execution off; kept out of the HTML
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


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def execution_settings() -> dict:
    """``_config.yml``'s ``execute`` section: the cell timeout and whether errors are allowed (myst-nb's settings)."""
    execute = (yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8")) or {}).get("execute", {})
    return {"timeout": execute.get("timeout", 30), "allow_errors": bool(execute.get("allow_errors", False))}


def execute_one(notebook: str, env: dict[str, str], settings: dict) -> tuple[str, float, float, str | None, str | None]:
    """Execute ``notebook`` (a path relative to the book's root) in its own folder, as myst-nb does
    (``jupyter_cache.executors.utils.single_nb_execution``), in a worker process whose environment the kernel
    inherits: ``(the executed notebook as JSON, start, end, error, traceback)``."""
    import nbformat
    from jupyter_cache.executors.utils import single_nb_execution

    os.environ.update(env)
    path = ROOT / notebook
    nb = nbformat.read(path, as_version=4)
    start = time.time()
    result = single_nb_execution(nb, cwd=str(path.parent), meta_override=True, **settings)
    error = f"{type(result.err).__name__}: {result.err}" if result.err is not None else None
    return nbformat.writes(nb), start, time.time(), error, result.exc_string


def execute_all(env: dict[str, str]) -> tuple[int, dict[str, tuple[float, float]], dict[str, str], dict]:
    """Execute every notebook of the TOC, :data:`KERNELS` at a time (started in :func:`starting_order`), each
    kernel on its share of the cores, into a fresh jupyter-cache (:data:`EXECUTION_CACHE`). Returns (exit code,
    ``{name: (start, end)}`` in Unix time, ``{notebook: the executed notebook's JSON}``, what to add to
    ``build_info.json``)."""
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    kernels = max(1, min(KERNELS, cores()))
    threads = max(1, cores() // kernels)
    shutil.rmtree(EXECUTION_CACHE, ignore_errors=True)
    shutil.rmtree(PROFILES, ignore_errors=True)
    PROFILES.mkdir(parents=True)
    cache = get_cache(str(EXECUTION_CACHE))
    settings = execution_settings()
    windows: dict[str, tuple[float, float]] = {}
    executed: dict[str, str] = {}
    failed = []
    began = time.perf_counter()
    print(f"Executing {len(notebooks())} notebooks, {kernels} at a time, {threads} thread(s) each", flush=True)
    with ProcessPoolExecutor(max_workers=kernels) as pool:
        jobs = {
            notebook: pool.submit(
                execute_one,
                notebook,
                {
                    **env,
                    "OMP_NUM_THREADS": str(threads),
                    "THESIS_LIB_PROFILE": str(PROFILES / f"{Path(notebook).stem}.jsonl"),
                },
                settings,
            )
            for notebook in starting_order(notebooks())
        }
        order = {job: notebook for notebook, job in jobs.items()}
        results, waiting = {}, set(jobs.values())
        while waiting:  # each notebook's result as soon as it is there
            done, waiting = wait(waiting, return_when=FIRST_COMPLETED)
            for job in done:
                results[order[job]] = text, start, end, error, trace = job.result()
                if error:
                    print(f"{ROOT / order[job]}: WARNING: Executing notebook failed: {error}\n{trace}", flush=True)
                else:
                    print(f"{ROOT / order[job]}: Executed notebook in {end - start:.1f} s", flush=True)
            if waiting and len(waiting) < kernels <= len(waiting) + len(done):  # the first time only
                print(f"{KERNEL_FREE}: {len(waiting)} notebook(s) still executing", flush=True)
    for notebook in notebooks():  # in the TOC's order
        text, start, end, error, _ = results[notebook]
        if error:
            failed.append(notebook)
            continue
        windows[Path(notebook).stem] = (start, end)
        executed[notebook] = text
        cache.cache_notebook_bundle(
            CacheBundleIn(
                nbformat.reads(text, as_version=4), str(ROOT / notebook), data={"execution_seconds": end - start}
            ),
            check_validity=False,
            overwrite=True,
        )
    seconds = round(time.perf_counter() - began, 1)
    print(
        f"Executed every notebook in {seconds:.0f} s" if not failed else f"{len(failed)} notebooks failed", flush=True
    )
    return (
        (1 if failed else 0),
        windows,
        executed,
        {"execution_seconds": seconds, "kernels": kernels, "threads": threads},
    )


class _Log:
    """What myst-nb's glue extraction logs (a duplicate key): printed as a Sphinx-style warning."""

    @staticmethod
    def warning(message: str, **kwargs) -> None:
        print(f"WARNING: {message} {kwargs}", flush=True)


def keep_executed(executed: dict[str, str]) -> None:
    """Write each executed notebook to :data:`EXECUTED` as myst-nb writes the notebooks it executes itself: its
    glued outputs taken out (myst-nb's ``extract_glue_data``; they are in ``<page>.glue.json``, which the English
    build wrote). The translated editions (``_ext/thesis_i18n.py``) and ``build_book.py html`` read them there.
    (In its ``cache`` mode myst-nb 1.4 writes the notebook it read, without the cached outputs.)"""
    import nbformat
    from myst_nb.ext.glue import extract_glue_data

    for notebook, text in executed.items():
        nb = nbformat.reads(text, as_version=4)
        extract_glue_data(nb, [(i + 1) * 10000 + 1 for i in range(len(nb.cells))], _Log())
        (EXECUTED / notebook).write_text(nbformat.writes(nb), encoding="utf-8")


def write_build_info(info: dict, windows: dict[str, tuple[float, float]]) -> None:
    from thesis_lib.profiling import summarise

    info["notebook_seconds"] = {name: round(end - start, 1) for name, (start, end) in windows.items()}
    info["profile"] = {}
    for name, window in windows.items():
        profile = PROFILES / f"{name}.jsonl"
        records = [json.loads(line) for line in profile.read_text().splitlines()] if profile.exists() else []
        info["profile"].update(summarise(records, {name: window}))
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
    BUILD.mkdir(exist_ok=True)
    env = {"PYTHONUNBUFFERED": "1", "THESIS_LIB_STATIC_WIDGETS": "1"}
    start, before = time.perf_counter(), finished_runs()
    code, windows, executed, execution = execute_all(env)
    info = {"cached_before": len(before), "trained": sorted(finished_runs() - before), **execution}
    info["translation_seconds"] = {}
    if not code:
        print(f"Building the English edition into {BUILD / 'html'} (from the executed notebooks)", flush=True)
        overrides = {"nb_execution_mode": "cache", "nb_execution_cache_path": str(EXECUTION_CACHE)}
        code = sphinx_build(
            "html", BUILD / "html", BUILD / ".doctrees", overrides, "-W" in options, "--keep-going" in options
        )
        if not code:
            keep_executed(executed)
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
