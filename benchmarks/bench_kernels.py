"""Benchmarks of the kernels: the deep NTK recursion and the empirical NTK.

Every figure is a ratio of two timings taken in the same run, alternating (common.py).
"""

from __future__ import annotations

import torch

from common import alternate, best_ratio, median_ratio, row, timed
from overparam.data import sphere_data
from overparam.kernels import deep_ntk, empirical_ntk
from overparam.models import DeepReLU


def _deep_ntk_before(X, depth):
    """``kernels.deep_ntk`` as it was before the in-place rewrite (kept here, verbatim in its
    arithmetic, as the baseline of the speed-up): every operation allocates a new n x n
    matrix, and rho^h is recomputed as Sigma^h / (||x|| ||x'||)."""
    import math
    nx = X.norm(dim=1)
    scale = nx[:, None] * nx[None, :]
    rho = ((X @ X.T) / scale).clamp(-1.0, 1.0)
    rho.fill_diagonal_(1.0)
    sigma = scale * rho
    theta = sigma.clone()
    for _ in range(depth):
        angle = math.pi - torch.arccos(rho)
        sigma_dot = angle / math.pi
        sigma = scale * (torch.sqrt((1.0 - rho * rho).clamp_min(0.0)) + angle * rho) / math.pi
        theta = theta * sigma_dot + sigma
        rho = (sigma / scale).clamp(-1.0, 1.0)
    return theta


def deep_ntk_bench(quick: bool) -> list:
    """deep_ntk(n=2000, depth=10) against the implementation it replaced (goal: 1.4x faster),
    and, for information, against the floor of one n x n elementwise pass per layer (a multiply
    into a preallocated matrix) and one arccos pass per layer (the one transcendental each
    layer of the recursion cannot avoid)."""
    n, d, depth = 2000, 100, 10
    rounds = 3 if quick else 7
    X, _ = sphere_data(n, d, seed=0)
    A = torch.rand(n, n, dtype=torch.float64) * 2 - 1
    B, C = torch.rand_like(A), torch.empty_like(A)
    new, old = deep_ntk(X, depth=depth), _deep_ntk_before(X, depth)
    diff = float((new - old).abs().max() / old.abs().max())
    diag = float((new.diagonal() - (depth + 1)).abs().max())
    del new, old

    def floor_mul():
        return timed(lambda: [torch.mul(A, B, out=C) for _ in range(depth)])

    def floor_acos():
        return timed(lambda: [torch.arccos(A, out=C) for _ in range(depth)])

    t = alternate({"ntk": lambda: timed(lambda: deep_ntk(X, depth=depth)),
                   "before": lambda: timed(lambda: _deep_ntk_before(X, depth)),
                   "mul": floor_mul, "acos": floor_acos}, rounds)
    speed = min(best_ratio(t["before"], t["ntk"]), median_ratio(t["before"], t["ntk"]))
    r = best_ratio(t["ntk"], t["mul"])
    r_acos = best_ratio(t["ntk"], t["acos"])
    return [row("deep_ntk", f"`deep_ntk` (n={n}, depth {depth})",
                "the implementation it replaced (allocating, two arccos-derived passes per "
                "kernel)", ">= 1.4x faster", f"{speed:.2f}x faster", speed >= 1.4,
                f"float64, d={d}, {torch.get_num_threads()} threads; fastest s: deep_ntk "
                f"{min(t['ntk']):.3f}, before {min(t['before']):.3f} "
                f"({best_ratio(t['before'], t['ntk']):.2f}x); median of the rounds' ratios "
                f"{median_ratio(t['before'], t['ntk']):.2f}x; the two agree to {diff:.1e} "
                f"(relative), the new diagonal is L+1 to {diag:.0e}; for information "
                f"deep_ntk = {r:.1f}x {depth} multiply passes ({min(t['mul']):.3f} s) and "
                f"{r_acos:.1f}x {depth} arccos passes ({min(t['acos']):.3f} s)")]


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
