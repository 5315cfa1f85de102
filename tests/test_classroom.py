"""The classroom edition (``thesis-lib classroom``): student copies without solutions, and an
nbgrader course whose autograder gives full marks to the reference solutions and zero to
unanswered cells."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from helpers import assert_one_line_error, run_cli

from book_tools import classroom
from thesis_lib import cli
from thesis_lib.exercises import aae as aae_exercises

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = classroom.toc_notebooks(ROOT)
LANGS = ["en", "sl"]  # the source, and the edition translated from the catalogues (scripts/notebook_i18n.py)


def _stubs_and_checks(nb) -> tuple[int, int]:
    """(functions left for the student, calls of a check on a function) in the code cells."""
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    return sum(s.count("raise NotImplementedError") for s in code), sum(
        len(re.findall(r"^check_\w+\(\w+\)", s, flags=re.M)) for s in code
    )


# ----------------------------------------------------------------------------- pieces
def test_strip_solutions_removes_only_solution_blocks():
    text = "\n".join(
        [
            "## Exercises",
            "",
            "````{exercise} One",
            ":label: ex-1",
            "",
            "Do it.",
            "",
            "```python",
            "x = 1",
            "```",
            "````",
            "",
            "````{solution} ex-1",
            ":class: dropdown",
            "",
            "Like this:",
            "",
            "```{literalinclude} ../x.py",
            "```",
            "",
            "Done.",
            "````",
            "",
            ":::{solution} ex-1",
            "colon fence",
            ":::",
            "",
            "```{solution-start} ex-1",
            "```",
            "gated text",
            "```{solution-end}",
            "```",
            "",
            "Text after.",
        ]
    )
    out = classroom.strip_solutions(text)
    assert "{solution" not in out and "Like this" not in out and "colon fence" not in out and "gated text" not in out
    assert "````{exercise} One" in out and "```python\nx = 1\n```\n````" in out and out.endswith("Text after.")


def test_chapter_list_comes_from_the_toc():
    assert list(CHAPTERS) == ["ae", "gan", "vae", "aae", "comparison", "failures", "papers"]
    assert all(p.suffix == ".ipynb" for p in CHAPTERS.values())


def test_reference_solution_body_runs_on_its_own():
    """The body pasted into a notebook brings its own imports (here math, torch and the module's constants)."""
    body = classroom.solution_body(aae_exercises.solution_ring_prior)
    assert (
        "    import math" in body
        and "    from thesis_lib.exercises.aae import RING_ARCS, RING_RADIUS, RING_STD" in body
    )
    namespace: dict = {}
    exec(
        "def ring_prior(n, labels=None, generator=None):\n" + "\n".join(body), namespace
    )  # a fresh namespace: no globals
    assert aae_exercises.check_ring_prior(namespace["ring_prior"])


def _catalogue(name: str):
    import notebook_i18n

    return notebook_i18n.catalogue(ROOT, "sl", f"book/{name}")


def _assert_in_slovene(nb, name: str) -> None:
    """Every markdown cell carries the catalogue's translations: no English message that the
    catalogue translates is left in it."""
    import notebook_i18n

    catalogue = _catalogue(name)
    left = [
        m.id
        for c in nb.cells
        if c.cell_type == "markdown"
        for m in notebook_i18n.messages(c.source)
        if catalogue.translations.get(m.id, m.id) != m.id
    ]
    assert not left, f"{name}: translated in the catalogue, English in the notebook: {left[:3]}"


# ----------------------------------------------------------------------------- the command
@pytest.mark.parametrize("lang", LANGS)
def test_classroom_command_writes_student_copies_and_an_nbgrader_course(tmp_path, capsys, lang):
    out = tmp_path / "class"
    assert cli.main(["classroom", str(out), "--book", str(ROOT), "--lang", lang]) == 0
    summary = json.loads(capsys.readouterr().out)
    written = summary["files"]
    assert "nbgrader/nbgrader_config.py" in written and "README.md" in written
    assert ("untranslated" in summary) == (lang != "en")
    for name, path in CHAPTERS.items():
        chapter = nbformat.read(path, as_version=4)
        student = nbformat.read(out / "student" / f"{name}.ipynb", as_version=4)
        text = "\n".join(c.source for c in student.cells)
        n_solutions = sum(c.source.count("{solution") for c in chapter.cells if c.cell_type == "markdown")
        assert "{solution" not in text, f"{name}: a solution is left in the student copy"
        # everything else stays: the exercises, their code cells (stubs) and the check calls
        assert text.count("{exercise}") == sum(
            c.source.count("{exercise}") for c in chapter.cells if c.cell_type == "markdown"
        )
        assert _stubs_and_checks(student) == _stubs_and_checks(chapter)
        assert [c.source for c in student.cells if c.cell_type == "code"] == [
            c.source for c in chapter.cells if c.cell_type == "code"
        ]
        assert not any(c.get("outputs") for c in student.cells if c.cell_type == "code")
        if lang == "sl":
            _assert_in_slovene(student, name)
        n_code_exercises = _stubs_and_checks(chapter)[0]
        source = out / "nbgrader" / "source" / name / f"{name}-exercises.ipynb"
        if not n_code_exercises:
            assert not source.exists() and n_solutions == 0
            continue
        exercises = nbformat.read(out / "student" / f"{name}-exercises.ipynb", as_version=4)
        assert _stubs_and_checks(exercises)[0] == n_code_exercises
        graded = nbformat.read(source, as_version=4)
        meta = [c.metadata.get("nbgrader", {}) for c in graded.cells]
        answers = [c for c, m in zip(graded.cells, meta) if m.get("solution")]
        tests = [c for c, m in zip(graded.cells, meta) if m.get("grade")]
        assert len(answers) == len(tests) == n_code_exercises, name
        assert all("### BEGIN SOLUTION" in c.source and "NotImplementedError" not in c.source for c in answers)
        assert all("### BEGIN HIDDEN TESTS" in c.source and "assert _check(" in c.source for c in tests)
        assert len({m["grade_id"] for m in meta if m}) == len([m for m in meta if m]), (
            f"{name}: grade ids must be unique"
        )
        if lang == "sl":
            _assert_in_slovene(exercises, name)
            _assert_in_slovene(graded, name)
            assert exercises.cells[1].source.startswith("# Vaje: ") and graded.cells[0].source.startswith("# Vaje: ")


def test_classroom_refuses_an_unknown_language(tmp_path, capsys):
    for lang, book, needles in [
        ("de", ROOT, ["'de'", "en", "sl"]),
        ("sl", tmp_path, ["scripts/notebook_i18n.py", "--book"]),
    ]:
        code = cli.main(["classroom", str(tmp_path / "new"), "--book", str(book), "--lang", lang])
        assert code == 2
        assert_one_line_error(capsys.readouterr().err, *needles)
        assert not (tmp_path / "new").exists()


@pytest.mark.slow
def test_classroom_refuses_a_non_empty_folder_and_unknown_chapters(tmp_path, capsys):
    out = tmp_path / "class"
    out.mkdir()
    keep = out / "gradebook-notes.txt"
    keep.write_text("mine")
    r = run_cli("classroom", str(out), "--book", str(ROOT))  # the console path once; the rest in-process (faster)
    assert r.returncode == 2
    assert_one_line_error(r.stderr, str(out), "not empty", "--force")
    assert sorted(p.name for p in out.iterdir()) == ["gradebook-notes.txt"] and keep.read_text() == "mine"

    def main(*argv: str) -> tuple[int, str]:
        code = cli.main(list(argv))
        return code, capsys.readouterr().err

    code, err = main("classroom", str(tmp_path / "new"), "--book", str(ROOT), "--chapters", "ae", "nope")
    assert code == 2
    assert_one_line_error(err, "'nope'", *CHAPTERS)
    assert not (tmp_path / "new").exists(), "nothing may be written when a chapter is unknown"

    code, err = main("classroom", str(tmp_path / "new"), "--book", str(tmp_path))
    assert code == 2
    assert_one_line_error(err, "_toc.yml", "--book")

    # --force writes into the folder, and leaves the teacher's own files alone
    code, err = main("classroom", str(out), "--book", str(ROOT), "--chapters", "ae", "--force")
    assert code == 0, err
    assert keep.read_text() == "mine" and (out / "student" / "ae.ipynb").exists()


# ----------------------------------------------------------------------------- nbgrader
def _nbgrader(course: Path, *args: str) -> None:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }  # nbgrader runs `alembic`
    r = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGS)
