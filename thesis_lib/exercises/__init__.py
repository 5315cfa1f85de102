"""Exercise checks: call ``check_*`` on your own function for immediate feedback.

Each chapter's module (:mod:`.ae`, :mod:`.gan`, :mod:`.vae`, :mod:`.aae`, :mod:`.comparison`) holds the checks for its
exercises and a reference solution for each (shown in the book's hidden solution dropdowns, and
run through the checks by the test suite).

    >>> from thesis_lib.exercises.vae import check_reparameterize
    >>> check_reparameterize(my_reparameterize)          # doctest: +SKIP
    ✓ reparameterize: all 7 checks passed
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import torch


def run_checks(exercise: str, checks: list[tuple[str, Callable[[], bool]]]) -> bool:
    """Run named checks in order; print one line of feedback and return whether all passed.

    A check is ``(description, fn)``; ``fn`` returns True when the student's code passes it. An
    exception inside ``fn`` counts as a failure and its message is shown.
    """
    for i, (description, fn) in enumerate(checks, start=1):
        try:
            ok = bool(fn())
            detail = ""
        except Exception as e:  # the student's code may fail in any way: report it, don't crash
            ok, detail = False, f" ({e.__class__.__name__}: {e})"
        if not ok:
            print(f"✗ {exercise}: check {i} of {len(checks)} failed: {description}{detail}")
            return False
    print(f"✓ {exercise}: all {len(checks)} checks passed")
    return True


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """A private RNG stream: a check's draws are repeatable and leave the global stream alone."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def close(a, b, atol: float = 1e-4, rtol: float = 1e-4) -> bool:
    """Same shape and equal within tolerance (compared in float64)."""
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    return a.shape == b.shape and bool(torch.allclose(a, b, atol=atol, rtol=rtol))
