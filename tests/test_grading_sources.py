"""exercises/grading/sources.py: the sets' questions, points and tests, read from the instructor
sources or, in the Gradescope autograder, from the bundle that replaces them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "exercises"))
import grading  # noqa: E402
from grading import sources  # noqa: E402


def test_every_set_states_points_and_has_one_manual_question():
    for s in grading.SETS:
        qs = grading.questions(s)
        assert 4 <= len(qs) <= 6, s
        assert sum(q["manual"] for q in qs) == 1, s
        assert all(q["points"] > 0 for q in qs), s


def test_tests_add_up_to_each_questions_points():
    """The grader reads the tests from the sources; each auto-graded question's tests give
    exactly its stated points, and the manual questions have none."""
    for s in grading.SETS:
        tests = grading.tests(s)
        for q in grading.questions(s):
            got = sum(t["points"] for t in tests.get(q["name"], []))
            assert got == (0 if q["manual"] else q["points"]), (s, q["name"], got)
            if not q["manual"]:
                assert any(t["hidden"] for t in tests[q["name"]]), (s, q["name"])


def test_bundle_holds_tests_and_no_solution():
    """The autograder's bundle: the questions and every test, hidden ones included, and none
    of the reference solutions."""
    for s in grading.SETS:
        b = grading.bundle(s)
        assert b["set"] == s
        assert b["questions"] == grading.questions(s)
        assert b["tests"] == grading.tests(s)
        assert any(t["hidden"] for ts in b["tests"].values() for t in ts)
        text = json.dumps(b)
        assert "BEGIN SOLUTION" not in text and "Reference answer" not in text


def test_questions_and_tests_come_from_the_bundle_without_a_source(tmp_path, monkeypatch):
    s = "set1_two_layer"
    b = grading.bundle(s)
    (tmp_path / s).mkdir()
    (tmp_path / s / "tests.json").write_text(json.dumps(b))
    monkeypatch.setattr(sources, "HERE", tmp_path)
    assert not sources.source_notebook(s).exists()
    assert sources.questions(s) == b["questions"]
    assert sources.tests(s) == b["tests"]
    (tmp_path / s / "tests.json").write_text(json.dumps({**b, "set": "set2_ntk"}))
    with pytest.raises(ValueError, match="set2_ntk"):
        sources.tests(s)
    (tmp_path / s / "tests.json").unlink()
    with pytest.raises(FileNotFoundError):
        sources.questions(s)


def test_unknown_set_is_refused():
    with pytest.raises(SystemExit, match="set1_two_layer"):
        grading.check_set_name("set9")
