"""Grade one Gradescope submission (called by ``run_autograder``).

Reads ``$AUTOGRADER_ROOT/source/autograder.json`` (the set, the time and memory limits), grades
the notebook found in ``$AUTOGRADER_ROOT/submission/`` with ``grading.grade_one`` (the function
``make grade`` calls: the notebook runs in a sandboxed kernel, the tests in this interpreter on
the answers it hands over as data, everything it started is killed at the end), and writes
``$AUTOGRADER_ROOT/results/results.json`` in Gradescope's format (``grading.reports``). What it
prints goes to Gradescope's autograder output, which only instructors see. ``AUTOGRADER_ROOT``
defaults to ``/autograder``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

EXERCISES = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(EXERCISES))
import grading  # noqa: E402
from grading.reports import gradescope_results  # noqa: E402


def autograder_root() -> Path:
    return Path(os.environ.get("AUTOGRADER_ROOT") or "/autograder")


def find_submission(folder: Path, set_name: str) -> tuple[Path | None, str]:
    """The file to grade in Gradescope's submission folder, and a note on the choice: the
    notebook named after the set, else the only (or first) notebook, else the first file."""
    files = sorted(p for p in folder.rglob("*") if p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    notebooks = [p for p in files if p.suffix == ".ipynb"]
    named = [p for p in notebooks if p.name == f"{set_name}.ipynb"]
    if named:
        chosen = named[0]
    elif notebooks:
        chosen = notebooks[0]
    elif files:
        chosen = files[0]
    else:
        return None, "the submission holds no file"
    note = ""
    if len(notebooks) > 1:
        note = (f"{len(notebooks)} notebooks were submitted; graded "
                f"{chosen.relative_to(folder)}")
    return chosen, note


def grade(root: Path) -> tuple[dict, str]:
    """Grade the submission under ``root``; the result and a note for the output."""
    config = json.loads((root / "source" / "autograder.json").read_text())
    set_name = config["set"]
    path, note = find_submission(root / "submission", set_name)
    if path is None:
        return {"status": "not a notebook", "scores": {}, "message": note}, ""
    print(f"grading {path.name} ({set_name}, time limit {config['timeout']:g} s, memory limit "
          f"{config['memory']})", flush=True)
    res = grading.grade_one(path, set_name, timeout=float(config["timeout"]),
                            memory=grading.parse_memory(config["memory"]))
    return res, note


def main() -> int:
    t0 = time.monotonic()
    root = autograder_root()
    results_dir = root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    set_name = json.loads((root / "source" / "autograder.json").read_text())["set"]
    questions, tests = grading.questions(set_name), grading.tests(set_name)
    grading.set_subreaper()          # what a killed supervisor leaves behind comes back here
    try:
        from sandbox import landlock_abi
        abi = landlock_abi()
        print(f"Landlock ABI {abi}" + ("" if abi else ": not available here, so the "
              "submission's kernel runs with this process's file permissions"), flush=True)
        res, note = grade(root)
    except Exception:  # the grader itself failed: say so, score nothing
        traceback.print_exc()
        res, note = {"status": "crashed", "scores": {},
                     "message": "the autograder could not grade this submission"}, ""
    finally:
        grading.kill_orphans()
    if note:
        res["message"] = f"{note}; {res['message']}" if res["message"] else note
    out = gradescope_results(questions, tests, res, execution_time=time.monotonic() - t0)
    (results_dir / "results.json").write_text(json.dumps(out, indent=1))
    print(f"status {res['status']}: {out['score']:g} points "
          f"({', '.join(f'{q}: {s:g}' for q, s in res['scores'].items())})"
          + (f"; {res['message']}" if res["message"] else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