def test_nbgrader_gives_full_marks_to_the_solutions_and_zero_to_unanswered_cells(tmp_path, lang):
    pytest.importorskip("nbgrader")
    from nbgrader.api import Gradebook

    classroom.write(tmp_path / "class", book=ROOT, chapters=["ae"], lang=lang)
    course = tmp_path / "class" / "nbgrader"
    _nbgrader(course, "generate_assignment", "ae")
    release = nbformat.read(course / "release" / "ae" / "ae-exercises.ipynb", as_version=4)
    text = "\n".join(c.source for c in release.cells)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "assert _check" not in text
    assert "check_bce_with_logits(my_bce_with_logits)" in text, "the students keep the library's check as feedback"
    if lang == "sl":  # the students' version is the Slovene one
        _assert_in_slovene(release, "ae")
        assert release.cells[0].source.startswith("# Vaje: ")
    for student, notebook in [("reference", classroom.fill_answers(release)), ("unanswered", release)]:
        folder = course / "submitted" / student / "ae"
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / "ae-exercises.ipynb")
    _nbgrader(course, "autograde", "ae", "--create")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {}
        for student in ("reference", "unanswered"):
            sub = gb.find_submission("ae", student)
            scores[student] = {g.name: (g.score, g.max_score) for nb in sub.notebooks for g in nb.grades}
    assert set(scores["reference"]) == {"bce-with-logits-test", "mask-square-test"}
    assert all(score == top > 0 for score, top in scores["reference"].values()), scores
    assert all(score == 0 and top > 0 for score, top in scores["unanswered"].values()), scores


