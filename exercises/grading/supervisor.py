"""The supervisor: one process per submission (``python exercises/grading --supervise``, its job
on stdin), started in its own session by ``core.grade_one`` and killed at the time limit with
everything below it.

It runs the submission's notebook in a sandboxed kernel (``kernel.py``), then the tests in its
own interpreter, which never imports student code (``compare.py``), and writes its result signed
with the key the job gave it. It is a child subreaper: orphans of the submission come back to
it, and it kills every descendant before it writes the result.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from .compare import Tampered, WATCHED, clean_modules, reference_fingerprints, replaced, run_tests
from .core import sign
from .kernel import KernelSession, clean_describe, kernel_env
from .processes import MARKER, kill_children, set_subreaper


def _log(text: str) -> None:
    print(text, flush=True)


def grade_notebook(session: KernelSession, nb, qtests: dict, reference: dict) -> dict:
    """Run one notebook's cells in the kernel, then the tests here.

    Returns ``{"status", "scores", "message", "tests": {question: [per-test results]}}``."""
    res = {"status": "ok", "scores": {}, "message": "", "tests": {}}
    t_nb = time.monotonic()
    errors = session.run_notebook(nb)
    try:
        session.install_helper()
        changed = replaced(session.fingerprints(WATCHED), reference)
        if changed:
            raise Tampered("replaced " + ", ".join(changed[:6])
                           + (" ..." if len(changed) > 6 else ""))
        _log(f"cells ran in {time.monotonic() - t_nb:.1f} s")
        touched: list[str] = []
        clean = clean_modules()
        for q, tests_q in qtests.items():
            out = run_tests(tests_q, session.fetch, clean, log=_log)
            if out["tampered"]:
                touched.append(f"{q}: {out['tampered']}")
            res["scores"][q] = out["score"]
            res["tests"][q] = out["tests"]
        if touched:
            res["status"] = "tampered"
            res["message"] = "; ".join(touched)
    except Tampered as e:
        res = {"status": "tampered", "scores": {q: 0.0 for q in qtests}, "message": str(e),
               "tests": {}}
    if res["status"] == "ok" and errors:
        res["status"] = "errors"
        res["message"] = "cells raised: " + "; ".join(errors[:3])
    elif res["status"] == "tampered" and errors:
        res["message"] += " (cells raised: " + "; ".join(errors[:2]) + ")"
    return res


def supervise(job: dict) -> list[dict]:
    """Run a submission's notebook in a sandboxed kernel and its tests here; the result (one
    per notebook of ``job["notebooks"]``: more than one only for the instructor's mutants)."""
    import nbformat
    import torch
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    t_start = time.monotonic()
    _log(f"imports done at {time.time():.1f}")
    t_end = t_start + job["deadline_s"] - 3
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    work = Path(job["work"])
    session = KernelSession(work, memory=job["memory"], t_end=t_end)
    reference = reference_fingerprints(clean_describe())

    results: list[dict] = []
    items = job["notebooks"]
    try:
        _log(f"supervisor ready after {time.monotonic() - t_start:.1f} s")
        with session.start(kernel_env(work, MARKER, job["marker"])):
            _log(f"kernel up after {time.monotonic() - t_start:.1f} s")
            for k, item in enumerate(items):
                if k:    # a batch of the instructor's own notebooks (mutants): a clean namespace
                    session.reset()
                only = item.get("only")
                qtests = {q: ts for q, ts in job["tests"].items() if not only or q in only}
                results.append(grade_notebook(session, nbformat.read(item["path"], as_version=4),
                                              qtests, reference))
    except DeadKernelError as e:
        why = str(e).splitlines()[0][:120] if str(e) else "out of memory?"
        results.append({"status": "crashed", "scores": {}, "message": f"the kernel died ({why})"})
    except CellTimeoutError:
        results.append({"status": "timeout", "scores": {},
                        "message": f"stopped after the time limit of {job['deadline_s']:g} s"})
    _log(f"kernel down after {time.monotonic() - t_start:.1f} s")
    while len(results) < len(items):
        results.append(dict(results[-1]))
    return results


def main() -> int:
    _log(f"supervisor started at {time.time():.1f}")
    job = json.loads(sys.stdin.read())
    set_subreaper()
    try:
        res = supervise(job)
    finally:
        kill_children()                  # the kernel and its orphans, reaped here
    payload = json.dumps(res)
    signed = {"payload": payload, "signature": sign(bytes.fromhex(job["key"]), payload)}
    Path(job["result"]).write_text(json.dumps(signed))
    return 0
