"""Run the course's benchmarks and write benchmarks/RESULTS.md (what `make bench` runs).

    python benchmarks/run.py                         # everything (about 15 minutes on 2 cores)
    python benchmarks/run.py --quick                 # fewer repeats, Figure 1 scaled down
    python benchmarks/run.py --only gd_step,sweep    # a subset; other rows kept from RESULTS.md

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
- **deep_ntk.** Against the implementation it replaced (kept in `bench_kernels.py`), same
  inputs, alternating; for information also against one multiply and one `arccos` pass of two
  n x n matrices per layer. Since 2026-12-06 the kernels take the angle of near-(anti)parallel
  pairs (|cos| > 0.95) from Kahan's formula and run their recursion on angles (docs/decisions.md);
  on these random inputs no pair is that close, so the row measures the same recursion as
  before plus the search for near pairs (measured beside the previous version on one machine:
  0.30-0.35 s against 0.25-0.33 s, within the run-to-run spread). The old implementation's
  "agree to 3.9e-08" is its own arccos error at cosines near 1.
- **empirical_ntk.** The reference loop makes one backward pass per example and stacks the
  gradients into J; its kernel J J^T is checked against `empirical_ntk` on a few examples. At
  n = 256 J has 2.2 million columns (4.5 GB in float64), so only the loop's backward passes are
  timed: the speed-up shown is a lower bound.
- **Figure 1.** `overparam.experiments.figure1` at Du et al.'s (2019, Section 5) scale: n = d =
  1000 on the sphere, Gaussian labels, 100 epochs of full-batch GD, its default widths up to
  10^4, float32, recording loss, flips and radius every epoch and lambda_min(H(k)) every 10th
  and at the last. This is the one absolute time in the table, so it moves with the load of
  the machine (given with it); the row below it is the ratio to the method it replaced over 10
  epochs, alternating, which the load moves less.
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
- **`deep_ntk`** (profile: a dozen n x n elementwise passes a layer, each allocating its
  output): the recursion now runs on the normalized kernels rho^h = kappa_1(rho^{h-1}) and
  theta^h = Theta^h / (||x|| ||x'||) (Sigma^h(x, x) = ||x||^2 for ReLU with c = 2), in place on
  four preallocated matrices, with one `arccos` per layer (kappa_0 = arccos(-rho)/pi) and the
  fused `addcmul`: 9 passes a layer, no allocation. The diagonal is now exactly L + 1 (the old
  `scale * (...) / pi` rounded rho just below 1 and arccos magnified it to 3e-8).
- **Figure 1** (profile: half the time in n x n eigenvalue decompositions for lambda_min(H(k)),
  a third in the two GD products): training runs in the span of the inputs
  (`figure1._gd_in_kernel_space`): W(k) = W(0) - lr diag(a/sqrt m) S(k)^T X with
  S(k) = sum_j P(j) * r(j), so X W(k)^T = X W(0)^T - lr (K S(k)) diag(a/sqrt m), K = X X^T: one
  n x n x m product a step instead of two n x d x m ones, and the radius is
  sqrt(S_r^T (K S)_r), from the same product. lambda_min(H(k)) is
  `kernels.smallest_eigenpair`: a Cholesky factorization of H - sigma I certifies a shift below
  every eigenvalue, shift-invert Lanczos from the previous record's eigenvector finds the
  bottom pair, a second factorization certifies it to 2e-7 relative (two n^3/3 factorizations
  instead of a full decomposition; a full `eigh` where a certificate fails). The predictions
  are summed by cascade summation and the loss in float64, so the float32 loss follows float64
  down to about 2e-11 at this scale for every width, instead of flattening at 1e-10 to 1e-9
  with the widest networks highest (the result's `loss_floor` gives the level).
- **`sweep`** (latest round; profile by timers around each part of a step, at the lesson
  scale n = 40, d = 10, 32 networks, 11996 neurons): the two products and the per-group
  elementwise work were half of a step, and the rest small operators whose fixed cost (a few
  microseconds each) adds up over a hundred steps. Each network's pre-activations and pattern
  are now an (n, m) block of two flat buffers, so the networks of one width form a batch
  (seeds, n, m): the forward pass is one batched product per width, the gradient is the batched
  product (X^T diag(u - y)) P straight from the pattern (no masked residual matrix, one pass
  fewer), each network's output is a row sum of its block, the update is one fused `addcmul_`
  per width, and the pattern, ReLU and the flips comparison each run once over all networks.
  The radius record sums squares with one matrix-vector product and takes the square root of
  the 32 maxima only. The previous version is 1.3-1.6x slower in alternating runs.

Results are unchanged: `train` and `sweep` in float64 differ by at most 1e-15 relative (the
order of the sums inside the products and of each network's output), float32 sweeps by the
rounding that 100 steps accumulate (under 1e-6 relative, as before this round); the flips
records are equal, and the lessons that call `sweep` (1, 4, 6, 15) print the same outputs.

## What is not reached, or not on every run, and why

The goals are ratios, but the ratios themselves move with the load of the machine: the loop of
small `train` calls, for instance, pays a fixed cost per torch call that grows when other work
competes for the two cores, so `sweep`'s advantage is larger on a busy machine than on a quiet
one, and the GD-step rows ranged from 1.2x to 1.4x
(1.3x to 1.9x with records), `empirical_ntk`'s speed-up from 4x to 21x. The rows that
missed their goal on some or all runs:

- **GD step vs its products (<= 1.3x, <= 1.6x with records).** What is left besides the two
  products is about 60 ms a step of passes over the (n, m) matrices that a step needs: the
  pattern 1{Wx >= 0}, the ReLU, and the update of W by a gradient stored transposed (the faster
  product's layout); the records add one comparison of two (n, m) patterns (flips) and one
  (m, d) difference (radius). Removing more would take fusing the update into the product
  (`addmm_` on W's transpose), which would change what `train` hands to its records.
- **sweep vs the loop (>= 3x).** Reached on a quiet machine (3.3x to 4.1x by the fastest
  rounds, 3.3x to 3.6x by the median of the rounds' ratios, in three runs at load about 1) and
  on a loaded one (two busy processes beside it: 6.2x and 3.1x). The margin is small: at the
  lesson scale each of the loop's 32 small networks lives in the CPU cache, and what the loop
  loses is the fixed cost of its calls, while the batched run streams (n, 12000) matrices
  through memory. What is left of a step: the batched products (inner dimensions d = 10 and
  n = 40, shapes that BLAS runs at a few GFLOP/s) are about half, the flips and radius
  records, recorded every step here, a third. What would add more: fusing a step's
  elementwise passes (a compiled kernel), or recording flips and radius less often, as the
  lessons do. The benchmark takes 9 rounds a side (3 before this round), since the two
  estimates of 3 rounds moved by 20% from run to run.
- **Figure 1 on 2 CPU cores (< 60 s).** Reached: 38 s and 44 s in two runs on a quiet machine
  (load average about 1), with the code of the previous round. The 75 s of the
  previous round was measured while other work (lesson executions) shared the two cores,
  which the load average at the start did not show: then the one n x n x m product a step ran
  at about 85 GFLOP/s in float32, on a quiet machine it runs at about 140 GFLOP/s
  (`torch.mm`, 1000 x 1000 by 1000 x 10^4, the fastest of 5). Under load the run still takes
  longer than a minute. What would make it faster there: updating P P^T of each
  lambda_min record from the patterns that flipped since the previous one (exact, the counts
  are integers; a sparse product) and fusing a step's elementwise passes (a compiled kernel);
  the paper's own widths (`widths="paper"`, sum 15500 against 18600) cost a sixth less.
- **Figure 1 on a GPU (< 10 s).** Not measured: no GPU was available to the machines these
  results were measured on. `python benchmarks/run.py --only figure1` on a GPU machine
  measures it (the benchmark uses the GPU when present).
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
    out += ["", f"<!-- row keys: {','.join(r['key'] for r in rows)} -->"]
    out += ["", "Details:", ""]
    out += [f"- `{r['key']}`: {r['detail']}" for r in rows if r["detail"]]
    out += ["", NOTES]
    return "\n".join(out)


def previous_rows(path) -> dict:
    """The rows of an earlier RESULTS.md, by benchmark: ``--only`` keeps the rows it does not
    measure, marked with the date of the run that measured them."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return {}
    when = next((ln.split(" on ", 1)[1].split(" in ")[0] for ln in lines
                 if ln.startswith("Written by") and " on " in ln), "an earlier run")
    table = [ln for ln in lines if ln.startswith("| ") and ln.count(" | ") == 4
             and not ln.startswith("| what |")]
    details = {}
    for ln in lines:
        if ln.startswith("- `") and "`: " in ln:
            key, text = ln[3:].split("`: ", 1)
            details[key] = text
    keys = next((ln[len("<!-- row keys: "):-len(" -->")].split(",") for ln in lines
                 if ln.startswith("<!-- row keys: ")), None)
    if keys is None:                         # a file written before the keys were recorded
        keys, pending = [], list(details)
        for ln in table:
            what = ln.split(" | ")[0][2:]
            skipped = [k for k, v in SKIPPED.items() if v == what]
            keys.append(skipped[0] if skipped and "not run" in ln else
                        (pending.pop(0) if pending else None))
    out = {}
    for key, ln in zip(keys, table):
        if key is None or "not run (see `--only`)" in ln:
            continue
        what, compared, goal, value, met = ln[2:-2].split(" | ")
        bench = max((b for b in ALL if key.startswith(b)), key=len, default=None)
        if bench is None:
            continue
        met = {"yes": True, "**no**": False}.get(met)
        detail = details.get(key, "")
        out.setdefault(bench, []).append(row(
            key, what, compared, goal, value, met,
            (detail + "; " if detail else "") + f"kept from the run of {when}"))
    return out


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
    kept = previous_rows(args.out) if set(chosen) != set(ALL) else {}
    for key in ALL:
        if key not in chosen:
            rows += kept.get(key) or [row(key, SKIPPED[key], "-", "-",
                                          "not run (see `--only`)", None)]
    text = results_md(rows, info, command, time.perf_counter() - t0, "lessons" in chosen)
    Path(args.out).write_text(text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
