"""Binary classification in the setting of Zou, Cao, Zhou & Gu (2020) (Chapters 13-14).

Zou et al. train a deep ReLU network f_W(x) = v^T relu(W_L^T ... relu(W_1^T x)) (v fixed,
half +1 and half -1; ``DeepReLU(parameterization="zou")``) on labels y_i in {-1, +1} with a loss
(1/n) sum_i l(y_i f_W(x_i)) (``train(..., loss="logistic")``), assuming unit-norm inputs whose
two classes are phi-separated: ||x_i - x_j|| >= phi whenever y_i != y_j
(``data.separation(X, y)``). Their proof keeps every iterate in a perturbation region
{W : ||W_l - W_l(0)||_F <= tau for all l} around the initialization.

This module holds what Chapters 13-14 measure on top of the one training loop ``train.train``:
phi-separated data with a controllable phi, the loss-family constant of the logistic loss, the
radius tau reached along a run, the iterations to zero training error, and grids of runs over
widths and batch sizes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .data import _generator
from .device import DEFAULT_DTYPE
from .models import DeepReLU
from .train import suggested_lr, train

SEPARATED_KINDS = ("linear", "xor")
CLASSIFICATION_RECORDS = ("loss", "error", "radius", "grad_norm", "outputs")


def phi_separated_data(n: int, d: int, phi: float, *, kind: str = "linear", seed: int = 0,
                       dtype: torch.dtype = DEFAULT_DTYPE, device="cpu"):
    """n unit-norm inputs in R^d with labels +-1 whose two classes are phi-separated
    (Zou et al. 2020, the phi-separation assumption: ||x_i - x_j|| >= phi when y_i != y_j).

    Points start uniform on the sphere; then the first k coordinates (k = 1 for ``"linear"``,
    k = 2 for ``"xor"``) are pushed away from 0, |x_j| -> gamma + (1/sqrt(k) - gamma)|x_j| with
    gamma = phi/2, and the other coordinates are rescaled to keep ||x|| = 1. Labels:
    ``"linear"``: y = sign(x_1) (two caps around +-e_1, linearly separable);
    ``"xor"``: y = sign(x_1 x_2) (four quadrant caps, not linearly separable).
    Two points with different labels differ in the sign of one pushed coordinate, so
    ||x_i - x_j|| >= 2 gamma = phi. So that phi is attained, not only a lower bound, the first
    input is placed with x_1 = gamma and the second is its mirror image (x_1 -> -x_1, the other
    label) at distance exactly phi: ``data.separation(X, y)`` then returns phi.
    Needs 0 < phi <= 2 (linear) or <= sqrt(2) (xor), d > k.
    """
    if kind not in SEPARATED_KINDS:
        raise ValueError(f"kind must be one of {SEPARATED_KINDS}, not {kind!r}")
    k = 1 if kind == "linear" else 2
    for name, v in (("n", n), ("d", d)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive integer, not {v!r}")
    if n < 2 or d <= k:
        raise ValueError(f"phi_separated_data({kind!r}) needs n >= 2 and d >= {k + 1}")
    phi = float(phi)
    top = 2.0 / math.sqrt(k)
    if not 0.0 < phi <= top:
        raise ValueError(f"phi must be in (0, {top:.3g}] for kind={kind!r}, not {phi!r}")
    gamma = phi / 2.0
    g = _generator(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True)
    head = X[:, :k]
    head = torch.sign(head) * (gamma + (1.0 / math.sqrt(k) - gamma) * head.abs())
    head[0, 0] = gamma                           # the closest pair: x_0 and its mirror x_1
    head[1] = head[0]
    head[1, 0] = -gamma
    rest = X[:, k:]
    rest_norm = torch.sqrt((1.0 - (head ** 2).sum(dim=1)).clamp_min(0.0))
    rest = rest / rest.norm(dim=1, keepdim=True).clamp_min(1e-300) * rest_norm[:, None]
    rest[1] = rest[0]
    X = torch.cat([head, rest], dim=1)
    X = X / X.norm(dim=1, keepdim=True)
    y = torch.sign(head[:, 0]) if k == 1 else torch.sign(head[:, 0] * head[:, 1])
    return X.to(device=device, dtype=dtype), y.to(device=device, dtype=dtype)


def logistic_alpha0(alpha1: float = 1.0, p: float = 1.0, *, z_max: float = 40.0,
                    points: int = 200001) -> float:
    """The largest alpha_0 with -l'(z) >= alpha_0 min(alpha_1, l(z)^p) for all z, for the
    logistic loss l(z) = log(1 + e^{-z}) (Zou et al. 2020's loss-family condition, as we recall
    it), computed on a grid of z in [-z_max, z_max]. p = 1 gives a positive alpha_0: the
    logistic loss belongs to the family; for p < 1 the infimum is 0 as z -> infinity."""
    if not alpha1 > 0 or not p > 0:
        raise ValueError("alpha1 and p must be positive")
    z = torch.linspace(-z_max, z_max, points, dtype=torch.float64)
    ell = torch.nn.functional.softplus(-z)
    neg_dell = torch.sigmoid(-z)
    return float((neg_dell / torch.clamp(ell ** p, max=alpha1)).min())


def perturbation_radius(hist, *, per_step: bool = False):
    """tau = max_l ||W_l(k) - W_l(0)||_F, the radius of the smallest perturbation region
    {W : ||W_l - W_l(0)||_F <= tau for all l} (Zou et al. 2020) that holds the whole run
    (``per_step=True``: the running value at each recorded step). Needs ``record=("radius",)``
    from ``train`` on a deep network."""
    r = np.asarray(hist.radius, dtype=float)
    per_record = r.max(axis=1) if r.ndim == 2 else r
    return np.maximum.accumulate(per_record) if per_step else float(per_record.max())


def steps_to_error(hist, target: float = 0.0):
    """The first recorded step at which the training error is <= ``target`` (Chapters 13-14;
    Zou et al.'s theorems bound this for GD and SGD), or None if the run never got there.
    Record every step (``record_every=1``) for an exact count."""
    err = np.asarray(hist.error, dtype=float)
    hit = np.nonzero(err <= target)[0]
    return int(hist.steps[hit[0]]) if hit.size else None


def gradient_lower_bound(hist, y) -> dict:
    """Along a recorded run, the quantities of the gradient lower bound (Zou et al. 2020, as we
    recall its shape: in the perturbation region, ||grad L(W)||_F >= c * (1/n) sum_i -l'(y_i f_i)
    with c > 0 depending on m, phi, n, L): ``grad_norm`` = ||grad L||_F, ``loss`` = L,
    ``mean_neg_dloss`` = (1/n) sum_i -l'(y_i f_i) = (1/n) sum_i sigmoid(-y_i f_i) (logistic),
    and ``ratio`` = grad_norm / mean_neg_dloss. Needs ``record=("loss", "grad_norm",
    "outputs")`` and a run with ``loss="logistic"``."""
    y = np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y, dtype=float)
    margins = y[None, :] * np.asarray(hist.outputs, dtype=float)
    mean_neg_dloss = (1.0 / (1.0 + np.exp(margins))).mean(axis=1)
    grad = np.asarray(hist.grad_norm, dtype=float)
    return {"steps": np.asarray(hist.steps), "grad_norm": grad,
            "loss": np.asarray(hist.loss, dtype=float), "mean_neg_dloss": mean_neg_dloss,
            "ratio": grad / mean_neg_dloss}


def run_classifier(X, y, *, width: int, depth: int = 2, batch_size: int | None = None,
                   lr: float | None = None, lr_scale: float = 1.0, steps: int = 500,
                   until: dict | None = None, seed: int = 0, record=("loss", "error", "radius"),
                   record_every: int = 1, dtype: torch.dtype = DEFAULT_DTYPE, device="cpu"):
    """Train ``DeepReLU(d, width, depth, parameterization="zou", seed=seed)`` on (X, y) with the
    logistic loss by GD (``batch_size=None``) or SGD (Zou et al. 2020, Algorithms 1-2), through
    ``train.train``. ``lr=None`` takes ``lr_scale`` times the stable step size of
    ``train.suggested_lr`` at initialization (4n / lambda_max of the empirical NTK): in this
    parameterization the NTK grows like m, so the step size must shrink like 1/m.
    Returns (model, History)."""
    X = torch.as_tensor(X).to(dtype)
    net = DeepReLU(X.shape[1], width, depth, parameterization="zou", seed=seed, dtype=dtype,
                   device=device)
    if lr is None:
        lr = lr_scale * suggested_lr(net, X, "logistic")["stable"]
    hist = train(net, X, y, lr=float(lr), steps=steps, batch_size=batch_size, loss="logistic",
                 record=record, record_every=record_every, seed=seed, until=until)
    return net, hist


@dataclass
class ZeroErrorGrid:
    """``zero_error_grid``'s result; arrays shaped (len(widths), len(batch_sizes)).
    ``iterations``: steps to zero training error (NaN if not reached); ``epochs``:
    iterations * b / n; ``tau``: perturbation radius up to that step; ``lr``: the step sizes;
    ``histories[(m, b)]``: each run's History (b = None for GD)."""

    widths: list
    batch_sizes: list
    n: int
    iterations: np.ndarray
    epochs: np.ndarray
    tau: np.ndarray
    lr: np.ndarray
    histories: dict


def zero_error_grid(X, y, *, widths, batch_sizes, depth: int = 2, lr_scale: float = 1.0,
                    max_steps: int = 1000, seed: int = 0, dtype: torch.dtype = DEFAULT_DTYPE,
                    device="cpu") -> ZeroErrorGrid:
    """Iterations to zero training error for every width m and batch size b (None = GD),
    with the logistic loss on ``DeepReLU(..., parameterization="zou")`` (Chapter 14; Zou et al.
    2020 trade width, batch size and iterations against each other). Each run stops at zero
    training error (``train(until={"error": 0.0})``); the step size of width m is ``lr_scale``
    times ``suggested_lr``'s stable GD step at init, the same for every batch size."""
    widths, batch_sizes = list(widths), list(batch_sizes)
    n = int(torch.as_tensor(X).shape[0])
    shape = (len(widths), len(batch_sizes))
    its, eps, tau, lrs = (np.full(shape, np.nan) for _ in range(4))
    hists = {}
    for i, m in enumerate(widths):
        for j, b in enumerate(batch_sizes):
            _, h = run_classifier(X, y, width=m, depth=depth, batch_size=b, lr_scale=lr_scale,
                                  steps=max_steps, until={"error": 0.0}, seed=seed, dtype=dtype,
                                  device=device)
            hists[(m, b)] = h
            lrs[i, j] = h.lr
            k = steps_to_error(h)
            if k is not None:
                its[i, j] = k
                eps[i, j] = k * (n if b is None else b) / n
                tau[i, j] = perturbation_radius(h)
    return ZeroErrorGrid(widths, batch_sizes, n, its, eps, tau, lrs, hists)
