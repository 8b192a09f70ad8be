"""The Gradescope autograder, played as Gradescope plays it (`make autograder`,
exercises/gradescope/).

Each set's zip is built with exercises/gradescope/build.py. Every run unpacks it into a fresh
root laid out as Gradescope's (`source/` holding the zip's contents, `submission/`,
`results/`, `run_autograder` copied to the root), runs `source/setup.sh` with the course's
.venv as the environment (so it skips the installation and only checks the versions), then
`run_autograder` with `AUTOGRADER_ROOT` pointing at that root.

Covered:
- set 1, the full matrix: the reference solution, the blank student notebook, a mutant of the
  suite (the full solution with q1's first plausible mistake), a notebook that replaces
  numpy's, torch's and math's comparisons and binds its answers to objects equal to anything
  (tampering), the full solution with a cell that starts detached processes, and a text file.
  Each results.json is validated against a JSON schema of Gradescope's format, and its points
  equal the row `make grade` (exercises/grade.py) writes for the same file;
- sets 2 to 4: the reference solution, full marks and a valid results.json (`make grade`'s
  full marks for the reference solutions are what `make check-exercises` proves);
- nothing is left running afterwards (the detached sleepers included);
- the zip: its layout, executables, the hidden tests inside it and no reference solution;
  setup.sh's Python and the zip's pins equal requirements.txt's (second test).

About 3 minutes on two busy cores (15 gradings, two at a time).
"""

from __future__ import annotations

import copy
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jsonschema
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "exercises"))
sys.path.insert(0, str(ROOT / "exercises" / "gradescope"))
import build  # noqa: E402
import check_env  # noqa: E402
import grading  # noqa: E402
from grading import reports  # noqa: E402
from test_exercises import _fill, _student_and_solution  # noqa: E402
from test_grading_sandbox import PATCH_AND_POSE, SLEEPERS, _sleepers, _with_cell  # noqa: E402

SET = "set1_two_layer"
TIMEOUT = 120          # seconds per submission, as `make grade`'s default

VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
# Gradescope's results.json, from its autograder specification: every field it documents, no
# other; the ones the course always writes are required.
GRADESCOPE_SCHEMA = {
    "type": "object",
    "required": ["score", "output", "tests", "visibility", "stdout_visibility"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number", "minimum": 0},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": FORMAT,
        "test_output_format": FORMAT,
        "test_name_format": FORMAT,
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "leaderboard": {"type": "array"},
        "tests": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["name", "score", "max_score", "output", "visibility"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "name_format": FORMAT,
                "number": {"type": "string"},
                "score": {"type": "number", "minimum": 0},
                "max_score": {"type": "number", "exclusiveMinimum": 0},
                "status": {"enum": ["passed", "failed"]},
                "output": {"type": "string"},
                "output_format": FORMAT,
                "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": VISIBILITY,
                "extra_data": {"type": "object"},
            },
        }},
    },
}


def _run_env(root: Path) -> dict:
    return {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}


