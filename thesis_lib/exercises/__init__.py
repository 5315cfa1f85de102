"""Exercise checks: call ``check_*`` on your own function for immediate feedback.

Each chapter's module (:mod:`.ae`, :mod:`.gan`, :mod:`.vae`, :mod:`.aae`, :mod:`.comparison`) holds the checks for its
exercises and a reference solution for each (shown in the book's hidden solution dropdowns, and
run through the checks by the test suite).

    >>> from thesis_lib.exercises.vae import check_reparameterize
    >>> check_reparameterize(my_reparameterize)          # doctest: +SKIP
    ✓ reparameterize: all 7 checks passed

A failed check says which property failed and, where the answer is a common mistake the check
recognises (the standard error for the spread, bits for nats, a mean for a sum ...), what is
wrong with it: the check raises :class:`Diagnosis`, usually through :func:`diagnose`.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterable, Iterator

import torch


class Diagnosis(Exception):
    """Raised inside a check: the check failed, and the message says what is wrong (one sentence)."""


def diagnose(
    got: Any, known: Iterable[tuple[str, Any]], atol: float = 1e-4, rtol: float = 1e-4, otherwise: str | None = None
) -> bool:
    """``False`` (the check failed), after raising a :class:`Diagnosis` if ``got`` is a known wrong answer.

    ``known`` holds ``(message, value)`` pairs, tried in order: the first ``value`` that equals
    ``got`` (:func:`close`; a callable ``value`` is called first, so it is computed only when
    reached) raises ``Diagnosis(message)``. If none does, ``otherwise`` (when given) is raised,
    typically the student's value. A check reads ``return close(got, right) or diagnose(got, [...])``.
    """
    for message, value in known:
        value = value() if callable(value) else value
        try:
            same = close(got, value, atol=atol, rtol=rtol)
        except (TypeError, ValueError, RuntimeError):  # got is no number or tensor: not this mistake
            same = False
        if same:
            raise Diagnosis(message)
    if otherwise is not None:
        raise Diagnosis(otherwise)
    return False


def describe(value: Any) -> str:
    """What a student's function returned, for a message: ``a tensor of shape (6, 5)``, ``a float``."""
    if torch.is_tensor(value):
        return f"a tensor of shape {tuple(value.shape)}" if value.dim() else "a 0-dimensional tensor"
    return f"a {type(value).__name__}"


def tensor_result(value: Any) -> torch.Tensor:
    """``value`` if it is a tensor; else a Diagnosis (a float or a list cannot be batched or backpropagated)."""
    if not torch.is_tensor(value):
        raise Diagnosis(f"Yours returns {describe(value)}: return a tensor (no .item(), float() or list)")
    return value


def run_checks(exercise: str, checks: list[tuple[str, Callable[[], bool]]]) -> bool:
    """Run named checks in order; print one line of feedback and return whether all passed.

    A check is ``(description, fn)``; ``fn`` returns True when the student's code passes it. A
    :class:`Diagnosis` raised inside ``fn`` fails the check and its message follows the
    description; any other exception also counts as a failure and its message is shown.
    """
    for i, (description, fn) in enumerate(checks, start=1):
        try:
            ok = bool(fn())
            detail = ""
        except Diagnosis as e:
            ok, detail = False, f". {e}"
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
