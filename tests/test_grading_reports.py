"""exercises/grading/reports.py: grades.csv and Gradescope's results.json say the same thing
about a result: the same points per question, the same total, the status."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "exercises"))
from grading import reports  # noqa: E402

QS = [{"name": "q1", "points": 3, "manual": False}, {"name": "q2", "points": 2, "manual": False},
      {"name": "q3", "points": 3, "manual": True}]
TESTS = {"q1": [{"name": "t1", "points": 1.0, "hidden": False},
                {"name": "t1h", "points": 2.0, "hidden": True}],
         "q2": [{"name": "t2h", "points": 2.0, "hidden": True}]}


def _graded(passed: dict, **kw):
    tests = {q: [{**t, "passed": passed.get(t["name"], False),
                  "message": "" if passed.get(t["name"]) else "wrong value"} for t in ts]
             for q, ts in TESTS.items()}
    scores = {q: sum(t["points"] for t in ts if t["passed"]) for q, ts in tests.items()}
    return {"status": "ok", "scores": scores, "message": "", "tests": tests, **kw}


def _per_question(results):
    out: dict = {}
    for t in results["tests"]:
        q = t["name"].split(":")[0]
        out[q] = out.get(q, 0.0) + t["score"]
    return out


def test_csv_row():
    res = _graded({"t1": True, "t2h": True})
    row = reports.csv_row("alice.ipynb", QS, res)
    assert row == {"submission": "alice.ipynb", "q1 (/3)": "1", "q2 (/2)": "2",
                   "q3 (manual, /3)": "", "total": "3", "possible": "5", "status": "ok",
                   "message": ""}


def test_write_csv(tmp_path):
    out = tmp_path / "grades.csv"
    reports.write_csv(out, QS, [("a.ipynb", _graded({"t1": True})),
                                ("b.txt", {"status": "not a notebook", "scores": {},
                                           "message": "not a notebook (a .txt)"})])
    rows = list(csv.DictReader(out.open()))
    assert [r["total"] for r in rows] == ["1", "0"]
    assert rows[1]["q1 (/3)"] == "0" and rows[1]["status"] == "not a notebook"


def test_results_json_splits_public_and_hidden_tests():
    res = _graded({"t1": True, "t1h": False, "t2h": True})
    r = reports.gradescope_results(QS, TESTS, res, execution_time=12.3)
    names = [t["name"] for t in r["tests"]]
    assert names == ["q1: public tests", "q1: hidden tests", "q2: hidden tests"]
    vis = {t["name"]: t["visibility"] for t in r["tests"]}
    assert vis["q1: public tests"] == "visible" and vis["q1: hidden tests"] == "after_published"
    assert [t["max_score"] for t in r["tests"]] == [1.0, 2.0, 2.0]
    assert _per_question(r) == res["scores"] == {"q1": 1.0, "q2": 2.0}
    assert r["score"] == reports.total(QS, res) == 3.0
    assert "t1h (2 pt): failed: wrong value" in r["tests"][1]["output"]
    assert "q3" in r["output"] and "Status: ok" in r["output"]
    assert r["execution_time"] == 12 and r["stdout_visibility"] == "hidden"


def test_results_json_of_a_submission_that_was_not_graded():
    for status in ("timeout", "crashed", "not a notebook"):
        res = {"status": status, "scores": {}, "message": "why"}
        r = reports.gradescope_results(QS, TESTS, res)
        assert r["score"] == 0 and all(t["score"] == 0 for t in r["tests"])
        assert len(r["tests"]) == 3 and f"Status: {status}" in r["output"]
        assert "why" in r["output"] and all("why" in t["output"] for t in r["tests"])


def test_results_json_of_a_tampered_question():
    res = _graded({"t1": False, "t1h": False, "t2h": True}, status="tampered",
                  message="q1: lambda0 is a Fake posing as a number or array")
    res["scores"]["q1"] = 0.0
    r = reports.gradescope_results(QS, TESTS, res)
    assert _per_question(r) == {"q1": 0.0, "q2": 2.0}
    assert "tampering found in q1" in r["tests"][0]["output"]
    assert "Status: tampered" in r["output"] and "posing" in r["output"]
