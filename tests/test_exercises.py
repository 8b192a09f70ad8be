"""Grading a folder of submissions gives the expected CSV in bounded time (exercises/grade.py).

The folder holds, for exercise set 1: a full solution, the untouched student notebook, a partly
right one (renamed as a second download names it: a submission's file name does not matter),
one whose cell raises, one that loops forever and a file that is not a notebook.
Each is built from the committed student notebook and the solutions that ``otter assign``
writes into the autograder notebook, so the test follows the sources when they change.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "exercises"))
import grading  # noqa: E402

SET = "set1_two_layer"
TIMEOUT = 90          # seconds per submission; set 1 grades in 15-40 s on two busy cores


def _answer_cells(nb, tag):
    return [i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and tag in c.metadata.get("tags", [])]


def _fill(student, solution, which=None):
    """The student notebook with the answer cells numbered ``which`` (all when None) replaced
    by the solution; also the indices of the answer cells."""
    nb = copy.deepcopy(student)
    stu = _answer_cells(student, "otter_answer_cell")
    sol = _answer_cells(solution, "otter_assign_solution_cell")
    assert len(stu) == len(sol) > 0
    for k in range(len(stu)) if which is None else which:
        nb.cells[stu[k]].source = solution.cells[sol[k]].source
    return nb, stu


def _student_and_solution(tmp):
    """Set 1's student notebook and the solution notebook ``otter assign`` builds under tmp."""
    built = grading.assign(SET, tmp / "dist")
    return (nbformat.read(grading.student_notebook(SET), as_version=4),
            nbformat.read(built["solution"], as_version=4))


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grading")
    student, solution = _student_and_solution(tmp)
    n_answers = len(_answer_cells(student, "otter_answer_cell"))
    folder = tmp / "submissions"
    folder.mkdir()

    full, _ = _fill(student, solution, range(n_answers))
    nbformat.write(full, folder / "a_full.ipynb")
    nbformat.write(student, folder / "b_blank.ipynb")
    partial, _ = _fill(student, solution, [0])              # only question 1 (h_inf)
    nbformat.write(partial, folder / "c_set1_two_layer (1).ipynb")
    raising, cells = _fill(student, solution, [0])
    raising.cells[cells[1]].source = "lambda0 = 1 / 0"       # question 2's cell raises
    nbformat.write(raising, folder / "d_raises.ipynb")
    looping, cells = _fill(student, solution, range(n_answers))
    loop = nbformat.v4.new_code_cell("while True:\n    pass")
    loop.pop("id", None)                                     # the notebooks are nbformat 4.4
    looping.cells.insert(cells[0], loop)
    nbformat.write(looping, folder / "e_loops.ipynb")
    (folder / "f_notes.txt").write_text("my answers are in the notebook I forgot to attach\n")
    return folder


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_grade_folder_gives_expected_csv_in_bounded_time(submissions, tmp_path):
    before = _digest(submissions)
    out = tmp_path / "grades.csv"
    t0 = time.time()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "exercises" / "grade.py"), SET, str(submissions),
         "--timeout", str(TIMEOUT), "--out", str(out), "--jobs", "2"],
        capture_output=True, text=True, timeout=600,
    )
    elapsed = time.time() - t0
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert elapsed < 400, f"grading took {elapsed:.0f} s"
    assert _digest(submissions) == before, "grading must never modify a submission"

    rows = {r["submission"]: r for r in csv.DictReader(out.open())}
    assert list(rows) == ["a_full.ipynb", "b_blank.ipynb", "c_set1_two_layer (1).ipynb",
                          "d_raises.ipynb", "e_loops.ipynb", "f_notes.txt"]
    qs = grading.questions(SET)
    auto = [q for q in qs if not q["manual"]]
    cols = {q["name"]: (f"{q['name']} (manual, /{q['points']})" if q["manual"]
                        else f"{q['name']} (/{q['points']})") for q in qs}
    possible = sum(q["points"] for q in auto)
    assert all(r["possible"] == f"{possible:g}" for r in rows.values())

    def score(row, q):
        return float(row[cols[q]])

    full = rows["a_full.ipynb"]
    assert full["status"] == "ok", full
    assert all(score(full, q["name"]) == q["points"] for q in auto)
    assert float(full["total"]) == possible
    assert all(full[cols[q["name"]]] == "" for q in qs if q["manual"])   # left to grade by hand

    blank = rows["b_blank.ipynb"]
    assert blank["status"] in ("ok", "errors"), blank
    assert all(score(blank, q["name"]) == 0 for q in auto) and float(blank["total"]) == 0

    q1 = auto[0]
    partial = rows["c_set1_two_layer (1).ipynb"]
    assert score(partial, q1["name"]) == q1["points"]
    assert all(score(partial, q["name"]) == 0 for q in auto[1:])
    assert float(partial["total"]) == q1["points"]

    raises = rows["d_raises.ipynb"]
    assert raises["status"] == "errors" and "ZeroDivisionError" in raises["message"], raises
    assert score(raises, q1["name"]) == q1["points"] and float(raises["total"]) == q1["points"]

    loops = rows["e_loops.ipynb"]
    assert loops["status"] == "timeout" and float(loops["total"]) == 0, loops

    notes = rows["f_notes.txt"]
    assert notes["status"] == "not a notebook" and float(notes["total"]) == 0, notes
