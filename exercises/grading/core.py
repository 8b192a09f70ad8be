"""The grading core: grade one submission without trusting the student's code.
``make grade`` (``exercises/grade.py``), the Gradescope autograder (``exercises/gradescope/``)
and ``make check-exercises`` all grade through ``grade_one`` (or, for the instructor's own
mutants, ``grade_batch``).

How a submission is graded. A *supervisor* process (``supervisor.py``), started in its own
session and killed at the time limit with everything it started, runs the notebook's cells in a
Jupyter kernel that is sandboxed (``kernel.py`` and ``exercises/sandbox.py``: a memory limit, no
capabilities and, with Landlock, writes only into the submission's own folder, no reads of the
course's sources, no signals outside the sandbox). The tests never run in that kernel: the
supervisor runs them in its own interpreter (``compare.py``) on values it reads from the kernel
as plain data. The supervisor signs its result with a key only this process and it know, so a
result file written by anyone else is rejected. When grading ends, every process the submission
started is killed (``processes.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .processes import DEFAULT_MEMORY, MARKER, kill_all
from .sources import python, tests

PACKAGE = Path(__file__).resolve().parent        # run as `python exercises/grading --supervise`


def is_notebook(path: Path) -> str | None:
    """None if ``path`` reads as a Jupyter notebook, else the reason it does not."""
    import nbformat

    path = Path(path)
    if path.suffix != ".ipynb":
        kind = path.suffix or "file without extension"
        return f"not a notebook (a {kind}); submit the .ipynb file"
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as e:  # any reading problem means: not a notebook we can grade
        return f"not a readable notebook ({type(e).__name__}: {str(e).splitlines()[0][:120]})"
    return None


def sign(key: bytes, payload: str) -> str:
    import hashlib
    import hmac

    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


_sign = sign            # the name the tests and older callers use


def read_signed(path: Path, key: bytes, n: int) -> list[dict]:
    """The supervisor's results from ``path``; ValueError unless signed with ``key`` (which
    only the grader and the supervisor know) and holding ``n`` results."""
    import hmac

    try:
        signed = json.loads(Path(path).read_text())
        payload, sig = str(signed["payload"]), str(signed["signature"])
        res = json.loads(payload)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"unreadable result: {e}") from None
    if not hmac.compare_digest(sig, sign(key, payload)):
        raise ValueError("result not signed by the grader")
    if not isinstance(res, list) or len(res) != n or not all(isinstance(r, dict) for r in res):
        raise ValueError("result of the wrong shape")
    return res


def grade_one(submission: Path, set_name: str, *, timeout: float, name: str | None = None,
              memory: int = DEFAULT_MEMORY, only: list[str] | None = None) -> dict:
    """Grade one submission on a copy, in a supervisor process killed after ``timeout``
    seconds together with every process the submission started.

    Returns ``{"status", "scores": {question: points}, "message"}`` and, when the tests ran,
    ``"tests": {question: [{"name", "points", "hidden", "passed", "message"}]}``. ``status`` is
    ``ok``, ``errors`` (graded, but some cells raised), ``tampered`` (scored 0 on what it
    touched), ``timeout``, ``crashed`` (the kernel died, or the grader could not finish) or
    ``not a notebook``. ``only`` grades a subset of the questions. The submission itself is
    only read.
    """
    submission = Path(submission)
    reason = is_notebook(submission)
    if reason:
        return {"status": "not a notebook", "scores": {}, "message": reason}
    return _supervised([(submission, only)], set_name, timeout=timeout, memory=memory,
                       name=name)[0]


def grade_batch(notebooks: list[tuple[Path, list[str] | None]], set_name: str, *,
                timeout: float) -> list[dict]:
    """Grade several of the *instructor's own* notebooks (the mutants) one after the other in
    one kernel, its namespace reset in between: never for submissions, which each get a
    fresh kernel (``grade_one``)."""
    return _supervised(notebooks, set_name, timeout=timeout, memory=DEFAULT_MEMORY)


def _supervised(notebooks, set_name, *, timeout, memory, name=None) -> list[dict]:
    import secrets

    base = Path(tempfile.mkdtemp(prefix="grade_"))
    os.chmod(base, 0o700)
    marker = secrets.token_hex(16)
    key = secrets.token_bytes(32)
    proc = None
    n = len(notebooks)

    def everyone(status, message):
        return [{"status": status, "scores": {}, "message": message} for _ in range(n)]

    try:
        private = base / "private"
        private.mkdir(mode=0o700)
        work = base / "work"
        work.mkdir(mode=0o700)
        items = []
        for k, (path, only) in enumerate(notebooks):
            copy = private / f"{k}_{name or set_name}.ipynb"
            shutil.copyfile(path, copy)              # graded from a copy, never the original
            items.append({"path": str(copy), "only": only})
        result = private / "result.json"
        job = {"notebooks": items, "set": set_name, "work": str(work), "result": str(result),
               "memory": int(memory), "marker": marker, "key": key.hex(),
               "deadline_s": float(timeout), "tests": tests(set_name)}
        log = open(private / "log.txt", "w")
        env = {k: v for k, v in os.environ.items() if k != MARKER}
        # One thread per submission: the problems are small and several gradings share the
        # cores (oversubscribed threads made a set 30x slower). The CPU only: the tests'
        # references are computed on the CPU.
        env.update({"CI": "1", "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
                    "MKL_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""})
        proc = subprocess.Popen([python(), str(PACKAGE), "--supervise"],
                                cwd=private, stdin=subprocess.PIPE, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True, env=env)
        try:
            proc.stdin.write(json.dumps(job).encode())
            proc.stdin.close()
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return everyone("timeout", f"stopped after the time limit of {timeout:g} s "
                                       "(an endless loop?)")
        except BrokenPipeError:
            proc.wait(timeout=timeout)
        finally:
            kill_all(proc.pid, marker)
            log.close()
        if not result.exists():
            lines = (private / "log.txt").read_text(errors="replace").strip().splitlines()
            last = lines[-1].strip() if lines else f"exit status {proc.returncode}"
            return everyone("crashed", f"grading stopped: {last[-300:]}")
        try:
            return read_signed(result, key, n)
        except ValueError:
            return everyone("tampered", "the grader's result file was written by someone else")
    finally:
        if proc is not None:
            kill_all(None, marker)
        if os.environ.get("OVERPARAM_GRADING_KEEP"):      # debugging: keep logs and files
            print(f"kept {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)
