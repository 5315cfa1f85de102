"""The classroom edition: student copies of the chapters and an nbgrader course, for teachers.

    thesis-lib classroom OUT [--book DIR] [--chapters ae vae ...] [--lang sl] [--force]

reads the book's chapter notebooks (the ``.ipynb`` files that ``_toc.yml`` lists) and writes::

    OUT/README.md                               what is where (for the teacher)
    OUT/student/<chapter>.ipynb                 the chapter without its solutions: every exercise's
                                                code cell left for the student, its check call kept
    OUT/student/<chapter>-exercises.ipynb       only the code exercises (statement, cell, check):
                                                no training, runs in seconds
    OUT/nbgrader/nbgrader_config.py             an nbgrader course directory ...
    OUT/nbgrader/source/<chapter>/<chapter>-exercises.ipynb
                                                ... with one assignment per chapter: the answer cells
                                                are "autograded answers" holding the reference solution
                                                between nbgrader's solution markers, the checks are
                                                "autograder tests" with a hidden ``assert check_...``

Where things come from: in a chapter, solutions are MyST ``{solution}`` blocks (sphinx-exercise)
inside markdown cells, and a code exercise is a code cell that defines a function whose body is
``raise NotImplementedError`` and passes it to ``check_NAME`` of :mod:`thesis_lib.exercises`.
The reference solution of ``check_NAME`` is ``solution_NAME`` in the same module; its body
becomes the answer in the nbgrader source version (and :func:`fill_answers` puts it into a
student's notebook, which is how the tests hand in a full-marks submission).

``--lang sl`` writes the same edition in Slovene: the chapters are first translated from the
book's catalogues by the book's own tooling (``scripts/notebook_i18n.py``, loaded from ``--book``;
see :mod:`.language`), and the edition's own texts (the exercise notebooks' introductions, the
README, the hidden tests' messages) are Slovene; the check functions' feedback stays English.

Nothing is written until every notebook has been converted, and an ``OUT`` that is not empty is
refused unless ``force=True`` (then only the files named above are replaced; an nbgrader
``gradebook.db`` and students' submissions stay).
"""

from ..toc import toc_notebooks
from .editions import (
    add_arguments,
    build,
    exercise_notebook,
    fill_answers,
    nbgrader_notebook,
    run,
    student_notebook,
    write,
)
from .parse import CodeExercise, code_exercises, solution_body, strip_solutions

__all__ = [
    "CodeExercise",
    "add_arguments",
    "build",
    "code_exercises",
    "exercise_notebook",
    "fill_answers",
    "nbgrader_notebook",
    "run",
    "solution_body",
    "strip_solutions",
    "student_notebook",
    "toc_notebooks",
    "write",
]
