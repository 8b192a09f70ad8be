"""Grading throughput: `make grade` on 50 submissions of one exercise set with 2 jobs.

Writes benchmarks/grading_throughput.md (submissions per minute, and what a class of 300 takes
at that rate) and gives `make bench` its row. The submissions are the set's reference solution,
copied 50 times: each is graded in full (its own sandboxed kernel, every test), as a real one.

    python benchmarks/bench_grading.py [--n 50] [--jobs 2] [--set set1_two_layer]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import machine, row

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "exercises"))
import grading  # noqa: E402

OUT = Path(__file__).resolve().parent / "grading_throughput.md"
CLASS = 300
GOAL_MIN = 60          # a class of 300 graded within an hour


def measure(set_name: str, n: int, jobs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench_grading_") as tmp:
        built = grading.assign(set_name, Path(tmp) / "dist")
        folder = Path(tmp) / "submissions"
        folder.mkdir()
        for k in range(n):
            shutil.copyfile(built["solution"], folder / f"student_{k:03d}.ipynb")
        out = Path(tmp) / "grades.csv"
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(ROOT / "exercises" / "grade.py"), set_name, str(folder),
             "--jobs", str(jobs), "--out", str(out), "--timeout", "300"],
            capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        secs = time.perf_counter() - t0
        rows = list(csv.DictReader(out.open())) if out.exists() else []
    possible = sum(q["points"] for q in grading.questions(set_name) if not q["manual"])
    full = sum(r["status"] == "ok" and float(r["total"]) == possible for r in rows)
    return {"seconds": secs, "n": n, "jobs": jobs, "set": set_name, "full": full,
            "rate": 60 * n / secs, "ok": proc.returncode == 0 and full == n,
            "tail": proc.stdout.strip().splitlines()[-2:] + proc.stderr.strip().splitlines()[-2:]}


def write(res: dict, info: dict) -> None:
    class_min = CLASS / res["rate"]
    OUT.write_text(
        "# Grading throughput\n\n"
        f"Written by `python benchmarks/bench_grading.py` on {info['date']}, "
        f"{info['cpu']}, cores: {info['cores']}, load average at start: "
        f"{info.get('load average at start', '?')}.\n\n"
        f"| set | submissions | jobs | wall time | submissions per minute | a class of {CLASS} |\n"
        "|---|---|---|---|---|---|\n"
        f"| {res['set']} | {res['n']} | {res['jobs']} | {res['seconds'] / 60:.1f} min | "
        f"{res['rate']:.1f} | {class_min:.0f} min |\n\n"
        f"All {res['full']} of {res['n']} copies of the reference solution got full marks"
        + ("." if res["ok"] else f" (expected {res['n']}; the run failed: {res['tail']}).")
        + "\n\nEach submission is graded in full: a sandboxed kernel of its own runs the "
        "notebook, then the grader's interpreter runs every public and hidden test against the "
        "answers it reads from that kernel. A submission's time is the start of those two "
        "Python processes (each imports torch), the set's own computations and the tests. The "
        "machine is shared, so the figure moves with its load (given above).\n")


def grading_bench(quick: bool) -> list:
    n = 10 if quick else 50
    info = machine()
    res = measure("set1_two_layer", n, 2)
    write(res, info)
    class_min = CLASS / res["rate"]
    return [row("grading", f"`make grade` of {n} submissions of set 1, 2 jobs", "-",
                f"a class of {CLASS} < {GOAL_MIN} min",
                f"{res['rate']:.1f} submissions/min ({class_min:.0f} min for {CLASS})",
                res["ok"] and class_min < GOAL_MIN,
                "table in [grading_throughput.md](grading_throughput.md)")]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=50)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--set", default="set1_two_layer", choices=grading.SETS)
    a = p.parse_args(argv)
    info = machine()
    res = measure(a.set, a.n, a.jobs)
    write(res, info)
    print(OUT.read_text())
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
