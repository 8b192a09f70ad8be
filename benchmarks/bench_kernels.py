"""Benchmarks of the kernels: the deep NTK recursion and the empirical NTK.

Every figure is a ratio of two timings taken in the same run, alternating (common.py).
"""

from __future__ import annotations


import torch

from common import alternate, best_ratio, median_ratio, row, timed
from overparam.data import sphere_data
from overparam.kernels import deep_ntk, empirical_ntk
from overparam.models import DeepReLU


def deep_ntk_bench(quick: bool) -> list:
    """deep_ntk(n=2000, depth=10) against the floor of one n x n elementwise pass per layer
    (a multiply into a preallocated matrix), and, for information, one arccos pass per layer
    (the one transcendental each layer of the recursion cannot avoid)."""
    n, d, depth = 2000, 100, 10
    rounds = 2 if quick else 5
    X, _ = sphere_data(n, d, seed=0)
    A = torch.rand(n, n, dtype=torch.float64) * 2 - 1
    B, C = torch.rand_like(A), torch.empty_like(A)

    def floor_mul():
        return timed(lambda: [torch.mul(A, B, out=C) for _ in range(depth)])

    def floor_acos():
        return timed(lambda: [torch.arccos(A, out=C) for _ in range(depth)])

    t = alternate({"ntk": lambda: timed(lambda: deep_ntk(X, depth=depth)),
                   "mul": floor_mul, "acos": floor_acos}, rounds)
    r = max(best_ratio(t["ntk"], t["mul"]), median_ratio(t["ntk"], t["mul"]))
    r_acos = best_ratio(t["ntk"], t["acos"])
    return [row("deep_ntk", f"`deep_ntk` (n={n}, depth {depth})",
                "one n x n elementwise pass per layer (the floor)", "<= 3x", f"{r:.1f}x",
                r <= 3, f"float64, d={d}; fastest s: deep_ntk {min(t['ntk']):.2f} "
                        f"({best_ratio(t['ntk'], t['mul']):.1f}x), "
                        f"{depth} multiply passes {min(t['mul']):.3f}, {depth} arccos "
                        f"passes {min(t['acos']):.3f} (deep_ntk = {r_acos:.1f}x the arccos "
                        f"passes); median of the rounds' ratios "
                        f"{median_ratio(t['ntk'], t['mul']):.1f}x")]


def _loop_ntk(model, X):
    """The reference: J J^T with J built row by row, one backward pass per example."""
    params = [p for p in model.parameters() if p.requires_grad]
    rows = []
    for i in range(X.shape[0]):
        g = torch.autograd.grad(model(X[i:i + 1]).sum(), params)
        rows.append(torch.cat([t.reshape(-1) for t in g]))
    J = torch.stack(rows)
    return J @ J.T


def _loop_backward(model, X):
    """The loop's n per-example backward passes alone (no J stored, no J J^T product): a lower
    bound on the loop's cost, since the full J (n x 2.2 million in float64) is 4.5 GB."""
    params = [p for p in model.parameters() if p.requires_grad]
    for i in range(X.shape[0]):
        torch.autograd.grad(model(X[i:i + 1]).sum(), params)


def empirical_ntk_bench(quick: bool) -> list:
    n, d, m, depth = 256, 100, 1024, 3
    rounds = 2 if quick else 5
    X, _ = sphere_data(n, d, seed=0)
    model = DeepReLU(d, m, depth, parameterization="ntk", seed=0)
    # the reference loop is right: same kernel on a few examples (where J fits in memory)
    few = X[:12]
    ref = _loop_ntk(model, few)
    err = float((empirical_ntk(model, few) - ref).abs().max() / ref.abs().max())
    t = alternate({"ntk": lambda: timed(lambda: empirical_ntk(model, X)),
                   "loop": lambda: timed(lambda: _loop_backward(model, X))}, rounds)
    speed = min(best_ratio(t["loop"], t["ntk"]), median_ratio(t["loop"], t["ntk"]))
    n_params = sum(p.numel() for p in model.parameters())
    return [row("empirical_ntk", f"`empirical_ntk` (n={n}, `DeepReLU` m={m}, depth {depth})",
                "a loop of per-example backward passes", ">= 5x faster",
                f"{speed:.1f}x faster", speed >= 5,
                f"float64, d={d}, NTK parameterization, {n_params / 1e6:.1f}M parameters; "
                f"fastest s: empirical_ntk {min(t['ntk']):.2f}, the loop's {n} backward "
                f"passes alone {min(t['loop']):.2f} ({best_ratio(t['loop'], t['ntk']):.0f}x); "
                f"median of the rounds' ratios "
                f"{median_ratio(t['loop'], t['ntk']):.1f}x (a lower bound: the loop would also "
                f"store J and form J J^T); the loop's kernel agrees to {err:.1e} on "
                f"{few.shape[0]} examples")]
