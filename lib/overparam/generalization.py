"""Generalization and the data-dependent quantity of Arora et al. (2019) (Chapter 15).

Arora, Du, Hu, Li & Wang (2019), Theorem 5.1, bound the population loss (for a 1-Lipschitz loss
with values in [0, 1]) of Du et al.'s two-layer net trained by GD (only W trains, a fixed),
initialized with w_r ~ N(0, kappa^2 I) for a small kappa = O(lambda_0 delta / n), by
    sqrt( 2 y^T (H^infty)^{-1} y / n ) + O( sqrt( log(n / (lambda_0 delta)) / n ) ),
with H^infty Du et al.'s Gram matrix (``kernels.h_infinity``). Labels aligned with the top
eigenvectors of H^infty keep it small; random labels make it large. This module computes
sqrt(y^T (H^infty)^{-1} y / n), loads a small real data set that ships with scikit-learn (8x8
handwritten digits), replaces a fraction of its labels by random ones, and measures the test
error of a trained net (with Du et al.'s initialization, kappa = 1: outside the theorem).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .data import check_inputs, normalize_rows
from .device import DEFAULT_DTYPE, as_tensor
from .kernels import h_infinity, lambda_max
from .models import TwoLayerReLU
from .theory import lambda0
from .train import train


def arora_complexity(X, y) -> float:
    """Chapter 15, Arora et al. (2019): sqrt(y^T (H^infty)^{-1} y / n), the data-dependent
    quantity of their generalization bound, Theorem 5.1 (whose first term is sqrt(2) times it;
    H^infty = ``h_infinity(X)``,
    solved with a Cholesky factorization). The inputs must be unit-norm with lambda_0 > 0
    (Du et al.'s Assumption 3.1): ``theory.lambda0`` refuses inputs whose H^infty is numerically
    singular, with a ``ValueError`` naming the likely cause, before anything is inverted."""
    X = check_inputs(X, y)
    y = as_tensor(y).to(device=X.device, dtype=X.dtype)
    lambda0(X)                       # raises ValueError when lambda_0 cannot be told from 0
    H = h_infinity(X)
    L, info = torch.linalg.cholesky_ex(H)
    if int(info) != 0:
        raise ValueError("H^infty is not numerically positive definite for these inputs "
                         "(lambda_0 ~ 0): remove near-duplicate inputs")
    z = torch.linalg.solve_triangular(L, y[:, None], upper=False)
    return math.sqrt(float((z ** 2).sum()) / X.shape[0])


def _dedupe(X, y, min_angle=1e-6):
    """Drop every row that is parallel (angle < min_angle) to an earlier row."""
    G = (X @ X.T).clamp(-1, 1)
    close = torch.triu(G > math.cos(min_angle), diagonal=1)
    keep = ~close.any(dim=0)
    return X[keep], y[keep]


def digits_two_class(classes=(3, 5), *, n_train: int = 200, n_test: int = 150,
                     seed: int = 0, dtype: torch.dtype = DEFAULT_DTYPE):
    """Chapter 15: two classes of scikit-learn's 8x8 handwritten digits (``load_digits``,
    shipped inside the package, no download), rows of 64 pixels scaled to unit norm (the
    papers' ||x|| = 1), labels +1 for ``classes[0]`` and -1 for ``classes[1]``; duplicate images
    are dropped (parallel inputs would make lambda_0 = 0). A seeded random split into
    ``n_train`` and ``n_test`` points. Returns (X_train, y_train, X_test, y_test)."""
    from sklearn.datasets import load_digits

    a, b = classes
    if a == b:
        raise ValueError("classes must be two different digits")
    data = load_digits()
    mask = np.isin(data.target, [a, b])
    X = normalize_rows(torch.tensor(data.data[mask], dtype=torch.float64))
    y = torch.where(torch.tensor(data.target[mask]) == a, 1.0, -1.0).to(torch.float64)
    X, y = _dedupe(X, y)
    n = X.shape[0]
    if n_train + n_test > n:
        raise ValueError(f"only {n} images of digits {a} and {b}: ask for n_train + n_test <= {n}")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(int(seed)))
    tr, te = perm[:n_train], perm[n_train:n_train + n_test]
    return X[tr].to(dtype), y[tr].to(dtype), X[te].to(dtype), y[te].to(dtype)


def randomize_labels(y, fraction: float, *, seed: int = 0):
    """Chapter 15 (the random-label experiment of Arora et al. 2019, after Zhang et al.):
    replace the labels of a seeded random ``fraction`` of the points by independent uniform
    random signs +-1 (so about half of the replaced labels change)."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must lie in [0, 1], not {fraction!r}")
    y = as_tensor(y).clone()
    n = y.shape[0]
    g = torch.Generator().manual_seed(int(seed))
    idx = torch.randperm(n, generator=g)[: int(round(fraction * n))]
    signs = (torch.randint(0, 2, (len(idx),), generator=g) * 2 - 1).to(y.dtype)
    y[idx.to(y.device)] = signs.to(y.device)
    return y


@dataclass
class LabelNoiseResult:
    """One run of ``label_noise_run`` (Chapter 15)."""

    fraction: float
    complexity: float        # sqrt(y^T (H^infty)^{-1} y / n) on the (partly random) labels
    train_loss: float        # final 1/2-sum square loss
    train_error: float       # fraction of training points with y_i u_i <= 0
    test_error: float        # on held-out points with their TRUE labels
    distance: float          # ||W(k) - W(0)||_F after training


def label_noise_run(X, y, X_test, y_test, *, fraction: float, m: int = 1000, steps: int = 1000,
                    lr: float | None = None, seed: int = 0) -> LabelNoiseResult:
    """Chapter 15: randomize a ``fraction`` of the training labels, compute Arora et al.'s
    quantity, train Du et al.'s net (``TwoLayerReLU``, w_r(0) ~ N(0, I), only W trains, 1/2-sum
    square loss, ``train.train``, step 1/lambda_max(H^infty) by default) and measure the test
    error of sign(f) against the true test labels."""
    y_noisy = randomize_labels(y, fraction, seed=seed)
    comp = arora_complexity(X, y_noisy)
    if lr is None:
        lr = 1.0 / lambda_max(h_infinity(X))
    net = TwoLayerReLU(X.shape[1], m, seed=seed, dtype=X.dtype, device="cpu")
    W0 = net.W.detach().clone()
    hist = train(net, X, y_noisy, lr=lr, steps=steps, record=("loss",), record_every=steps)
    with torch.no_grad():
        u, ut = net(X), net(as_tensor(X_test).to(X))
    y_test = as_tensor(y_test).to(X)
    return LabelNoiseResult(
        fraction=float(fraction), complexity=comp, train_loss=float(hist.loss[-1]),
        train_error=float((y_noisy * u <= 0).double().mean()),
        test_error=float((y_test * ut <= 0).double().mean()),
        distance=float((net.W.detach() - W0).norm()))
