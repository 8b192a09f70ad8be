"""Benchmarks of training: one GD step of ``train``, ``sweep`` and Du et al.'s Figure 1.

Every figure is a ratio of two timings taken in the same run, alternating (common.py).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from common import alternate, best_ratio, median_ratio, resolve, row, timed
from overparam.data import sphere_data
from overparam.models import TwoLayerReLU
from overparam.sweep import sweep
from overparam.train import train


# --- one full-batch GD step: train vs its two matrix products vs torch.nn + SGD ----------------
def _nn_model(d, m, dtype):
    """The same network written the ordinary way: nn.Linear layers, autograd, torch.optim.SGD."""
    net = TwoLayerReLU(d, m, seed=0, dtype=dtype)
    first = torch.nn.Linear(d, m, bias=False, dtype=dtype)
    with torch.no_grad():
        first.weight.copy_(net.W)
    a = net.a.detach().clone()
    return first, a


def gd_step(quick: bool) -> list:
    n, d, m, dtype = 1000, 200, 8192, torch.float64
    steps, rounds = (2, 2) if quick else (4, 5)
    X, y = sphere_data(n, d, seed=0, dtype=dtype)
    lr = 1e-3
    net = TwoLayerReLU(d, m, seed=0, dtype=dtype)
    rec = ("loss", "flips", "radius")

    # the floor: the two n x d x m products of a step, into preallocated outputs, in the
    # faster of the two orientations measured for each: X W^T (n x m) and X^T P (d x m)
    W = net.W.detach().clone()
    P = (X @ W.T >= 0).to(dtype)
    out1, out2 = torch.empty(n, m, dtype=dtype), torch.empty(d, m, dtype=dtype)

    def floor():
        return timed(lambda: [(torch.matmul(X, W.T, out=out1), torch.matmul(X.T, P, out=out2))
                              for _ in range(steps)]) / steps

    # train: the marginal cost of a step, (T(steps) - T(0)) / steps, which leaves out what a
    # call pays once (input checks, the copy of the initial model, the final record); each
    # round gives (T(steps), T(0))
    def per_step(record):
        def go(k):
            model = TwoLayerReLU(d, m, seed=0, dtype=dtype)
            return timed(lambda: train(model, X, y, lr=lr, steps=k, record=record,
                                       progress=False))
        return lambda: (go(steps), go(0))

    first, a = _nn_model(d, m, dtype)
    opt = torch.optim.SGD(first.parameters(), lr=lr)
    scale = 1 / math.sqrt(m)

    def nn_step():
        opt.zero_grad(set_to_none=True)
        u = torch.relu(first(X)) @ a * scale
        loss = 0.5 * ((u - y) ** 2).sum()
        loss.backward()
        opt.step()

    def torch_nn():
        nn_step()                                          # warm: .grad allocated
        return timed(lambda: [nn_step() for _ in range(steps)]) / steps

    t = alternate({"floor": floor, "train": per_step(()), "nn": torch_nn,
                   "train_rec": per_step(rec)}, rounds)
    med = {}
    for key in ("train", "train_rec"):
        pairs = t[key]
        t[key] = [(full - zero) / steps for full, zero in pairs]          # per round
        best = min(t[key])                                                # fastest round
        med[key] = t[key]
        t[key + "_best"] = [best]
    r1 = t["train_best"][0] / min(t["floor"])
    r2 = t["train_best"][0] / min(t["nn"])
    r3 = t["train_rec_best"][0] / min(t["floor"])
    m1, m2, m3 = (median_ratio(med["train"], t["floor"]), median_ratio(med["train"], t["nn"]),
                  median_ratio(med["train_rec"], t["floor"]))
    r1, r2, r3 = max(r1, m1), max(r2, m2), max(r3, m3)        # the less favourable estimate
    ms = {k: 1e3 * min(v) for k, v in t.items()}
    ms["train"], ms["train_rec"] = 1e3 * t["train_best"][0], 1e3 * t["train_rec_best"][0]
    size = f"n={n}, d={d}, m={m}, float64, {steps} steps x {rounds} rounds"
    return [
        row("gd_step", "one full-batch GD step of `TwoLayerReLU` via `train`",
            "the two n x d x m matrix products, timed alone", "<= 1.3x", f"{r1:.2f}x",
            r1 <= 1.3, f"{size}; fastest ms/step: train {ms['train']:.0f}, "
                       f"products {ms['floor']:.0f} "
                       f"(ratio {t['train_best'][0] / min(t['floor']):.2f}x); "
                       f"median of the rounds' ratios {m1:.2f}x"),
        row("gd_step_nn", "the same step", "`torch.nn` model + autograd + `torch.optim.SGD`",
            "<= 1.1x", f"{r2:.2f}x", r2 <= 1.1,
            f"fastest ms/step: train {ms['train']:.0f}, torch.nn {ms['nn']:.0f} "
            f"({t['train_best'][0] / min(t['nn']):.2f}x); median of "
            f"the rounds' ratios {m2:.2f}x"),
        row("gd_step_record", "the same step recording loss, flips and radius every step",
            "the two matrix products alone", "<= 1.6x", f"{r3:.2f}x", r3 <= 1.6,
            f"fastest ms/step: train with records {ms['train_rec']:.0f} "
            f"({t['train_rec_best'][0] / min(t['floor']):.2f}x); median of the "
            f"rounds' ratios {m3:.2f}x"),
    ]


# --- sweep vs a loop of train calls ------------------------------------------------------------
def sweep_vs_loop(quick: bool) -> list:
    n, d = 40, 10                       # the data of Chapter 1's width sweep
    widths = [int(w) for w in np.unique(np.geomspace(64, 1024, 8).round())]
    seeds = [0, 1, 2, 3]
    steps, rounds = (20, 2) if quick else (100, 9)
    X, y = sphere_data(n, d, seed=0)
    lr, rec = 0.1, ("loss", "radius", "flips")
    box = {}

    def batched():
        return timed(lambda: box.__setitem__(
            "sweep", sweep(widths, seeds, X, y, lr=lr, steps=steps, record=rec, device="cpu")))

    def loop():
        def go():
            box["loop"] = [[train(TwoLayerReLU(d, m, seed=s, device="cpu"), X, y, lr=lr,
                                  steps=steps, record=rec, progress=False).loss
                            for s in seeds] for m in widths]
        return timed(go)

    import os
    before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    t = alternate({"sweep": batched, "loop": loop}, rounds)
    speed = min(best_ratio(t["loop"], t["sweep"]), median_ratio(t["loop"], t["sweep"]))
    after = " ".join(f"{x:.1f}" for x in os.getloadavg())
    ref = np.asarray(box["loop"])
    diff = float(np.abs(box["sweep"].loss - ref).max() / np.abs(ref).max())
    return [row("sweep", f"`sweep` over {len(widths)} widths {widths[0]}...{widths[-1]} x "
                         f"{len(seeds)} seeds", "a Python loop of single `train` calls",
                ">= 3x faster", f"{speed:.1f}x faster", speed >= 3,
                f"n={n}, d={d}, {steps} GD steps, records loss/radius/flips, float64; fastest s: "
                f"sweep {min(t['sweep']):.2f}, loop {min(t['loop']):.2f} "
                f"({best_ratio(t['loop'], t['sweep']):.1f}x); median of the rounds' "
                f"ratios {median_ratio(t['loop'], t['sweep']):.1f}x; "
                f"losses agree to {diff:.1e} (relative); {torch.get_num_threads()} threads, "
                f"load average (1, 5, 15 min) before: {before}, after: {after}")]


# --- Du et al. (2019) Figure 1 at the paper's scale ---------------------------------------------
def figure1(quick: bool, epochs: int | None = None) -> list:
    """``overparam.experiments.figure1`` at the paper's scale: n = d = 1000, 100 epochs of
    full-batch GD, its default widths (up to 10^4), float32, on the GPU when there is one;
    ``epochs`` fewer than 100 (``quick``: 5) times that many and scales the time to 100 epochs
    (the cost per epoch is constant). Then, as a ratio that the load of the machine moves less,
    the same call against the method it replaced (``method="train"``: ``overparam.train`` with
    a full eigvalsh for every lambda_min record) over a few epochs, alternating."""
    import os

    from overparam.experiments import figure1 as run_figure1
    from overparam.experiments.figure1 import DEFAULT_WIDTHS

    dev = resolve()
    full = 100
    epochs = epochs or (5 if quick else full)

    def load():
        try:
            return " ".join(f"{x:.1f}" for x in os.getloadavg())
        except OSError:
            return "?"

    def call(k, method, widths=DEFAULT_WIDTHS):
        return run_figure1(n=1000, d=1000, widths=widths, epochs=k, dtype=torch.float32,
                           device=dev, progress=False, method=method)

    before = load()
    res = call(epochs, "kernel")
    secs = res.seconds
    after = load()
    secs_full = secs * full / epochs
    how = ("measured" if epochs == full
           else f"{epochs} epochs measured ({secs:.0f} s), x{full / epochs:.3g}")
    where = (torch.cuda.get_device_name(0) if dev.type == "cuda"
             else f"{torch.get_num_threads()} CPU threads")
    detail = (f"`overparam.experiments.figure1(n=1000, d=1000, widths={tuple(DEFAULT_WIDTHS)}, "
              f"epochs={full}, dtype=float32)`: loss, flips and radius every epoch, "
              f"lambda_min(H(k)) every 10th and the last; on {where}; {how}; load average "
              f"(1, 5, 15 min) before: {before}, after: {after}; final loss per width "
              + ", ".join(f"{v:.1e}" for v in res.loss[:, -1])
              + " (float32 floor " + ", ".join(f"{v:.0e}" for v in res.loss_floor) + ")")
    # the ratio: both methods over a few epochs, alternating (lambda_min at steps 0 and k)
    k = 3 if quick else 10
    box = {}
    t = alternate({"kernel": lambda: timed(lambda: box.__setitem__("kernel", call(k, "kernel"))),
                   "train": lambda: timed(lambda: box.__setitem__("train", call(k, "train")))},
                  1 if quick else 2)
    speed = min(best_ratio(t["train"], t["kernel"]), median_ratio(t["train"], t["kernel"]))
    a, b = box["kernel"], box["train"]
    lam = float(np.max(np.abs(a.lambda_min - b.lambda_min) / np.abs(b.lambda_min)))
    loss = float(np.max(np.abs(a.loss - b.loss) / b.loss))
    flips = float(np.max(np.abs(a.flips - b.flips)))
    rows = []
    if dev.type == "cpu":
        rows.append(row("figure1", "Du et al. Figure 1 at the paper's scale (n=d=1000, 100 "
                                   "epochs, widths up to 10^4, float32), CPU", "-",
                        "< 60 s on 2 CPU cores", f"{secs_full:.0f} s", secs_full < 60, detail))
    else:
        rows.append(row("figure1_gpu", "Du et al. Figure 1 at the paper's scale, GPU", "-",
                        "< 10 s on one GPU", f"{secs_full:.1f} s", secs_full < 10, detail))
    rows.append(row("figure1_method", f"the same, {k} epochs (2 lambda_min records per width)",
                    "the method it replaced: `train` + a full eigvalsh per record",
                    "-", f"{speed:.2f}x faster", None,
                    f"fastest s: new {min(t['kernel']):.1f}, replaced {min(t['train']):.1f} "
                    f"({best_ratio(t['train'], t['kernel']):.2f}x); median of the rounds' ratios "
                    f"{median_ratio(t['train'], t['kernel']):.2f}x; the two runs' records agree: "
                    f"loss to {loss:.0e}, lambda_min to {lam:.0e} (relative), flips to "
                    f"{flips:.0e} (float32 rounding decides a few patterns near 0)"))
    if dev.type == "cpu":
        rows.append(row("figure1_gpu", "the same on a GPU", "-", "< 10 s", "not measured", None,
                        "no GPU was available to the machine of this run"))
    return rows
