"""Run the course's benchmarks and write benchmarks/RESULTS.md (what `make bench` runs).

    python benchmarks/run.py                         # everything (about 10 minutes on 2 cores)
    python benchmarks/run.py --quick                 # fewer repeats, Figure 1 scaled down
    python benchmarks/run.py --only gd_step,sweep    # a subset

Benchmarks: gd_step (three rows: train vs its matrix products, vs torch.nn + SGD, with
records), sweep, deep_ntk, empirical_ntk, figure1, lessons (writes lesson_resources.md).
Every figure is a ratio of timings taken in the same run, the two sides alternating, because
the machine is shared and noisy. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402

import bench_kernels  # noqa: E402
import bench_training  # noqa: E402
import lesson_resources  # noqa: E402
from common import machine, row  # noqa: E402

BENCHMARKS = {
    "gd_step": bench_training.gd_step,
    "sweep": bench_training.sweep_vs_loop,
    "deep_ntk": bench_kernels.deep_ntk_bench,
    "empirical_ntk": bench_kernels.empirical_ntk_bench,
    "figure1": bench_training.figure1,
}
ALL = list(BENCHMARKS) + ["lessons"]

NOTES = """\
## How each figure is measured

- **GD step.** `train`'s marginal cost of a step, (T(k steps) - T(0 steps)) / k, so what a call
  pays once (input checks, the copy of the initial model, the final record) is left out. The
  floor is the two n x d x m products of the step, `X @ W.T` and `X.T @ P` (P the 0/1
  activation pattern), into preallocated outputs: nothing else in a step is O(ndm). The
  `torch.nn` side is `nn.Linear(d, m, bias=False)`, ReLU, the fixed output layer, the same
  1/2-sum loss, `backward()` and `torch.optim.SGD.step()`.
- **sweep.** One `sweep` call against 32 `train` calls on the same data, both recording loss,
  radius and flips every step; the losses of the two are compared as a check.
- **deep_ntk.** The floor is one multiply of two n x n matrices into a preallocated one per
  layer. For information the table also gives the time of one `arccos` pass per layer.
- **empirical_ntk.** The reference loop makes one backward pass per example and stacks the
  gradients into J; its kernel J J^T is checked against `empirical_ntk` on a few examples. At
  n = 256 J has 2.2 million columns (4.5 GB in float64), so only the loop's backward passes are
  timed: the speed-up shown is a lower bound.
- **Figure 1.** Du et al. (2019), Section 5: n = d = 1000 on the sphere, Gaussian labels, 100
  epochs of full-batch GD (100 steps), widths 1250, 2500, 5000, 10000, float32, loss, flips
  and radius every step, as one `sweep`.
- **Lessons.** Each notebook in a fresh kernel, peak RSS of the kernel process:
  [lesson_resources.md](lesson_resources.md).

## What was profiled and changed

The torch profiler showed, for the GD step at n=1000, d=200, m=8192 (float64): the two matrix
products about 70% of the time, `torch.where` building the masked residual matrix about 20%, and
allocating fresh (n, m) matrices every step (each one page-faulted in anew, since blocks this
large are returned to the system when freed) most of the rest; the product `P.T @ X`
(m x n times n x d) was about twice as slow as the same numbers computed as `X.T @ P`. The fast
path of `train` (`_two_layer_pass`) now keeps the pattern as a 0/1 matrix, computes the gradient
as `((r * X).T @ P).T`, and reuses its two (n, m) buffers from step to step; the `flips` record
counts changed patterns with `count_nonzero` instead of converting a boolean matrix to float64.
`deep_ntk` computes each layer in place with one `arccos` (kappa_0 and kappa_1 share it) instead
of allocating about fifteen n x n temporaries per layer. Results are unchanged: the same
operations in the same order for `deep_ntk` (bit for bit), and differences of at most 1e-15
relative (the order of a sum inside a matrix product) for `train`.

## What is not reached, and why

- **deep_ntk vs one elementwise pass per layer.** A layer of the recursion is about a dozen
  elementwise operations on n x n matrices (kappa_0, kappa_1, the products and the update of
  Theta), one of them an `arccos`, which by itself costs several multiply passes; in eager
  torch each is its own pass over memory. Reaching 3x would take a fused kernel (a compiled
  extension or `torch.compile`, whose start-up of tens of seconds a lesson cannot afford).
