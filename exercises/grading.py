"""Shared machinery of the graded exercise sets: build the autograder with ``otter assign``,
grade one submission with otter's local runner (the engine of ``otter run``) in a child process
with a time limit, and read the questions and their points from an instructor source notebook.

Used by ``exercises/check.py`` (``make check-exercises``) and ``exercises/grade.py``
(``make grade``). Run as ``python exercises/grading.py --worker AUTOGRADER.zip NOTEBOOK OUT.json``
it grades one notebook and writes the scores as JSON: that is the child process ``grade_one``
starts, so that a submission that loops forever or kills its kernel cannot stop the others.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETS = ("set1_two_layer", "set2_ntk", "set3_deep", "set4_sgd")


def python() -> str:
    """The interpreter of the course's environment (the one running this file)."""
    return sys.executable


def otter_cli() -> list[str]:
    return [python(), "-m", "otter"]


def source_notebook(set_name: str) -> Path:
    return HERE / set_name / "source" / f"{set_name}.ipynb"


def student_notebook(set_name: str) -> Path:
    return HERE / set_name / "student" / f"{set_name}.ipynb"


def check_set_name(set_name: str) -> str:
    if set_name not in SETS:
        raise SystemExit(f"unknown exercise set {set_name!r}: choose one of {', '.join(SETS)}")
    return set_name


# --- questions and points, read from the source notebook ----------------------------------
def questions(set_name: str) -> list[dict]:
    """The questions of a set in order: ``{"name", "points", "manual"}`` from each
    ``# BEGIN QUESTION`` raw cell of the instructor source (every question states its points)."""
    import nbformat
    import yaml

    nb = nbformat.read(source_notebook(set_name), as_version=4)
    out = []
    for cell in nb.cells:
        if cell.cell_type == "raw" and re.match(r"#\s+BEGIN\s+QUESTION", cell.source, re.I):
            cfg = yaml.safe_load(cell.source.split("\n", 1)[1]) or {}
            if "points" not in cfg:
                raise ValueError(f"{set_name}: question {cfg.get('name')} states no points")
            out.append({"name": cfg["name"], "points": cfg["points"],
                        "manual": bool(cfg.get("manual", False))})
    return out


# --- otter assign --------------------------------------------------------------------------
def assign(set_name: str, dest: Path, *, run_tests: bool = False) -> dict:
    """Run ``otter assign`` on the set's source into ``dest`` (``dest/student``,
    ``dest/autograder``). Returns the paths of the student notebook, the solution (autograder)
    notebook and the autograder zip."""
    dest = Path(dest)
    cmd = otter_cli() + ["assign", str(source_notebook(set_name)), str(dest)]
    if not run_tests:
        cmd.append("--no-run-tests")
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE)
    if proc.returncode != 0:
        raise RuntimeError(f"otter assign failed for {set_name}:\n{proc.stdout}\n{proc.stderr}")
    zips = sorted((dest / "autograder").glob("*.zip"))
    if len(zips) != 1:
        raise RuntimeError(f"otter assign made {len(zips)} autograder zips for {set_name}")
    return {"student": dest / "student" / f"{set_name}.ipynb",
            "solution": dest / "autograder" / f"{set_name}.ipynb",
            "zip": zips[0]}


# --- grading one submission with a time limit ----------------------------------------------
def is_notebook(path: Path) -> str | None:
    """None if ``path`` reads as a Jupyter notebook, else the reason it does not."""
    import nbformat

    if path.suffix != ".ipynb":
        kind = path.suffix or "file without extension"
        return f"not a notebook (a {kind}); submit the .ipynb file"
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as e:  # any reading problem means: not a notebook we can grade
        return f"not a readable notebook ({type(e).__name__}: {str(e).splitlines()[0][:120]})"
    return None


def _kill_tree(pid: int) -> None:
    """Kill a process and all its descendants (the Jupyter kernel runs in its own session, so
    killing the process group alone would leave it running)."""
    import psutil

    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    procs = parent.children(recursive=True) + [parent]
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=10)


def grade_one(submission: Path, autograder_zip: Path, *, timeout: float, name: str) -> dict:
    """Grade one submission on a copy, in a child process killed after ``timeout`` seconds.

    Returns ``{"status", "scores": {question: points}, "message"}``; ``status`` is ``ok``,
    ``errors`` (graded, but some cells raised), ``timeout``, ``crashed`` (the grader could not
    finish, e.g. the kernel died) or ``not a notebook``. The submission itself is only read.
    """
    submission = Path(submission)
    reason = is_notebook(submission)
    if reason:
        return {"status": "not a notebook", "scores": {}, "message": reason}
    work = Path(tempfile.mkdtemp(prefix="grade_"))
    try:
        copy = work / f"{name}.ipynb"
        shutil.copyfile(submission, copy)          # otter works on the copy, never the original
        os.chmod(copy, 0o644)
        out = work / "result.json"
        log = open(work / "log.txt", "w")
        proc = subprocess.Popen(
            [python(), str(Path(__file__).resolve()), "--worker", str(autograder_zip), str(copy),
             str(out)],
            cwd=work, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            # One thread per submission: the problems are small, and several gradings (or other
            # work) share the cores; oversubscribed threads made a set 30x slower here. The CPU
            # only: the reference numbers of the hidden tests are computed on the CPU.
            env={**os.environ, "CI": "1", "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg",
                 "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""},
        )
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_tree(proc.pid)
            return {"status": "timeout", "scores": {},
                    "message": f"stopped after the time limit of {timeout:g} s (an endless loop?)"}
        finally:
            log.close()
        if proc.returncode != 0 or not out.exists():
            lines = (work / "log.txt").read_text(errors="replace").strip().splitlines()
            last = lines[-1].strip() if lines else f"exit status {proc.returncode}"
            return {"status": "crashed", "scores": {}, "message": f"grading stopped: {last[-300:]}"}
        res = json.loads(out.read_text())
        status = "errors" if res["errors"] else "ok"
        msg = ("cells raised: " + "; ".join(res["errors"][:3])) if res["errors"] else ""
        return {"status": status, "scores": res["scores"], "message": msg}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _worker(zip_path: str, nb_path: str, out_path: str) -> int:
    """Child process: grade one notebook with otter's local runner, write scores and errors."""
    import otter.run

    results = otter.run.main(nb_path, autograder=zip_path, output_dir=None, no_logo=True)
    if results.has_catastrophic_failure():
        raise RuntimeError(f"otter could not grade: {results.catastrophic_error}")
    scores = {name: float(tf.score) for name, tf in results.results.items()}
    errors = []
    for cell in (results.notebook.cells if results.notebook is not None else []):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                errors.append(f"{o.get('ename')}: {str(o.get('evalue'))[:80]}")
    Path(out_path).write_text(json.dumps({"scores": scores, "errors": errors}))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        sys.exit(_worker(*sys.argv[2:]))
    print(__doc__)
    sys.exit(2)