def play_gradescope(zip_path: Path, root: Path, submission: Path) -> dict:
    """Unpack the autograder as Gradescope does, 'install' it, grade one submission; returns
    results.json and run_autograder's output."""
    (root / "submission").mkdir(parents=True)
    (root / "results").mkdir()
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(root / "source")
        for info in z.infolist():                   # zipfile does not restore modes
            os.chmod(root / "source" / info.filename, info.external_attr >> 16 & 0o777)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=_run_env(root),
                           capture_output=True, text=True, timeout=120)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "no installation" in setup.stdout and "pinned versions" in setup.stdout
    shutil.copy(submission, root / "submission" / submission.name)
    proc = subprocess.run([str(root / "run_autograder")], cwd=root, env=_run_env(root),
                          capture_output=True, text=True, timeout=TIMEOUT + 120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {"results": json.loads((root / "results" / "results.json").read_text()),
            "stdout": proc.stdout + proc.stderr}


def _mutant_of_full(full, mutant):
    """The full solution with one mutant's replacements: one plausible mistake in a notebook
    that is otherwise right."""
    nb = copy.deepcopy(full)
    for old, new in mutant["replace"]:
        cell = next(c for c in nb.cells if c.cell_type == "code" and old in c.source)
        cell.source = cell.source.replace(old, new)
    return nb


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gradescope")
    wheel = build.build_wheel(tmp / "wheel")
    zips = {s: build.build(s, tmp / "dist", timeout=TIMEOUT, wheel=wheel) for s in grading.SETS}

    student, solution = _student_and_solution(tmp)
    full, answers = _fill(student, solution)
    folder = tmp / "set1"
    folder.mkdir()
    mutant = next(m for m in grading.mutants(SET) if m["question"] == "q1")
    nbformat.write(full, folder / "a_solution.ipynb")
    nbformat.write(student, folder / "b_blank.ipynb")
    nbformat.write(_mutant_of_full(full, mutant), folder / "c_mutant.ipynb")
    nbformat.write(_with_cell(student, PATCH_AND_POSE), folder / "d_tampers.ipynb")
    nbformat.write(_with_cell(full, SLEEPERS, at=answers[0]), folder / "e_detaches.ipynb")
    (folder / "f_notes.txt").write_text("my answers are in the notebook I forgot to attach\n")

    others = {}
    for s in grading.SETS[1:]:
        built = grading.assign(s, tmp / f"assign_{s}")
        others[s] = tmp / f"{s}.ipynb"
        shutil.copy(built["solution"], others[s])

    csv_path = tmp / "grades.csv"

    def make_grade():
        proc = subprocess.run(
            [sys.executable, str(ROOT / "exercises" / "grade.py"), SET, str(folder),
             "--timeout", str(TIMEOUT), "--out", str(csv_path), "--jobs", "1"],
            capture_output=True, text=True, timeout=6 * TIMEOUT + 60)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return {r["submission"]: r for r in csv.DictReader(csv_path.open())}

    jobs = {("make grade", SET): make_grade}
    for f in sorted(folder.iterdir()):
        jobs[(SET, f.name)] = (lambda f=f: play_gradescope(zips[SET], tmp / f"root_{f.stem}", f))
    for s, path in others.items():
        jobs[(s, "solution")] = (lambda s=s, path=path:
                                 play_gradescope(zips[s], tmp / f"root_{s}", path))
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {k: pool.submit(fn) for k, fn in jobs.items()}
        done = {k: f.result() for k, f in futures.items()}
    leftovers = _processes_under(tmp)
    return {"zips": zips, "rows": done.pop(("make grade", SET)), "runs": done,
            "sleepers": _sleepers(), "leftovers": leftovers, "mutant": mutant}


def _processes_under(folder: Path) -> list[str]:
    """Running processes whose command line or working folder lies under ``folder``."""
    import psutil

    out = []
    for p in psutil.process_iter(["pid", "cmdline", "cwd"]):
        try:
            text = " ".join(p.info["cmdline"] or []) + " " + (p.info["cwd"] or "")
        except (psutil.Error, TypeError):
            continue
        if str(folder) in text and p.pid != os.getpid():
            out.append(f"{p.pid}: {text[:200]}")
    return out


def _points(results: dict) -> dict[str, float]:
    """Points per question in results.json (its tests are named 'q1: public tests', ...)."""
    out: dict[str, float] = {}
    for t in results["tests"]:
        q = t["name"].split(":")[0]
        out[q] = out.get(q, 0.0) + t["score"]
    return out


def _check_format(results: dict, set_name: str) -> None:
    jsonschema.Draft202012Validator(GRADESCOPE_SCHEMA).validate(results)
    tests = grading.tests(set_name)
    auto = [q for q in grading.questions(set_name) if not q["manual"]]
    for t in results["tests"]:
        assert t["score"] <= t["max_score"], t
        hidden = t["name"].endswith("hidden tests")
        assert t["visibility"] == ("after_published" if hidden else "visible"), t
    maxima = {q["name"]: 0.0 for q in auto}
    for t in results["tests"]:
        maxima[t["name"].split(":")[0]] += t["max_score"]
    assert maxima == {q["name"]: q["points"] for q in auto}      # the manual one is not there
    assert {t["name"] for t in results["tests"]} == {
        f"{q}: {'hidden' if t['hidden'] else 'public'} tests" for q, ts in tests.items()
        for t in ts}
    assert abs(results["score"] - sum(t["score"] for t in results["tests"])) < 1e-9


def test_results_have_gradescopes_format(played):
    for (set_name, _), run in played["runs"].items():
        _check_format(run["results"], set_name)


def test_scores_equal_make_grades_rows(played):
    qs = grading.questions(SET)
    assert sorted(played["rows"]) == sorted(n for s, n in played["runs"] if s == SET)
    for name, row in played["rows"].items():
        res = played["runs"][(SET, name)]["results"]
        got = _points(res)
        for q in qs:
            if q["manual"]:
                assert row[reports.column(q)] == "" and q["name"] not in got
            else:
                assert got[q["name"]] == float(row[reports.column(q)]), (name, q)
        assert res["score"] == float(row["total"]), name
        assert res["output"].startswith(f"Status: {row['status']} "), (name, res["output"])
        assert row["message"] in res["output"], name


def test_each_kind_of_submission_gets_what_it_deserves(played):
    runs = {n: r["results"] for (s, n), r in played["runs"].items() if s == SET}
    possible = sum(q["points"] for q in grading.questions(SET) if not q["manual"])
    assert runs["a_solution.ipynb"]["score"] == possible
    assert runs["e_detaches.ipynb"]["score"] == possible
    assert runs["b_blank.ipynb"]["score"] == 0
    mutant = _points(runs["c_mutant.ipynb"])          # later answers may build on q1's
    assert mutant["q1"] < 4 and runs["c_mutant.ipynb"]["score"] < possible
    assert runs["d_tampers.ipynb"]["score"] == 0
    assert "Status: tampered" in runs["d_tampers.ipynb"]["output"]
    assert "numpy.allclose" in runs["d_tampers.ipynb"]["output"]
    assert runs["f_notes.txt"]["score"] == 0
    assert "Status: not a notebook" in runs["f_notes.txt"]["output"]
    for s in grading.SETS[1:]:
        res = played["runs"][(s, "solution")]["results"]
        full = sum(q["points"] for q in grading.questions(s) if not q["manual"])
        assert res["score"] == full and res["output"].startswith("Status: ok"), (s, res)


def test_hidden_tests_show_only_after_publication(played):
    res = played["runs"][(SET, "c_mutant.ipynb")]["results"]
    hidden = [t for t in res["tests"] if t["name"].endswith("hidden tests")]
    assert hidden and all(t["visibility"] == "after_published" for t in hidden)
    q1 = next(t for t in res["tests"] if t["name"] == "q1: hidden tests")
    assert q1["score"] < q1["max_score"] and "failed" in q1["output"]


def test_nothing_is_left_running(played):
    assert played["sleepers"] == [], played["sleepers"]
    assert played["leftovers"] == [], played["leftovers"]


def test_zip_holds_the_grader_and_the_hidden_tests_but_no_solution(played):
    for s, path in played["zips"].items():
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            for must in ("setup.sh", "run_autograder", "requirements.txt", "autograder.json",
                         f"exercises/{s}/tests.json", "exercises/gradescope/run.py",
                         "exercises/grading/core.py", "exercises/sandbox.py"):
                assert must in names, (s, must)
            for exe in ("setup.sh", "run_autograder"):
                assert z.getinfo(exe).external_attr >> 16 & 0o111, exe
            assert not any(n.endswith(".ipynb") for n in names), names
            assert sum(n.startswith("overparam-") and n.endswith(".whl") for n in names) == 1
            text = b"".join(z.read(n) for n in names if not n.endswith(".whl"))
            assert b"BEGIN SOLUTION" not in text and b"Reference answer" not in text
            bundle = json.loads(z.read(f"exercises/{s}/tests.json"))
            assert bundle["tests"] == grading.tests(s)
            assert json.loads(z.read("autograder.json"))["set"] == s
            wheel = next(n for n in names if n.endswith(".whl"))
            with zipfile.ZipFile(__import__("io").BytesIO(z.read(wheel))) as w:
                shipped = {n for n in w.namelist() if n.endswith(".py")}
        lib = {p.relative_to(ROOT / "lib").as_posix()
               for p in (ROOT / "lib" / "overparam").rglob("*.py")}
        assert shipped == lib


def _pins(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        spec = line.split("#")[0].strip()
        if spec:
            name, _, version = spec.partition("==")
            out[name.strip().lower()] = version.strip()
    return out


def test_setup_versions_equal_requirements(tmp_path):
    """setup.sh installs requirements.txt's versions: the zip's requirements file is a subset
    of it with the same pins, setup.sh's Python is the tested one (Binder's), its torch comes
    from that file, and the library's own dependencies are all there."""
    path = build.build(SET, tmp_path)
    with zipfile.ZipFile(path) as z:
        setup = z.read("setup.sh").decode()
        shipped = _pins(z.read("requirements.txt").decode())
    pins = _pins((ROOT / "requirements.txt").read_text())
    assert shipped == {k: pins[k] for k in build.GRADING_PACKAGES}
    binder = (ROOT / "binder" / "environment.yml").read_text()
    python = re.search(r"^\s*-\s*python=(\S+)", binder, re.M).group(1)
    assert re.search(r"^PYTHON_VERSION=(\S+)$", setup, re.M).group(1) == python
    assert "TORCH=$(sed -n -E 's/^torch==" in setup and '"pytorch-cpu=$TORCH"' in setup
    pyproject = (ROOT / "pyproject.toml").read_text()
    deps = re.findall(r'"([A-Za-z0-9_.-]+)"', re.search(r"dependencies = \[(.*?)\]",
                                                       pyproject).group(1))
    assert set(deps) <= set(shipped), set(deps) - set(shipped)
    # the check at the end of setup.sh fails on any other version
    assert check_env.problems(python, shipped) == []
    assert check_env.problems(python, {**shipped, "numpy": "0.0.1"}) == [
        f"numpy {pins['numpy']}, not 0.0.1"]
    assert check_env.problems("2.7", {}) and "Python" in check_env.problems("2.7", {})[0]