- **Figure 1 on a GPU.** Not measured where no GPU is available; `python benchmarks/run.py
  --only figure1` on a GPU machine measures it (the benchmark uses the GPU when present).
"""


def results_md(rows, info, command, seconds, lessons) -> str:
    out = ["# Benchmark results", "",
           f"Written by `{command}` on {info['date']} in {seconds / 60:.1f} min.",
           "Every figure compares two timings taken in the same run, alternating, because the "
           "machine is shared and noisy.", "", "## Machine", "",
           "| | |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in info.items()]
    out += ["", "## Results", "",
            "| what | compared with | goal | measured | reached |", "|---|---|---|---|---|"]
    for r in rows:
        met = {True: "yes", False: "**no**", None: "not measured"}[r["met"]]
        out.append(f"| {r['what']} | {r['compared']} | {r['goal']} | {r['value']} | {met} |")
    out += ["", "Details:", ""]
    out += [f"- `{r['key']}`: {r['detail']}" for r in rows if r["detail"]]
    out += ["", NOTES]
    return "\n".join(out)


def lessons_rows(quick: bool, info) -> list:
    res = lesson_resources.run_all(f"{info['cpu']} ({info['cores']} cores)", info["date"])
    if not res:
        return [row("lessons", "every lesson", "-", "< 60 s and < 1.5 GB peak memory",
                    "no lessons yet", None, "lessons/ holds no notebook")]
    ok = [r for r in res.values() if not r.get("error")]
    slow = max((r["seconds"] for r in ok), default=float("nan"))
    big = max((r["peak_mib"] for r in ok), default=float("nan")) * 2**20 / 1e6
    fine = all(not r.get("error") and r["seconds"] < lesson_resources.LIMIT_S
               and r["peak_mib"] < lesson_resources.LIMIT_MB for r in res.values())
    failed = [k for k, r in res.items() if r.get("error")]
    return [row("lessons", f"every lesson ({len(res)} notebooks)", "-",
                "< 60 s and < 1.5 GB peak memory",
                f"slowest {slow:.0f} s, largest {big:.0f} MB", fine,
                "table in [lesson_resources.md](lesson_resources.md)"
                + (f"; failed: {', '.join(failed)}" if failed else ""))]


def main(argv=None):
    ap = argparse.ArgumentParser(description="Run the benchmarks; write benchmarks/RESULTS.md.")
    ap.add_argument("--only", default=",".join(ALL),
                    help=f"comma-separated subset of {','.join(ALL)}")
    ap.add_argument("--quick", action="store_true",
                    help="fewer steps and repeats; Figure 1 at a tenth of the widths, extrapolated")
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"), help="where to write the results")
    args = ap.parse_args(argv)
    chosen = [k.strip() for k in args.only.split(",") if k.strip()]
    unknown = [k for k in chosen if k not in ALL]
    if unknown:
        ap.error(f"unknown benchmark(s) {unknown}: choose from {ALL}")
    command = "python benchmarks/run.py" + ("" if argv is None and len(sys.argv) == 1 else
                                            " " + shlex.join(sys.argv[1:] if argv is None else argv))
    info = machine()
    print("\n".join(f"{k}: {v}" for k, v in info.items()), flush=True)
    t0, rows = time.perf_counter(), []
    for key in chosen:
        print(f"[{key}] ...", flush=True)
        t1 = time.perf_counter()
        got = lessons_rows(args.quick, info) if key == "lessons" else BENCHMARKS[key](args.quick)
        for r in got:
            flag = {True: "ok", False: "NOT REACHED", None: "-"}[r["met"]]
            print(f"  {r['what']}: {r['value']} (goal {r['goal']}) {flag}", flush=True)
        print(f"  ({time.perf_counter() - t1:.0f} s)", flush=True)
        rows += got
    rows.append(row("make_test", "`make test` on a clean clone", "-", "< 20 min",
                    "not measured by `make bench`", None,
                    "timed separately: `git clone` into a fresh folder, then `time make test`"))
    text = results_md(rows, info, command, time.perf_counter() - t0, "lessons" in chosen)
    Path(args.out).write_text(text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
