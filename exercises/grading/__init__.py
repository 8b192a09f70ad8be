"""Grading of the exercise sets, one responsibility per module:

- ``sources``: the sets, their notebooks, questions, points and tests (from the instructor
  source, or from the autograder's bundle); ``otter assign``;
- ``mutants``: the mutant suites (plausible wrong answers that must lose points);
- ``processes``: memory limits, the marker of a submission's processes, killing them all;
- ``kernel``: the sandboxed kernel a submission runs in, and the data that comes out of it;
- ``compare``: turning that data into values, tampering, running a question's tests;
- ``supervisor``: the process that grades one submission (kernel + tests) and signs the result;
- ``core``: ``grade_one``, the one entry point of ``make grade``, the Gradescope autograder and
  ``make check-exercises``;
- ``reports``: ``grades.csv`` and Gradescope's ``results.json``.

``import grading`` (with ``exercises/`` on ``sys.path``) gives the names below. The modules that
import torch (``kernel``, ``compare``, ``supervisor``) are loaded only in the supervisor.
"""

from .core import _sign, grade_batch, grade_one, is_notebook, read_signed, sign
from .mutants import mutant_notebook, mutants, mutants_file, tests_of
from .processes import (DEFAULT_MEMORY, MARKER, SUPERVISOR_MEMORY, kill_all, kill_orphans,
                        marked_processes, parse_memory, set_subreaper)
from .sources import (HERE, INIT_CELL, SETS, assign, bundle, bundle_file, check_set_name,
                      init_cell, otter_cli, python, questions, source_notebook, student_notebook,
                      tests)

__all__ = [
    "DEFAULT_MEMORY", "HERE", "INIT_CELL", "MARKER", "SETS", "SUPERVISOR_MEMORY", "_sign",
    "assign", "bundle", "bundle_file", "check_set_name", "grade_batch", "grade_one", "init_cell",
    "is_notebook", "kill_all", "kill_orphans", "marked_processes", "mutant_notebook", "mutants",
    "mutants_file", "otter_cli", "parse_memory", "python", "questions", "read_signed",
    "set_subreaper", "sign", "source_notebook", "student_notebook", "tests", "tests_of",
]
