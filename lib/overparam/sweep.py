"""Many widths and seeds in one batched run (Chapters 1, 4, 6): width-vs-quantity plots.

All the two-layer networks of a sweep (every width, every seed) are stacked into one wide
weight matrix, so a GD step is two large matrix products instead of widths x seeds small ones.
Each network starts exactly as ``TwoLayerReLU(d, m, seed=s)`` and follows exactly the updates
``train`` would make (full-batch GD, Du et al.'s 1/2-sum square loss); only the bookkeeping is
shared.
"""

from __future__ import annotations

import math
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

    nets = [TwoLayerReLU(d, m, seed=s, dtype=dtype, device=dev) for m in widths for s in seeds]
    # W^T (d, M), stored transposed: X W^T is then a plain product and the update an in-place
    # add of the gradient in the layout the product X^T (P * R) gives it
    Wt = torch.cat([net.W.detach() for net in nets]).T.contiguous()      # (d, M)
    W0t = Wt.clone()
    a = torch.cat([net.a for net in nets])                               # (M,)
    owner = torch.cat([torch.full((net.m,), k, device=dev) for k, net in enumerate(nets)])
    K = len(nets)
    scale = torch.cat([torch.full((net.m,), 1 / math.sqrt(net.m), dtype=dtype, device=dev)
                       for net in nets])
    coef = a * scale                                                     # a_r / sqrt(m)
    # (M, K) indicator: sums each network's neurons into its own output.
    M = Wt.shape[1]
    assign = torch.zeros(M, K, dtype=dtype, device=dev)
    assign[torch.arange(M, device=dev), owner] = 1.0
    counts = torch.tensor([net.m for net in nets], dtype=dtype, device=dev)

    coef_assign = assign * coef[:, None]                                 # (M, K)
    # Networks come in groups of one width and len(seeds) seeds: (first neuron, last neuron,
    # width, first network). Per group, U and the residual per neuron are small dense products.
    S, groups, start = len(seeds), [], 0
    for g, m in enumerate(widths):
        groups.append((start, start + S * m, m, g * S))
        start += S * m
    coef_blocks = [coef_assign[s:e, j:j + S].contiguous() for s, e, _, j in groups]
    # Three (n, M) buffers reused every step: fresh ones would be page-faulted in each time,
    # and the gradient is computed as the faster product X^T (P * R), P the 0/1 pattern.
    pre = torch.empty(n, M, dtype=dtype, device=dev)
    pattern, Rn = torch.empty_like(pre), torch.empty_like(pre)
    diff = None                                                          # (d, M), for radius
    Xt, Gt = X.T.contiguous(), torch.empty_like(Wt)     # X^T (d, n) and the gradient (d, M)

    rows = {k: [] for k in record}
    recorded, pattern0, loss0 = [], None, None
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=steps, desc="sweep", leave=False)
    for k in range(steps + 1):
        torch.matmul(X, Wt, out=pre)                                     # (n, M)
        torch.ge(pre, 0, out=pattern)                                    # 1{w_r^T x_i >= 0}
        pre.clamp_min_(0)                                                # relu, in place
        U = torch.cat([pre[:, s:e] @ c                                   # (n, K): every net's u
                       for (s, e, _, _), c in zip(groups, coef_blocks)], dim=1)
        R = U - y[:, None]
        losses = 0.5 * (R ** 2).sum(0)                                   # (K,)
        if loss0 is None:
            loss0 = losses.clamp_min(1e-300)
        bad = ~torch.isfinite(losses) | (losses > DIVERGENCE_FACTOR * loss0)
        if bool(bad.any()):
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
                    diff = torch.empty_like(Wt)
                dist = torch.sub(Wt, W0t, out=diff).square_().sum(0).sqrt_()
                radius = torch.zeros(K, dtype=dtype, device=dev).scatter_reduce_(
                    0, owner, dist, "amax", include_self=False)
                rows["radius"].append(radius.cpu().numpy().astype(np.float64))
            if "flips" in rows:
                if pattern0 is None:
                    pattern0 = pattern.clone()
                per_neuron = torch.ne(pattern, pattern0, out=Rn).sum(0)     # exact: 0/1 sums
                changed = torch.zeros(K, dtype=torch.float64, device=dev).index_add_(
                    0, owner, per_neuron.double())
                rows["flips"].append((changed.to(dtype) / (counts * n)).cpu().numpy())
        if k == steps:
            break
        for s, e, w, j in groups:                                        # Rn = P * R[:, owner]
            torch.mul(pattern[:, s:e].view(n, S, w), R[:, j:j + S, None],
                      out=Rn[:, s:e].view(n, S, w))
        torch.matmul(Xt, Rn, out=Gt).mul_(coef)                          # Du's gradient, (d, M)
        Wt.sub_(Gt, alpha=lr)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    shape = (len(widths), len(seeds), len(recorded))
    records = {name: np.stack(v, axis=-1).reshape(shape) for name, v in rows.items()}
    return SweepResult(np.array(widths), np.array(seeds), np.array(recorded), records)
