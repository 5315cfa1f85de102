"""Where a build's time goes: named stages, timed while the book is built.

``with stage("train"):`` times a block. Stages nest, and each record holds the stage's *own*
time (its children's time is charged to them), so a profile's stages add up to at most the wall
time. Nothing is recorded unless ``$THESIS_LIB_PROFILE`` names a file: then every finished stage
appends one JSON line ``{"t": end (Unix time), "pid": ..., "stage": name, "seconds": own time}``
to it, and figure rendering (matplotlib's ``print_figure``, what Jupyter's inline backend calls
for every figure a cell shows) is timed as the stage ``"figures"``. ``scripts/build_book.py``
sets the variable, assigns the records to the notebook that was executing at time ``t`` and
writes the table into ``_build/build_info.json``.

The stages the library times: ``train`` (a run's training), ``run setup`` (the rest of
:func:`thesis_lib.train`: data, model, reading a finished run from the cache), ``judge`` (the MNIST
classifier: trained once, then loaded), ``sample`` and ``parzen`` / ``quality`` /
``reconstruction`` / ``likelihood`` (an evaluation's metric groups), ``widget export`` (a static
widget's HTML) and ``figures``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
from typing import Iterator

PROFILE_ENV = "THESIS_LIB_PROFILE"

_stack: list[list] = []  # [name, start, children's time]


def enabled() -> bool:
    """Whether stages are recorded (``$THESIS_LIB_PROFILE`` is set)."""
    return bool(os.environ.get(PROFILE_ENV))


def record(name: str, seconds: float) -> None:
    """Append one finished stage to the profile file (nothing when profiling is off)."""
    path = os.environ.get(PROFILE_ENV)
    if not path:
        return
    line = json.dumps({"t": round(time.time(), 3), "pid": os.getpid(), "stage": name, "seconds": round(seconds, 4)})
    with open(path, "a") as f:
        f.write(line + "\n")


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Time the block as ``name`` (its own time, without the stages nested in it)."""
    if not enabled():
        yield
        return
    _install_figure_timer()
    frame = [name, time.perf_counter(), 0.0]
    _stack.append(frame)
    try:
        yield
    finally:
        _stack.pop()
        elapsed = time.perf_counter() - frame[1]
        if _stack:
            _stack[-1][2] += elapsed
        record(name, elapsed - frame[2])


def timed(name: str):
    """A decorator: every call of the function is the stage ``name``."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with stage(name):
                return fn(*args, **kwargs)

        return wrapper

    return decorate


@functools.lru_cache(maxsize=None)
def _install_figure_timer() -> None:
    """Time matplotlib's ``print_figure`` (every rendered figure) as the stage ``"figures"``; once per process."""
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        return
    original = FigureCanvasBase.print_figure

    @functools.wraps(original)
    def print_figure(self, *args, **kwargs):
        with stage("figures"):
            return original(self, *args, **kwargs)

    FigureCanvasBase.print_figure = print_figure


IMPORTED = "library imported"  # a mark (0 s) written when the library is first imported in a process


def summarise(records: list[dict], windows: dict[str, tuple[float, float]]) -> dict[str, dict[str, float]]:
    """Seconds per stage for each window ``name -> (start, end)`` (Unix times): a record counts
    for the window its end time ``t`` falls in. ``kernel start and imports`` runs from the window's
    start to the library's first import in it; ``other`` is the window's time in no stage (the
    cells' own small computations, plotting code before rendering, printing, glue)."""
    table: dict[str, dict[str, float]] = {}
    for name, (start, end) in windows.items():
        row: dict[str, float] = {}
        inside = [r for r in records if start <= r["t"] <= end]
        imported = [r["t"] for r in inside if r["stage"] == IMPORTED]
        if imported:
            row["kernel start and imports"] = min(imported) - start
        for r in inside:
            if r["stage"] != IMPORTED:
                row[r["stage"]] = row.get(r["stage"], 0.0) + r["seconds"]
        row = {k: round(v, 1) for k, v in sorted(row.items(), key=lambda kv: -kv[1])}
        row["other"] = round(max(end - start - sum(row.values()), 0.0), 1)
        table[name] = row
    return table


record(IMPORTED, 0.0)
