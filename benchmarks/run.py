"""Run the course's benchmarks and write benchmarks/RESULTS.md (what `make bench` runs).

    python benchmarks/run.py                         # everything (about 15 minutes on 2 cores)
    python benchmarks/run.py --quick                 # fewer repeats, Figure 1 scaled down
    python benchmarks/run.py --only gd_step,sweep    # a subset

Benchmarks: gd_step (three rows: train vs its matrix products, vs torch.nn + SGD, with
records), sweep, deep_ntk, empirical_ntk, figure1, lessons (writes lesson_resources.md), make_test
(a clean clone's `make test`), grading (50 submissions with 2 jobs; writes grading_throughput.md).
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

import bench_grading  # noqa: E402
import bench_kernels  # noqa: E402
import bench_make_test  # noqa: E402
import bench_training  # noqa: E402
import lesson_resources  # noqa: E402
from common import machine, row  # noqa: E402

BENCHMARKS = {
    "gd_step": bench_training.gd_step,
    "sweep": bench_training.sweep_vs_loop,
    "deep_ntk": bench_kernels.deep_ntk_bench,
    "empirical_ntk": bench_kernels.empirical_ntk_bench,
    "figure1": bench_training.figure1,
    "make_test": bench_make_test.make_test_bench,
    "grading": bench_grading.grading_bench,
}
ALL = [k for k in BENCHMARKS if k != "make_test"] + ["lessons", "make_test"]
SKIPPED = {"gd_step": "one full-batch GD step via `train` (three rows)",
           "sweep": "`sweep` vs a loop of `train` calls", "deep_ntk": "`deep_ntk`",
           "empirical_ntk": "`empirical_ntk`", "figure1": "Du et al. Figure 1 at the paper's scale",
           "lessons": "every lesson: time and peak memory",
           "make_test": "`make test` on a clean clone",
           "grading": "`make grade`: submissions per minute"}

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
- **Figure 1.** `overparam.experiments.figure1` at Du et al.'s (2019, Section 5) scale: n = d =
  1000 on the sphere, Gaussian labels, 100 epochs of full-batch GD, its default widths up to
  10^4, float32, recording loss, flips, radius and lambda_min(H(k)) every epoch. This is the
  one absolute time in the table, so it moves with the load of the machine (given with it).
- **Lessons.** Each notebook in a fresh kernel, peak RSS of the kernel process:
  [lesson_resources.md](lesson_resources.md).

## What was profiled and changed

Profiled with the torch profiler (`torch.profiler.profile`, operators sorted by self time).

- **`train`, TwoLayerReLU fast path** (n=1000, d=200, m=8192, float64): the two matrix products
  took about 70% of a step, `torch.where` building the masked residual matrix about 20%, and
  allocating fresh (n, m) matrices every step most of the rest (blocks this large are returned
  to the system when freed and page-faulted in anew); the product `P.T @ X` (m x n by n x d)
  was about twice as slow as the same numbers computed as `X.T @ P`. `_two_layer_pass` now keeps
  the pattern as a 0/1 matrix, computes the gradient as `((r * X).T @ P).T` and reuses its two
  (n, m) buffers from step to step; the `flips` record counts changes with `count_nonzero`
  instead of converting a boolean matrix to float64.
- **`sweep`**: the same three changes, plus: each network's output is a small product per group
  of networks of one width (the (n, M) x (M, K) product with a 0/1 assignment matrix did K times
  the work), the residual of each neuron's network is broadcast group by group instead of
  gathered, and the radius and flips records reduce per network with `scatter_reduce` and
  `index_add_` instead of a Python loop over networks.
- **`deep_ntk`**: each layer computes one `arccos` that kappa_0 and kappa_1 share. A version
  that ran in place over cache-sized blocks of rows was about 1.5x faster still; it was not
  kept, because it wrote the recursion a second time in a form much harder to read beside the
  equations of chapter 12, and it missed the 3x goal all the same.

Results are unchanged: `train` and `sweep` in float64 differ by at most 1e-15 relative
(the order of a sum inside a
matrix product; `sweep` in float64 is bit for bit on the course's tests), float32 sweeps by
one rounding (6e-8).

## What is not reached, or not on every run, and why

The goals are ratios, but the ratios themselves move with the load of the machine: the loop of
small `train` calls, for instance, pays a fixed cost per torch call that grows when other work
competes for the two cores, so `sweep`'s advantage is larger on a busy machine than on a quiet
one (between 1.2x and 4.5x in development runs), and the GD-step rows ranged from 1.2x to 1.4x
(1.3x to 1.9x with records), `empirical_ntk`'s speed-up from 4x to 21x. The rows that
missed their goal on some or all runs:

- **GD step vs its products (<= 1.3x, <= 1.6x with records).** What is left besides the two
  products is about 60 ms a step of passes over the (n, m) matrices that a step needs: the
  pattern 1{Wx >= 0}, the ReLU, and the update of W by a gradient stored transposed (the faster
  product's layout); the records add one comparison of two (n, m) patterns (flips) and one
  (m, d) difference (radius). Removing more would take fusing the update into the product
  (`addmm_` on W's transpose), which would change what `train` hands to its records.
- **sweep vs the loop (>= 3x).** At the lesson scale (n=40, d=10) each of the 32 small networks
  of the loop lives in the CPU cache, while the batched run streams (n, 12000) matrices through
  memory several times a step; what the loop loses is a fixed cost per call, small on a quiet
  machine.
- **deep_ntk vs one elementwise pass per layer (<= 3x).** A layer of the recursion is about a
  dozen elementwise operations on n x n matrices (kappa_0, kappa_1, the products and the update
  of Theta), one of them an `arccos` that by itself costs several multiply passes; in eager
  torch each is its own pass over memory. Reaching 3x would take a fused kernel (a compiled
  extension, or `torch.compile`, whose start-up of tens of seconds a lesson cannot afford).
- **Figure 1 on 2 CPU cores (< 3 min).** Each of the 100 epochs does, for every width, the two
  products of the GD step (n x d x m each) and, for the lambda_min(H(k)) record that the figure
  adds to the paper's three panels, the Gram product S S^T (n x m x n) and an eigenvalue
  decomposition of an n x n matrix per width: a profile of three epochs gave about half of the
  time to the eigenvalue decompositions and a third to the products, and the table's details
  give an epoch's time as a multiple of its GD products. `figure1(..., record_every=10)`, or
  the paper's three panels alone through `sweep` (one batched run), cut most of the rest.
- **Figure 1 on a GPU (< 10 s).** Not measured where no GPU is available; `python
  benchmarks/run.py --only figure1` on a GPU machine measures it (the benchmark uses the GPU
  when present).
"""


