"""Wall time and peak memory of every lesson, as a learner runs it (top to bottom, fresh kernel).

Each notebook in lessons/ is executed by nbclient in its own subprocess (the notebook file is
read, never written); a thread polls the resident memory (RSS) of the kernel process, and of any
process it starts, every 50 ms. The table goes to benchmarks/lesson_resources.md, which the
book's "how to use" and teaching pages include verbatim; the teaching page also includes
benchmarks/class_capacity.md (what a class needs).

    python benchmarks/lesson_resources.py             # every lessons/*.ipynb
    python benchmarks/lesson_resources.py --one lessons/01_intro.ipynb   # one, prints JSON
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "benchmarks" / "lesson_resources.md"
CAPACITY = ROOT / "benchmarks" / "class_capacity.md"   # included by book/teaching.md
# Every lesson: < 60 s and < 800 MB (10^6 bytes) of peak kernel memory, so that it runs in a
# Binder session (1-2 GB for the kernel, the server and the browser's page together).
LIMIT_S, LIMIT_MB = 60.0, 800.0
GOAL = f"< {LIMIT_S:.0f} s and < {LIMIT_MB:.0f} MB peak memory"


def _run_one(path: Path, timeout: int) -> dict:
    """Execute one notebook here, polling the kernel's RSS; returns seconds and peak MiB."""
    import nbformat
    import psutil
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    me, peak, done = psutil.Process(), [0], threading.Event()

    def poll():
        while not done.is_set():
            total = 0
            for p in me.children(recursive=True):
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            peak[0] = max(peak[0], total)
            time.sleep(0.05)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    t0 = time.perf_counter()
    error = None
    try:
        client.execute()
    except Exception as exc:                     # a failing lesson is a row, not a crash
        last = str(exc).strip().splitlines()[-1][:120] if str(exc).strip() else ""
        error = f"{type(exc).__name__}: {last}"
    wall = time.perf_counter() - t0
    done.set()
    thread.join()
    return {"seconds": wall, "peak_mib": peak[0] / 2**20, "error": error}


def measure(path: Path, timeout: int = 600) -> dict:
    """Run ``_run_one`` in a fresh Python process (so lessons never share memory or state)."""
    proc = subprocess.run([sys.executable, __file__, "--one", str(path), "--timeout", str(timeout)],
                          capture_output=True, text=True, cwd=ROOT, timeout=timeout + 120)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"seconds": float("nan"), "peak_mib": float("nan"), "error": tail[:160]}


def megabytes(result: dict) -> float:
    """Peak RSS in MB (10^6 bytes)."""
    return result["peak_mib"] * 2**20 / 1e6


def lessons() -> list:
    """The lessons, then the chapters' checks pages (lessons/checks/)."""
    lessons = sorted((ROOT / "lessons").glob("*.ipynb"))
    return lessons + sorted((ROOT / "lessons" / "checks").glob("*.ipynb"))


def table(results: dict, machine: str, date: str) -> str:
    lines = [
        f"Each lesson executed top to bottom in a fresh kernel on {machine}, {date}; "
        f"peak memory is the kernel's resident set size (RSS), polled every 50 ms. "
        f"Goal: under {LIMIT_S:.0f} s and under {LIMIT_MB:.0f} MB each (Binder's memory). "
        "Re-measure with `python benchmarks/run.py --only lessons`.",
        "",
        "| lesson | wall time (s) | peak memory (MB) | within the goal |",
        "|---|---:|---:|---|",
    ]
    for name, r in results.items():
        if r.get("error"):
            ok = f"no: failed ({r['error']})"
        else:
            ok = "yes" if r["seconds"] < LIMIT_S and megabytes(r) < LIMIT_MB else "no"
        lines.append(f"| `{name}` | {r['seconds']:.1f} | {megabytes(r):.0f} | {ok} |")
    if not results:
        lines.append("| (no lesson notebooks yet) | | | |")
    return "\n".join(lines) + "\n"


def capacity(results: dict, classes=(300, 3_000), window_s: float = 300.0,
             limit_gb: float = 1.0) -> str:
    """What a class needs, from the measured lessons (book/teaching.md): memory with everyone's
    largest lesson open, cores with everyone running the slowest lesson within ``window_s``,
    and core-hours for every notebook once per student. Lessons that failed are left out."""
    ok = {k: r for k, r in results.items() if not r.get("error")}
    if not ok:
        return "(no lesson measured yet)\n"
    big = max(ok, key=lambda k: megabytes(ok[k]))
    slow = max(ok, key=lambda k: ok[k]["seconds"])
    mb, sec = megabytes(ok[big]), ok[slow]["seconds"]
    total = sum(r["seconds"] for r in ok.values())
    head = " | ".join(f"a class of {c:,}" for c in classes)
    rows = [f"| | {head} |", "|---|" + "---|" * len(classes)]
    mem = " | ".join(f"{c:,} × {mb:.0f} MB ≈ {c * mb / 1e3:,.0f} GB (≤ {c * limit_gb:,.0f} GB "
                     f"at the {limit_gb:g} GB limit)" for c in classes)
    rows.append(f"| memory, everyone with the largest lesson (`{big}`) open at once | {mem} |")
    cpu = " | ".join(f"{c:,} × {sec:.1f} s / {window_s:.0f} s ≈ {c * sec / window_s:,.0f} cores"
                     for c in classes)
    rows.append(f"| cores, everyone running the slowest lesson (`{slow}`, {sec:.1f} s) within "
                 f"the same {window_s / 60:.0f} minutes | {cpu} |")
    hours = " | ".join(f"{c:,} × {total:.0f} s ≈ {c * total / 3600:,.0f} core-hours"
                       for c in classes)
    rows.append(f"| cores over a whole course: all {len(ok)} notebooks (lessons and checks "
                f"pages) take {total:.0f} s of one core per student | {hours} |")
    return "\n".join(rows) + "\n"


def run_all(machine: str, date: str, only=None, timeout: int = 600) -> dict:
    results = {}
    for path in lessons():
        if only and path.stem not in only and path.name not in only:
            continue
        name = path.relative_to(ROOT / "lessons").as_posix()    # checks pages as checks/...
        print(f"  lesson {name} ...", flush=True)
        results[name] = measure(path, timeout)
    TABLE.write_text(table(results, machine, date))
    if not only:
        CAPACITY.write_text(capacity(results))
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one", help="execute one notebook in this process and print JSON")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(_run_one(Path(args.one).resolve(), args.timeout)))
        return
    sys.path.insert(0, str(Path(__file__).parent))
    from common import machine
    info = machine()
    run_all(f"{info['cpu']} ({info['cores']} cores)", info["date"], timeout=args.timeout)
    print(TABLE.read_text())


if __name__ == "__main__":
    main()
