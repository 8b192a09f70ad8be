"""Many widths and seeds in one batched run (Chapters 1, 4, 6): width-vs-quantity plots.

All the two-layer networks of a sweep (every width, every seed) share their buffers: the
networks of one width form a batch, so a GD step is one batched matrix product per width for
the forward pass and one for the gradient, and the elementwise passes (pattern, ReLU, records)
run once over all networks. Each network starts exactly as ``TwoLayerReLU(d, m, seed=s)`` and
follows the updates ``train`` would make (full-batch GD, Du et al.'s 1/2-sum square loss) up to
the order of floating-point sums; only the bookkeeping is shared.
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass

import numpy as np
import torch

from .data import check_inputs
from .device import DEFAULT_DTYPE, as_tensor, resolve_device
from .models import TwoLayerReLU
from .train import DIVERGENCE_FACTOR

SWEEP_RECORDS = ("loss", "radius", "flips")


@dataclass
class SweepResult:
    """Records shaped (len(widths), len(seeds), len(steps)); ``steps`` the recorded steps."""

    widths: np.ndarray
    seeds: np.ndarray
    steps: np.ndarray
    records: dict

    def __getattr__(self, name):
        records = self.__dict__.get("records", {})
        if name in records:
            return records[name]
        raise AttributeError(f"'{name}' was not recorded: pass record=(..., '{name}') to sweep()")


def sweep(widths, seeds, X, y, *, lr: float, steps: int, record=("loss",),
          record_every: int = 1, dtype: torch.dtype = DEFAULT_DTYPE, device="auto",
          progress: bool | None = None) -> SweepResult:
    """Full-batch GD on ``TwoLayerReLU(d, m, seed=s)`` for every m in ``widths`` and s in
    ``seeds`` (only W trains), in one batched run; records ``loss``, ``radius``
    (max_r ||w_r - w_r(0)||) and ``flips`` as in ``train``."""
    widths = [int(m) for m in widths]
    seeds = [int(s) for s in seeds]
    if not widths or not seeds or min(widths) < 1:
        raise ValueError("widths and seeds must be non-empty, with widths >= 1")
    if isinstance(record, str):
        record = (record,)
    unknown = [r for r in record if r not in SWEEP_RECORDS]
    if unknown:
        raise ValueError(f"sweep records {SWEEP_RECORDS}; unknown: {unknown}")
    if not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive finite number, not {lr!r}")
    if (not isinstance(steps, int) or steps < 0
            or not isinstance(record_every, int) or record_every < 1):
        raise ValueError("steps must be an integer >= 0 and record_every an integer >= 1")
    dev = resolve_device(device)
    X = check_inputs(X, y).to(device=dev, dtype=dtype)
    y = as_tensor(y).to(device=dev, dtype=dtype)
    n, d = X.shape
    S, K = len(seeds), len(widths) * len(seeds)

    nets = [TwoLayerReLU(d, m, seed=s, dtype=dtype, device=dev) for m in widths for s in seeds]
    # W^T (d, M), net by net: each width's (S, d, m) batch is then a view whose rows are
    # contiguous, so its update runs at the speed of a contiguous one
    Wt = torch.cat([net.W.detach() for net in nets]).T.contiguous()
    W0t = Wt.clone()
    M = Wt.shape[1]
    coef = torch.cat([net.a / math.sqrt(net.m) for net in nets])         # a_r / sqrt(m)
    step_coef = -lr * coef
    owner = torch.cat([torch.full((net.m,), k, device=dev) for k, net in enumerate(nets)])
    entries = torch.tensor([n * net.m for net in nets], dtype=torch.float64, device=dev)
    # Pre-activations and patterns of every network, one (n, m) block after another, in two
    # flat buffers reused every step (fresh ones would be page-faulted in each time). The
    # elementwise passes run over the whole buffer; the products run width by width, on the
    # (len(seeds), n, m) batch of that width's blocks.
    pre = torch.empty(n * M, dtype=dtype, device=dev)
    pattern = torch.empty_like(pre)
    U = torch.empty(K, n, dtype=dtype, device=dev)                       # every net's u
    XR = torch.empty(K, d, n, dtype=dtype, device=dev)                   # X^T diag(r), per net
    batches, first = [], 0
    for g, m in enumerate(widths):
        neurons, block = slice(first, first + S * m), slice(n * first, n * (first + S * m))
        nets_g = slice(g * S, (g + 1) * S)
        batches.append(types.SimpleNamespace(
            Wt=Wt[:, neurons].view(d, S, m).transpose(0, 1),             # (S, d, m) view
            coef=coef[neurons].view(S, 1, m), step=step_coef[neurons].view(S, 1, m),
            pre=pre[block].view(S, n, m), pattern=pattern[block].view(S, n, m),
            u=U[nets_g], XR=XR[nets_g], grad=torch.empty(S, d, m, dtype=dtype, device=dev)))
        first += S * m
    Xs, Xt = X.expand(S, n, d), X.T

    rows = {k: [] for k in record}
    recorded, pattern0, changed, diff, loss0 = [], None, None, None, None
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=steps, desc="sweep", leave=False)
    for k in range(steps + 1):
        for b in batches:
            torch.bmm(Xs, b.Wt, out=b.pre)                               # w_r^T x_i
        torch.ge(pre, 0, out=pattern)                                    # 1{w_r^T x_i >= 0}
        pre.clamp_min_(0)                                                # relu, in place
        for b in batches:                                        # u_i = sum_r relu(.) a_r / sqrt(m)
            torch.sum(b.pre.mul_(b.coef), 2, out=b.u)
        R = U.sub_(y)                                                    # (K, n): u - y per net
        losses = 0.5 * (R * R).sum(1)
        if loss0 is None:
            loss0 = losses.clamp_min(1e-300)
            limit = DIVERGENCE_FACTOR * loss0
        if not float((losses - limit).max()) <= 0:                       # NaN fails too
            bad = ~torch.isfinite(losses) | (losses > limit)
            j = int(torch.nonzero(bad)[0])
            raise ValueError(
                f"the sweep diverged at step {k} with lr={lr:g} (width {nets[j].m}, seed "
                f"{nets[j].seed}): use a smaller lr (about 1/lambda_max(H^infty) is stable)")
        if k % record_every == 0 or k == steps:
            recorded.append(k)
            if "loss" in rows:
                rows["loss"].append(losses.cpu().numpy())
            if "radius" in rows:
                if diff is None:
                    diff, ones_d = torch.empty_like(Wt), Wt.new_ones(d)
                dist2 = ones_d @ torch.sub(Wt, W0t, out=diff).square_()  # ||w_r - w_r(0)||^2
                radius = torch.zeros(K, dtype=dtype, device=dev).scatter_reduce_(
                    0, owner, dist2, "amax", include_self=False).sqrt_()
                rows["radius"].append(radius.cpu().numpy().astype(np.float64))
            if "flips" in rows:
                if pattern0 is None:
                    pattern0, changed = pattern.clone(), torch.empty_like(pattern)
                # a network's block is m runs of n entries: sum per run, then per network
                per_run = torch.ne(pattern, pattern0, out=changed).view(M, n).sum(1)
                flips = torch.zeros(K, dtype=torch.float64, device=dev).index_add_(
                    0, owner, per_run.double())                          # exact: 0/1 sums
                rows["flips"].append((flips / entries).cpu().numpy())
        if k == steps:
            break
        torch.mul(Xt, R[:, None, :], out=XR)                             # X^T diag(u - y)
        for b in batches:                                                # Du's gradient, (S, d, m)
            torch.bmm(b.XR, b.pattern, out=b.grad)
            b.Wt.addcmul_(b.grad, b.step)                                # w_r -= lr * grad_r
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    shape = (len(widths), len(seeds), len(recorded))
    records = {name: np.stack(v, axis=-1).reshape(shape) for name, v in rows.items()}
    return SweepResult(np.array(widths), np.array(seeds), np.array(recorded), records)
