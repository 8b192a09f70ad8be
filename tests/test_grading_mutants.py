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


def test_mistakes_the_questions_warn_about_are_marked_public():
    """Every set marks mutants whose mistake its questions warn about (check.py requires a
    public test to catch each); a misspelt key or a `public` that is not a boolean is refused."""
    for s in grading.SETS:
        marked = [m for m in grading.mutants(s) if m.get("public")]
        assert len(marked) >= 5, s
    marked = {(m["question"], m["name"]) for m in grading.mutants("set1_two_layer")
              if m.get("public")}
    assert {("q1", "no-clipping"), ("q3", "not-normalized"), ("q3", "raises-of-X1"),
            ("q4", "strict-indicator"), ("q5", "frobenius-norm"),
            ("q5", "max-over-seeds")} <= marked


def test_mutant_with_unknown_key_is_refused(tmp_path, monkeypatch):
    mutants_module = sys.modules["grading.mutants"]      # the module; grading.mutants is the function
    path = tmp_path / "mutants.yml"
    monkeypatch.setattr(mutants_module, "mutants_file", lambda set_name: path)
    path.write_text("- {question: q1, name: m, mistake: x, replace: [], pubilc: true}\n")
    with pytest.raises(ValueError, match="unknown keys"):
        grading.mutants("set1_two_layer")
    path.write_text("- {question: q1, name: m, mistake: x, replace: [], public: maybe}\n")
    with pytest.raises(ValueError, match="not true or false"):
        grading.mutants("set1_two_layer")
    path.write_text("- {question: q1, name: m, mistake: x, replace: [], public: true}\n")
    assert grading.mutants("set1_two_layer")[0]["public"] is True


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
