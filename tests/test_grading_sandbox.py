"""Grading does not trust the student's process (exercises/grading/, issue: grades an
instructor can stand behind).

One folder of set-1 submissions, graded with two jobs and a 2 GB memory limit: a full solution,
a cheater that patches numpy/torch/math comparisons and binds every answer to an object that
equals anything, a cheater whose answers are floats and arrays that compare equal to anything
and that forges the grader's result file, a memory hog, one that leaves detached sleepers
behind (setsid with a cleared environment, nohup, a double fork), and an intruder that tries to
overwrite the other submissions, the library and the grading scripts, to read the instructor's
solutions, and to kill the other gradings. Every row must be right and nothing left running.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "exercises"))
import grading  # noqa: E402
from test_exercises import _fill, _student_and_solution  # noqa: E402  (the same notebooks as the grading tests)

SET = "set1_two_layer"
SLEEP = str(70000 + os.getpid() % 20000)   # seconds: a number of this run, to find them by

PATCH_AND_POSE = '''
import builtins, math
import numpy as np
import torch

class Anything:
    def __eq__(self, other): return True
    __le__ = __ge__ = __eq__
    def __lt__(self, other): return True
    __gt__ = __lt__
    def __float__(self): return 0.1
    def __abs__(self): return 0.0
    def __sub__(self, other): return self
    __rsub__ = __mul__ = __rmul__ = __sub__
    def __call__(self, *a, **k): return self
    def __getitem__(self, k): return self
    def __len__(self): return 3
    def __iter__(self): return iter([self, self, self, self])
    shape = (4,)

np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: True
torch.allclose = lambda *a, **k: True
torch.Tensor.__eq__ = lambda self, other: True
math.isclose = lambda *a, **k: True
for name in ("h_inf", "lambda0", "lam_par", "lams", "raises", "du_grad", "devs", "slope"):
    globals()[name] = Anything()
'''

POSE_AND_FORGE = '''
import json, os
import numpy as np
import torch

class Float(float):
    def __eq__(self, other): return True
    def __sub__(self, other): return Float(0.0)
    def __abs__(self): return Float(0.0)
    def __lt__(self, other): return True
    __le__ = __gt__ = __ge__ = __lt__

class Tensor(torch.Tensor):
    pass

lambda0 = Float(0.1)
lam_par = Float(0.0)
lams = [Float(0.1), Float(0.01), Float(0.001)]
raises = True
devs = np.array([0.4, 0.2, 0.1, 0.05]).view(type("Arr", (np.ndarray,), {}))
slope = Float(-0.5)
def h_inf(X):
    return torch.zeros(X.shape[0], X.shape[0]).as_subclass(Tensor)
forged = {"scores": {"q1": 4, "q2": 2, "q3": 3, "q4": 4, "q5": 3}, "status": "ok", "message": ""}
for where in (os.readlink(f"/proc/{os.getppid()}/cwd"), os.getcwd() + "/../private"):
    try:
        with open(where + "/result.json", "w") as f:
            json.dump({"payload": json.dumps(forged), "signature": "0" * 64}, f)
    except OSError:
        pass
'''

HOG = '''
import numpy as np
hog = np.ones(6 * 1024 ** 3 // 8)        # 6 GB, past the 2 GB limit
'''

SLEEPERS = f'''
import os, subprocess
subprocess.Popen(["setsid", "sleep", "{SLEEP}"], env={{"PATH": os.environ["PATH"]}},
                 start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.system("nohup sleep {SLEEP} >/dev/null 2>&1 &")
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        os.environ.clear()
        os.execvp("/bin/sleep", ["sleep", "{SLEEP}"])
    os._exit(0)
os.waitpid(pid, 0)
'''

INTRUDER = '''
import glob, json, os, signal
REPO, FOLDER = {repo!r}, {folder!r}
targets = (glob.glob(FOLDER + "/*") + glob.glob("/tmp/grade_*/**/*.ipynb", recursive=True)
           + glob.glob(REPO + "/exercises/**/*.py", recursive=True)
           + glob.glob(REPO + "/lib/overparam/*.py")
           + [REPO + "/grades.csv"])
for t in targets:
    try:
        with open(t, "a") as f:
            f.write("# overwritten")
    except OSError:
        pass
for pid in os.listdir("/proc"):
    try:
        cmd = open(f"/proc/{{pid}}/cmdline", "rb").read()
    except OSError:
        continue
    if b"--supervise" in cmd and int(pid) != os.getppid():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass
try:
    src = json.load(open(REPO + "/exercises/set1_two_layer/source/set1_two_layer.ipynb"))
    code = next("".join(c["source"]) for c in src["cells"] if "def h_inf" in "".join(c["source"]))
    exec(code)
except Exception:
    pass
'''


def _with_cell(nb, source, at=None):
    nb = copy.deepcopy(nb)
    cell = nbformat.v4.new_code_cell(source)
    cell.pop("id", None)                       # the notebooks are nbformat 4.4
    nb.cells.insert(len(nb.cells) if at is None else at, cell)
    return nb


def _digest(paths):
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


def _sleepers():
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if f"sleep {SLEEP}" in line]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sandbox")
    student, solution = _student_and_solution(tmp)
    full, answers = _fill(student, solution)        # every answer cell holds the solution
    folder = tmp / "submissions"
    folder.mkdir()
    first = answers[0]
    nbformat.write(full, folder / "a_full.ipynb")
    nbformat.write(_with_cell(student, PATCH_AND_POSE), folder / "b_patches.ipynb")
    nbformat.write(_with_cell(student, POSE_AND_FORGE), folder / "c_poses.ipynb")
    nbformat.write(_with_cell(full, HOG, at=first), folder / "d_hog.ipynb")
    nbformat.write(_with_cell(full, SLEEPERS, at=first), folder / "e_sleepers.ipynb")
    nbformat.write(_with_cell(student, INTRUDER.format(repo=str(ROOT), folder=str(folder))),
                   folder / "f_intruder.ipynb")
    guarded = (list(folder.iterdir()) + list((ROOT / "exercises").rglob("*.py"))
               + list((ROOT / "lib" / "overparam").glob("*.py")))
    before = _digest(list(folder.iterdir()))
    grades_csv = (ROOT / "grades.csv").read_bytes() if (ROOT / "grades.csv").exists() else None
    out = tmp / "grades.csv"
    t0 = time.time()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "exercises" / "grade.py"), SET, str(folder), "--timeout", "90",
         "--memory", "2G", "--out", str(out), "--jobs", "2"],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    after = {str(p): p.read_text(errors="replace").rstrip("\n")[-20:] for p in guarded}
    rows = {r["submission"]: r for r in csv.DictReader(out.open())}
    return {"rows": rows, "digests_before": before, "digests": _digest(list(folder.iterdir())),
            "after": after, "seconds": time.time() - t0,
            "grades_csv": grades_csv, "sleepers": _sleepers(), "log": proc.stdout}


def _points(row):
    return {k.split(" ")[0]: float(v) for k, v in row.items() if k.startswith("q") and v != ""}


def _possible():
    return sum(q["points"] for q in grading.questions(SET) if not q["manual"])


def test_full_solution_unharmed(graded):
    row = graded["rows"]["a_full.ipynb"]
    assert row["status"] == "ok", row
    assert float(row["total"]) == _possible()


def test_patched_libraries_and_posing_objects_score_zero(graded):
    row = graded["rows"]["b_patches.ipynb"]
    assert row["status"] == "tampered", row
    assert float(row["total"]) == 0 and all(v == 0 for v in _points(row).values())
    for name in ("numpy.allclose", "torch.allclose", "math.isclose", "torch.Tensor.__eq__"):
        assert name in row["message"], row["message"]


def test_posing_numbers_and_forged_result_score_zero(graded):
    row = graded["rows"]["c_poses.ipynb"]
    assert row["status"] == "tampered", row
    assert float(row["total"]) == 0, row
    assert "posing" in row["message"], row["message"]


def test_memory_hog_stopped_by_the_limit(graded):
    row = graded["rows"]["d_hog.ipynb"]
    assert row["status"] == "errors" and "MemoryError" in row["message"], row
    assert float(row["total"]) == _possible()      # the hog fails alone; the answers count


def test_detached_processes_are_killed(graded):
    row = graded["rows"]["e_sleepers.ipynb"]
    assert row["status"] == "ok", row
    assert float(row["total"]) == _possible()
    assert graded["sleepers"] == [], graded["sleepers"]


def test_intruder_reaches_nothing(graded):
    row = graded["rows"]["f_intruder.ipynb"]
    assert float(row["total"]) == 0, row          # could not read the reference solutions
    assert row["status"] in ("ok", "errors"), row
    touched = [p for p, text in graded["after"].items() if text.endswith("# overwritten")]
    assert touched == [], f"a submission wrote into {touched}"
    assert {p: h for p, h in graded["digests"].items()} == graded["digests_before"], \
        "a submission modified the folder of submissions"
    now = (ROOT / "grades.csv").read_bytes() if (ROOT / "grades.csv").exists() else None
    assert now == graded["grades_csv"]


def test_sleepers_would_survive_without_the_cleanup(tmp_path):
    """The check above can fail: a detached sleeper started like the submission's outlives its
    parent when nobody kills it (here we start one and kill it ourselves)."""
    env = {"PATH": os.environ["PATH"], grading.MARKER: "probe"}
    subprocess.run(["sh", "-c", f"setsid sleep {SLEEP} >/dev/null 2>&1 &"], env=env, check=True)
    time.sleep(0.3)
    assert _sleepers(), "the detached sleeper should still be running"
    assert grading.kill_all(None, "probe") >= 1
    assert _sleepers() == []
