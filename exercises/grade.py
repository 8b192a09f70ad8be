"""Grade a folder of submitted notebooks into a CSV (``make grade SET=... SUBMISSIONS=dir``).

    python exercises/grade.py SET SUBMISSIONS [--timeout 120] [--memory 4G] [--out grades.csv]
                              [--jobs 1]

One row per file in SUBMISSIONS (sorted by name; hidden files skipped), one column per question
(manual questions are left empty for the grader to fill in), then the auto-graded total, the
points possible, a status and a message. Each submission is graded on a copy by
``grading.grade_one``: its notebook runs in a sandboxed kernel with a memory limit, the tests
run in the grader's own interpreter on data read from that kernel, and everything the
submission started is killed after ``--timeout`` seconds or when its grading ends. A
submission that raises, loops forever, kills its kernel, tampers with the grading or is not a
notebook gets a row that says so and does not stop the others. The submissions are never
modified.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import grading  # noqa: E402
from grading.reports import write_csv  # noqa: E402


def grade_folder(set_name: str, folder: Path, *, timeout: float, out: Path,
                 jobs: int = 1, memory: int = grading.DEFAULT_MEMORY) -> list[dict]:
    grading.check_set_name(set_name)
    folder = Path(folder)
    if not folder.is_dir():
        raise SystemExit(f"SUBMISSIONS must be a folder of submitted notebooks; {folder} is not")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    qs = grading.questions(set_name)
    grading.set_subreaper()        # what a killed supervisor leaves behind comes back here

    def run(path):
        t0 = time.time()
        res = grading.grade_one(path, set_name, timeout=timeout, memory=memory)
        print(f"  {path.name}: {res['status']} ({time.time() - t0:.0f} s)", flush=True)
        return res

    print(f"grading {len(files)} submission(s) of {set_name} (time limit {timeout:g} s, "
          f"memory limit {memory / 1024 ** 3:g} GB each, {jobs} at once)")
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(run, files))
    grading.kill_orphans()

    rows = write_csv(out, qs, [(p.name, res) for p, res in zip(files, results)])
    print(f"wrote {out} ({len(rows)} row(s)); manual questions are left empty to grade by hand")
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("set", help=f"one of {', '.join(grading.SETS)}")
    p.add_argument("submissions", type=Path, help="folder of submitted notebooks")
    p.add_argument("--timeout", type=float, default=120, help="seconds per submission")
    p.add_argument("--out", type=Path, default=Path("grades.csv"))
    p.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    p.add_argument("--memory", default="4G",
                   help="memory limit of each submission's kernel, e.g. 4G, 512M; 0: none")
    a = p.parse_args(argv)
    try:
        memory = grading.parse_memory(a.memory)
    except ValueError as e:
        p.error(str(e))
    grade_folder(a.set, a.submissions, timeout=a.timeout, out=a.out, jobs=a.jobs,
                 memory=memory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