def results_md(rows, info, command, seconds, lessons) -> str:
    out = ["# Benchmark results", "",
           f"Written by `{command}` on {info['date']} in {seconds / 60:.1f} min.",
           "Every figure compares two timings taken in the same run, the two sides alternating "
           "round by round, because the machine is shared and noisy. Two estimates are taken, "
           "the ratio of each side's fastest round (a load spike only makes a timing longer) "
           "and the median of the rounds' back-to-back ratios; the table shows the less "
           "favourable of the two, the details both.", "", "## Machine", "",
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
        return [row("lessons", "every lesson", "-", lesson_resources.GOAL,
                    "no lessons yet", None, "lessons/ holds no notebook")]
    ok = [r for r in res.values() if not r.get("error")]
    slow = max((r["seconds"] for r in ok), default=float("nan"))
    big = max((lesson_resources.megabytes(r) for r in ok), default=float("nan"))
    fine = all(not r.get("error") and r["seconds"] < lesson_resources.LIMIT_S
               and lesson_resources.megabytes(r) < lesson_resources.LIMIT_MB for r in res.values())
    failed = [k for k, r in res.items() if r.get("error")]
    return [row("lessons", f"every lesson ({len(res)} notebooks)", "-",
                lesson_resources.GOAL,
                f"slowest {slow:.0f} s, largest {big:.0f} MB", fine,
                "table in [lesson_resources.md](lesson_resources.md)"
                + (f"; failed: {', '.join(failed)}" if failed else ""))]


def main(argv=None):
    ap = argparse.ArgumentParser(description="Run the benchmarks; write benchmarks/RESULTS.md.")
    ap.add_argument("--only", default=",".join(ALL),
                    help=f"comma-separated subset of {','.join(ALL)}")
    ap.add_argument("--quick", action="store_true",
                    help="fewer steps and repeats; Figure 1 for 5 epochs, scaled to 100")
    ap.add_argument("--fig1-epochs", type=int, default=None,
                    help="run Figure 1 for this many epochs and scale the time to 100 "
                         "(default 100; 5 with --quick)")
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"), help="where to write the results")
    args = ap.parse_args(argv)
    chosen = [k.strip() for k in args.only.split(",") if k.strip()]
    unknown = [k for k in chosen if k not in ALL]
    if unknown:
        ap.error(f"unknown benchmark(s) {unknown}: choose from {ALL}")
    given = sys.argv[1:] if argv is None else list(argv)
    command = "python benchmarks/run.py" + (" " + shlex.join(given) if given else "")
    info = machine()
    print("\n".join(f"{k}: {v}" for k, v in info.items()), flush=True)
    t0, rows = time.perf_counter(), []
    for key in chosen:
        print(f"[{key}] ...", flush=True)
        t1 = time.perf_counter()
        if key == "lessons":
            got = lessons_rows(args.quick, info)
        elif key == "figure1":
            got = BENCHMARKS[key](args.quick, args.fig1_epochs)
        else:
            got = BENCHMARKS[key](args.quick)
        for r in got:
            flag = {True: "ok", False: "NOT REACHED", None: "-"}[r["met"]]
            print(f"  {r['what']}: {r['value']} (goal {r['goal']}) {flag}", flush=True)
        print(f"  ({time.perf_counter() - t1:.0f} s)", flush=True)
        rows += got
    for key in ALL:
        if key not in chosen:
            rows.append(row(key, SKIPPED[key], "-", "-", "not run (see `--only`)", None))
    text = results_md(rows, info, command, time.perf_counter() - t0, "lessons" in chosen)
    Path(args.out).write_text(text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
