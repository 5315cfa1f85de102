"""The exercises' shared machinery: run_checks prints one line, and a Diagnosis says what is wrong."""

from __future__ import annotations

import pytest
import torch

from thesis_lib.exercises import Diagnosis, describe, diagnose, run_checks, tensor_result


def test_a_diagnosis_fails_its_check_and_follows_the_description(capsys):
    def diagnosed():
        raise Diagnosis("Yours is in bits")

    assert not run_checks("demo", [("passes", lambda: True), ("equals log 2", diagnosed), ("never run", lambda: 1 / 0)])
    assert capsys.readouterr().out == "✗ demo: check 2 of 3 failed: equals log 2. Yours is in bits\n"


def test_other_exceptions_still_show_their_class(capsys):
    def broken():
        raise NotImplementedError("your code here")

    assert not run_checks("demo", [("runs", broken)])
    assert capsys.readouterr().out == "✗ demo: check 1 of 1 failed: runs (NotImplementedError: your code here)\n"


def test_diagnose_names_the_first_matching_mistake_and_computes_lazily():
    computed = []

    def lazy():
        computed.append(True)
        return torch.tensor(3.0)

    with pytest.raises(Diagnosis, match="^the second$"):
        diagnose(torch.tensor(2.0), [("the first", torch.tensor(1.0)), ("the second", 2.0), ("the third", lazy)])
    assert not computed  # the third value was never needed
    assert diagnose(torch.tensor(9.0), [("the first", 1.0)]) is False
    with pytest.raises(Diagnosis, match="^Yours gives 9$"):
        diagnose(9.0, [("the first", 1.0)], otherwise="Yours gives 9")


def test_diagnose_ignores_answers_that_are_no_numbers():
    assert diagnose("a string", [("a number", 1.0)]) is False
    assert diagnose(torch.zeros(3), [("another shape", torch.zeros(2))]) is False


def test_describe_names_what_came_back():
    assert describe(torch.zeros(6, 5)) == "a tensor of shape (6, 5)"
    assert describe(torch.tensor(1.0)) == "a 0-dimensional tensor"
    assert describe(1.5) == "a float"


def test_a_result_that_is_no_tensor_is_named():
    assert tensor_result(torch.ones(2)).shape == (2,)
    with pytest.raises(Diagnosis, match="^Yours returns a float: return a tensor"):
        tensor_result(0.5)
