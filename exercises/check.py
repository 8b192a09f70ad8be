"""``make check-exercises``: prove, for every exercise set, that

1. the committed student notebook is exactly what ``otter assign`` makes from the instructor
   source today (a stale student notebook is a failure: regenerate it with
   ``python exercises/check.py --regenerate``);
2. the student notebook leaks no solution and no hidden test;
3. the reference solutions get full marks on every auto-graded question;
4. the untouched student notebook gets zero on every auto-graded question;
5. every auto-graded question has at least two mutants (``<set>/source/mutants.yml``: the
   reference solution with one plausible mistake) and every mutant loses points on its
   question;
6. the feedback of ``grader.check`` teaches: every mutant marked ``public: true`` (a mistake
   the question warns about) fails a public test, not only hidden ones; each public test of
   the untouched student notebook says what is missing (a name not defined yet, a function
   that returns None) instead of failing on it; and the student notebook starts with the
   set's init cell (``grading.init_cell``: it finds a renamed notebook, or says what to do).

Grading goes through ``exercises/grading/`` (``grade_one``), as ``make grade`` does, with a
time limit per notebook. Exits non-zero on any failure, after a summary table.

    python exercises/check.py [--regenerate] [--jobs 2] [SET ...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import grading  # noqa: E402

TIMEOUT = 240  # seconds per notebook; a whole set runs in well under a minute
# What a public test of the untouched notebook must say, in one form or another: the name it
# needs is not defined yet (otter passes None, the grader cannot read it) or still `...`, or
# the function it calls returns None.
MISSING_FEEDBACK = ("is not defined", "returned None", "holds None")


def _normalized(path: Path) -> dict:
    """A notebook as JSON with what legitimately differs between two ``otter assign`` runs
    (cell ids, nbformat minor version) removed."""
    nb = json.loads(Path(path).read_text())
    nb.pop("nbformat_minor", None)
    for cell in nb.get("cells", []):
        cell.pop("id", None)
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
    return nb


def regenerate(set_name: str) -> None:
    """Write the student notebook of a set from its source (``otter assign``); the autograder
    folder it also writes is git-ignored."""
    with tempfile.TemporaryDirectory() as tmp:
        built = grading.assign(set_name, Path(tmp) / "dist")
        dest = grading.student_notebook(set_name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built["student"], dest)
    print(f"regenerated {dest.relative_to(grading.HERE.parent)}")


def check_set(set_name: str) -> list[tuple[str, bool, str]]:
    """Run the four checks on one set; returns ``(check, passed, detail)`` rows."""
    rows = []
    qs = grading.questions(set_name)
    auto = [q for q in qs if not q["manual"]]
    with tempfile.TemporaryDirectory(prefix=f"check_{set_name}_") as tmp:
        built = grading.assign(set_name, Path(tmp) / "dist")
        committed = grading.student_notebook(set_name)

        # 1. fresh
        if not committed.exists():
            rows.append(("student notebook up to date", False, f"{committed} is missing"))
        else:
            same = _normalized(committed) == _normalized(built["student"])
            rows.append(("student notebook up to date", same,
                         "" if same else "differs from `otter assign` of the source: run "
                         "`python exercises/check.py --regenerate` and commit"))

        # 6. the init cell: finds the notebook's file whatever its name, or says what to do
        import nbformat

        if committed.exists():
            first = next((c.source for c in nbformat.read(committed, as_version=4).cells
                          if c.cell_type == "code"), "")
            ok = first == grading.init_cell(set_name)
            rows.append(("student notebook starts with the set's init cell", ok,
                         "" if ok else "its first code cell is not grading.init_cell(set): "
                         "copy it into the source (and set `init_cell: false`)"))

        # 2. no leaks
        text = committed.read_text() if committed.exists() else ""
        leaks = [s for s in ("BEGIN SOLUTION", "END SOLUTION", "hidden=True", "Reference answer")
                 if s in text]
        rows.append(("no solution or hidden test in student notebook", not leaks,
                     f"found {leaks}" if leaks else ""))

        # 5. the mutant suite: notebooks written before grading starts
        solution = nbformat.read(built["solution"], as_version=4)
        suite, broken = [], []
        for m in grading.mutants(set_name):
            try:
                path = Path(tmp) / f"mutant_{m['question']}_{m['name']}.ipynb"
                nbformat.write(grading.mutant_notebook(solution, m), path)
                suite.append((m, path))
            except ValueError as e:
                broken.append(str(e))

        # 3, 4 and 5: grade the solutions, the untouched student notebook and the mutants,
        # in two batches of one kernel each (all of them are the instructor's own notebooks).
        blank = committed if committed.exists() else built["student"]
        halves = [[(built["solution"], None)] + [(p, [m["question"]]) for m, p in suite[0::2]],
                  [(blank, None)] + [(p, [m["question"]]) for m, p in suite[1::2]]]
        with ThreadPoolExecutor(max_workers=2) as pool:
            done = [f.result() for f in [pool.submit(grading.grade_batch, h, set_name,
                                                     timeout=TIMEOUT * len(h) / 4)
                                         for h in halves]]
        sol, stu = done[0][0], done[1][0]
        graded_mutants = list(zip([m for m, _ in suite[0::2]], done[0][1:])) + \
            list(zip([m for m, _ in suite[1::2]], done[1][1:]))

    full = {q["name"]: q["points"] for q in auto}
    bad = [f"{k}: {sol['scores'].get(k, 0):g}/{v:g}" for k, v in full.items()
           if abs(sol["scores"].get(k, 0.0) - v) > 1e-9]
    ok = sol["status"] == "ok" and not bad
    rows.append(("reference solutions get full marks", ok,
                 f"status {sol['status']} {sol['message']} {'; '.join(bad)}".strip() if not ok
                 else f"{sum(full.values()):g}/{sum(full.values()):g}"))
    nonzero = [f"{k}: {stu['scores'].get(k, 0):g}" for k in full if stu["scores"].get(k, 0.0) != 0]
    missing = [k for k in full if k not in stu["scores"]]
    ok = stu["status"] in ("ok", "errors") and not nonzero and not missing
    rows.append(("untouched student notebook gets zero", ok,
                 f"status {stu['status']} {stu['message']} nonzero {nonzero} missing {missing}"
                 if not ok else f"0/{sum(full.values()):g} on {len(full)} questions"))
    silent = [f"{t['name']}: {t['message'][:100] or 'passed'}"
              for q in full for t in stu.get("tests", {}).get(q, [])
              if not t["hidden"] and (t["passed"] or not any(
                  s in t["message"] for s in MISSING_FEEDBACK))]
    no_tests = [q for q in full if not stu.get("tests", {}).get(q)]
    ok = not silent and not no_tests
    rows.append(("untouched notebook: each public test says what is missing", ok,
                 "; ".join(silent + [f"{q}: not graded" for q in no_tests]) if not ok
                 else f"{sum(not t['hidden'] for q in full for t in stu['tests'][q])} "
                 "public tests"))
    counts = {q["name"]: sum(m["question"] == q["name"] for m, _ in suite) for q in auto}
    few = [f"{q}: {c}" for q, c in counts.items() if c < 2]
    rows.append(("at least two mutants per auto-graded question", not few and not broken,
                 "; ".join(few + broken) if few or broken
                 else f"{len(suite)} mutants on {len(auto)} questions"))
    survivors = []
    for m, res in graded_mutants:
        got = res["scores"].get(m["question"], 0.0)
        if "NameError" in res["message"]:        # a needed cell left out: not a fair run
            survivors.append(f"{m['question']}/{m['name']} (not graded fairly: "
                             f"{res['message'][:120]})")
        elif res["status"] not in ("ok", "errors") or got >= full[m["question"]] - 1e-9:
            survivors.append(f"{m['question']}/{m['name']} ({res['status']}, "
                             f"{got:g}/{full[m['question']]:g} {res['message'][:80]})".strip())
    rows.append(("every mutant loses points on its question", not survivors,
                 "full marks or not graded: " + "; ".join(survivors) if survivors
                 else f"{len(graded_mutants)}/{len(graded_mutants)} lose points"))
    marked = [(m, res) for m, res in graded_mutants if m.get("public")]
    unseen = [f"{m['question']}/{m['name']}" for m, res in marked
              if not any(not t["passed"] for t in res.get("tests", {}).get(m["question"], [])
                         if not t["hidden"])]
    rows.append(("every mutant marked public fails a public test", not unseen,
                 "grader.check passes: " + "; ".join(unseen) if unseen
                 else f"{len(marked)}/{len(marked)} caught by grader.check"))
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="check or regenerate the graded exercise sets")
    p.add_argument("sets", nargs="*", default=list(grading.SETS))
    p.add_argument("--regenerate", action="store_true",
                   help="rewrite the student notebooks from the sources instead of checking")
    a = p.parse_args(argv)
    for s in a.sets:
        grading.check_set_name(s)
    if a.regenerate:
        for s in a.sets:
            regenerate(s)
        return 0
    t0 = time.time()
    failed = 0
    summary = []
    for s in a.sets:
        t = time.time()
        try:
            rows = check_set(s)
        except Exception as e:  # a broken source must fail the check, with the reason
            rows = [("otter assign and grading", False, f"{type(e).__name__}: {e}")]
        for check, passed, detail in rows:
            failed += not passed
            summary.append(f"{'PASS' if passed else 'FAIL'}  {s:16s} {check}"
                           + (f"  ({detail})" if detail else ""))
        print(f"{s}: checked in {time.time() - t:.0f} s", flush=True)
    print("\n".join(summary))
    print(f"check-exercises: {len(summary) - failed} passed, {failed} failed "
          f"in {time.time() - t0:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