@pytest.mark.slow
def test_every_chapters_reference_solutions_pass_their_hidden_tests(tmp_path, capsys):
    """The instructor version of every chapter, run cell by cell in one namespace (no kernel: fast):
    the reference solutions pass every hidden test, and the students' stubs fail every one."""
    files = classroom.build(ROOT)
    sources = {k: v for k, v in files.items() if k.startswith("nbgrader/source/")}
    assert len(sources) == 5, sorted(sources)
    for rel, nb in sources.items():
        namespace: dict = {}
        for cell in nb.cells:
            if cell.cell_type == "code":
                source = cell.source
                if cell.metadata.get("nbgrader", {}).get(
                    "grade"
                ):  # only the hidden test (the visible call runs the same check)
                    source = re.search(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", source, flags=re.S).group(
                        1
                    )
                exec(compile(source, f"{rel}:{cell.id}", "exec"), namespace)  # an AssertionError here is a failing test
        stubbed = 0
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code":
                continue
            source = cell.source
            if meta.get("solution"):  # what generate_assignment leaves the students
                source = re.sub(
                    r"( *)### BEGIN SOLUTION\n.*?### END SOLUTION", r"\1raise NotImplementedError()", source, flags=re.S
                )
            if meta.get("grade"):
                with pytest.raises(AssertionError):
                    exec(compile(source, f"{rel}:{cell.id}", "exec"), namespace)
                stubbed += 1
            else:
                exec(compile(source, f"{rel}:{cell.id}", "exec"), namespace)
        assert stubbed >= 2, rel
    out = capsys.readouterr().out
    assert "✗" in out, "the visible checks print what fails"
