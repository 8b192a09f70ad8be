"""exercises/grading/mutants.py: the mutant suites and the notebooks made from them (check.py
grades them; here: their shape, and that a replacement must match the source exactly once)."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "exercises"))
import grading  # noqa: E402
from grading.mutants import _names  # noqa: E402


def test_every_set_has_a_mutant_suite():
    """At least two plausible wrong answers per auto-graded question (check.py grades them)."""
    for s in grading.SETS:
        names = [m["question"] for m in grading.mutants(s)]
        for q in grading.questions(s):
            if not q["manual"]:
                assert names.count(q["name"]) >= 2, (s, q["name"])


def _solution():
    nb = nbformat.v4.new_notebook()
    nb.metadata["otter"] = {"assignment_name": "not-a-set"}
    cells = ["import numpy as np", "a = np.ones(3)\nb = a.sum()", "grader.check('q1')",
             "c = b * 2", "grader.check('q2')"]
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    for i in (1, 3):
        nb.cells[i].metadata["tags"] = ["otter_assign_solution_cell"]
    return nb


def test_mutant_applies_its_replacement_and_stops_at_its_question():
    nb = grading.mutant_notebook(_solution(), {"question": "q1", "name": "m",
                                               "replace": [["a.sum()", "a.max()"]]})
    assert [c.source for c in nb.cells][-2:] == ["a = np.ones(3)\nb = a.max()",
                                                 "grader.check('q1')"]


def test_mutant_that_no_longer_matches_is_an_error():
    with pytest.raises(ValueError, match="occurs 0 times"):
        grading.mutant_notebook(_solution(), {"question": "q1", "name": "m",
                                              "replace": [["a.mean()", "a.max()"]]})


def test_names_defined_and_read_by_a_cell():
    defined, used = _names("import numpy as np\nfor i in range(3):\n    x = np.ones(i)\n"
                           "def f(y):\n    return z")
    assert defined == {"np", "i", "x", "f"}
    assert {"np", "range", "i"} <= used
    assert _names("def (") is None
