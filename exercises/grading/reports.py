"""Reports of graded submissions: the CSV of ``make grade`` and the ``results.json`` of the
Gradescope autograder, both made from what ``core.grade_one`` returns.

Both show the same points: a question's score is the sum of the points of its tests that passed
(0 for a question that was tampered with, and for a submission that timed out, crashed or is not
a notebook). Manual questions get no points here: an empty CSV column, and no Gradescope test
(the person grading adds them in Gradescope's manual grading).
"""

from __future__ import annotations

import csv
from pathlib import Path

STATUSES = ("ok", "errors", "tampered", "timeout", "crashed", "not a notebook")


def column(q: dict) -> str:
    """The CSV column of a question: ``q1 (/4)``, or ``q6 (manual, /3)`` for one graded by hand."""
    return f"{q['name']} ({'manual, ' if q['manual'] else ''}/{q['points']})"


def total(questions: list[dict], res: dict) -> float:
    """The auto-graded points of a result."""
    return sum(res["scores"].get(q["name"], 0.0) for q in questions if not q["manual"])


def possible(questions: list[dict]) -> float:
    return sum(q["points"] for q in questions if not q["manual"])


def csv_row(name: str, questions: list[dict], res: dict) -> dict:
    """One row of ``grades.csv``: the file, each question's points (empty for a manual one),
    the total, the points possible, the status and the message."""
    row = {"submission": name}
    for q in questions:
        row[column(q)] = "" if q["manual"] else f"{res['scores'].get(q['name'], 0.0):g}"
    row["total"] = f"{total(questions, res):g}"
    row["possible"] = f"{possible(questions):g}"
    row["status"] = res["status"]
    row["message"] = res["message"]
    return row


def write_csv(out: Path, questions: list[dict], graded: list[tuple[str, dict]]) -> list[dict]:
    """Write ``grades.csv`` for ``[(file name, result), ...]``; returns its rows."""
    rows = [csv_row(name, questions, res) for name, res in graded]
    fields = (["submission"] + [column(q) for q in questions]
              + ["total", "possible", "status", "message"])
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    return rows


# --- Gradescope ---------------------------------------------------------------------------
# Gradescope's per-test visibility: public tests are shown at once, hidden tests' results only
# once the instructor publishes the grades.
PUBLIC, HIDDEN = "visible", "after_published"

STATUS_TEXT = {
    "ok": "graded",
    "errors": "graded; some cells raised errors",
    "tampered": "tampering found: 0 points on what it touched",
    "timeout": "not graded: stopped at the time limit",
    "crashed": "not graded: the notebook's kernel died or grading could not finish",
    "not a notebook": "not graded: the submission is not a notebook",
}


def _lines(tests: list[dict]) -> str:
    out = []
    for t in tests:
        mark = "passed" if t["passed"] else "failed"
        line = f"{t['name']} ({t['points']:g} pt): {mark}"
        if not t["passed"] and t.get("message"):
            line += f": {t['message']}"
        out.append(line)
    return "\n".join(out)


def gradescope_results(questions: list[dict], tests: dict[str, list[dict]], res: dict, *,
                       execution_time: float | None = None) -> dict:
    """``results.json`` for Gradescope from one grading result.

    For every auto-graded question two Gradescope tests: its public tests (visible at once) and
    its hidden tests (``after_published``), each with the points its tests earned; together
    they are the question's score, the same as ``grades.csv``'s column. The manual question
    has no test here. The top-level output gives the status and the message."""
    entries = []
    status = res["status"]
    for q in questions:
        if q["manual"]:
            continue
        name, graded = q["name"], res.get("tests", {}).get(q["name"])
        score_q = res["scores"].get(name, 0.0)
        for hidden, label, visibility in ((False, "public tests", PUBLIC),
                                          (True, "hidden tests", HIDDEN)):
            specs = [t for t in tests.get(name, []) if t["hidden"] == hidden]
            if not specs:
                continue
            max_score = sum(t["points"] for t in specs)
            if graded is not None:
                ran = [t for t in graded if t["hidden"] == hidden]
                earned = sum(t["points"] for t in ran if t["passed"])
                output = _lines(ran)
                if status == "tampered" and score_q == 0 and any(
                        m.startswith(f"{name}: ") for m in res["message"].split("; ")):
                    output = f"tampering found in {name}: 0 points\n" + output
            else:
                earned, output = 0.0, f"0 points: {STATUS_TEXT.get(status, status)}"
                if res["message"]:
                    output += f" ({res['message']})"
            entries.append({"name": f"{name}: {label}", "score": earned,
                            "max_score": max_score, "output": output,
                            "visibility": visibility})
    manual = [f"{q['name']} ({q['points']:g} points)" for q in questions if q["manual"]]
    top = {"score": sum(e["score"] for e in entries),
           "output": f"Status: {status} ({STATUS_TEXT.get(status, status)})."
                     + (f"\n{res['message']}" if res["message"] else "")
                     + (f"\nGraded by hand, not included here: {', '.join(manual)}."
                        if manual else ""),
           "visibility": "visible",
           "stdout_visibility": "hidden",
           "tests": entries}
    if execution_time is not None:
        top["execution_time"] = round(execution_time)
    return top
