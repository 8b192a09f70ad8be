"""Lazy and active training: output scaling and the NTK vs mean-field two-layer net (Chapter 9).

Chizat, Oyallon & Bach (2019) train the scaled model alpha * f(x; theta) on the loss divided by
alpha^2,  L_alpha(theta) = (1/alpha^2) * 1/2 sum_i (alpha f(x_i; theta) - y_i)^2,  with f
centred so that f(x; theta_0) = 0. As alpha -> infinity the parameters move O(1/alpha), the
tangent kernel stays at its initial value and training is "lazy": it is the linearized model's
training (Chapter 8), whatever the architecture.

Here f is Du et al.'s two-layer net (only W trains, a fixed), so alpha * f is exactly
``TwoLayerReLU`` with output weights alpha * a: the one training loop ``train.train`` runs it
unchanged, and the loss factor 1/alpha^2 is the step size lr / alpha^2. The output is centred
by the symmetric initialization of Chizat et al.: neurons come in pairs (w_r, a_r), (w_r, -a_r),
so f(x; theta_0) = 0 for every x.

The two classical scalings of the same net are two values of alpha:
    NTK scaling         f = (1/sqrt m) sum_r a_r relu(w_r^T x)          alpha = 1
    mean-field scaling  f = (1/m)      sum_r a_r relu(w_r^T x)          alpha = 1/sqrt(m)
(Mei, Montanari & Nguyen 2018), the mean-field one trained with the loss times m (lr * m), the
time scale on which its weights move O(1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .device import DEFAULT_DTYPE
from .kernels import gram_matrix
from .models import TwoLayerReLU
from .train import train

SCALINGS = ("ntk", "mean_field")


def scaled_two_layer(d: int, m: int, alpha: float, *, seed: int = 0, symmetric: bool = True,
                     dtype: torch.dtype = DEFAULT_DTYPE, device="cpu") -> TwoLayerReLU:
    """Chapter 9, Chizat et al. (2019) Section 2: the model alpha * f with f Du et al.'s
    two-layer net, as a ``TwoLayerReLU`` whose fixed output weights are alpha * a_r.
    ``symmetric=True`` (m even) pairs the neurons, w_{m/2+r}(0) = w_r(0) and a_{m/2+r} = -a_r,
    so the output at initialization is exactly 0 (the centring of Chizat et al.)."""
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha must be a positive finite number, not {alpha!r}")
    if symmetric and m % 2:
        raise ValueError(f"the symmetric initialization pairs neurons: m must be even, not {m}")
    net = TwoLayerReLU(d, m, seed=seed, dtype=dtype, device=device)
    with torch.no_grad():
        if symmetric:
            h = m // 2
            net.W[h:] = net.W[:h]
            net.a[h:] = -net.a[:h]
        net.a.mul_(alpha)
    net.alpha = float(alpha)
    return net


def scaling_alpha(m: int, scaling: str) -> float:
    """Chapter 9: alpha of the two classical scalings relative to Du et al.'s 1/sqrt(m):
    1 for ``"ntk"`` (1/sqrt m), 1/sqrt(m) for ``"mean_field"`` (1/m)."""
    if scaling not in SCALINGS:
        raise ValueError(f"scaling must be one of {SCALINGS}, not {scaling!r}")
    return 1.0 if scaling == "ntk" else 1.0 / math.sqrt(m)


@dataclass
class LazyRun:
    """What ``lazy_run`` measured for one alpha (Chapter 9).

    alpha, m, steps             the scale, the width and the recorded steps
    loss                        the 1/2-sum square loss of the scaled model's outputs,
                                L(alpha f) = alpha^2 L_alpha
    radius                      max_r ||w_r(k) - w_r(0)|| (Du et al.'s Fig. 1c quantity)
    kernel_drift                ||H(k) - H(0)||_2 / ||H(0)||_2 (H the model's Gram matrix)
    flips                       fraction of activation patterns 1{w_r^T x_i >= 0} changed
    weight_move                 ||W - W(0)||_F / ||W(0)||_F at the end of training
    """

    alpha: float
    m: int
    steps: np.ndarray
    loss: np.ndarray
    radius: np.ndarray
    kernel_drift: np.ndarray
    flips: np.ndarray
    weight_move: float


def lazy_run(X, y, *, m: int, alpha: float, lr: float, steps: int, seed: int = 0,
             record_every: int = 10, device="cpu") -> LazyRun:
    """Chapter 9: full-batch GD (``train.train``) on Chizat et al.'s L_alpha for the centred
    ``scaled_two_layer(d, m, alpha)``: the loss 1/alpha^2 * 1/2 sum (alpha f - y)^2 is run as
    the 1/2-sum loss with step ``lr / alpha^2``. Records the loss, the radius, the relative
    kernel drift and the activation flips, and the final relative weight movement."""
    X = torch.as_tensor(X)
    net = scaled_two_layer(X.shape[1], m, alpha, seed=seed, dtype=X.dtype, device=device)
    W0 = net.W.detach().clone()
    norm0 = float(torch.linalg.matrix_norm(gram_matrix(net, X), 2))
    hist = train(net, X, y, lr=lr / alpha**2, steps=steps,
                 record=("loss", "radius", "kernel_drift", "flips"),
                 record_every=record_every, seed=seed)
    move = float((net.W.detach() - W0).norm() / W0.norm())
    return LazyRun(alpha=float(alpha), m=int(m), steps=hist.steps, loss=hist.loss,
                   radius=hist.radius, kernel_drift=hist.kernel_drift / norm0,
                   flips=hist.flips, weight_move=move)


def scaling_comparison(X, y, *, widths, lr: float, steps: int, seed: int = 0):
    """Chapter 9: for each width m, ``lazy_run`` in the NTK scaling (alpha = 1) and the
    mean-field scaling (alpha = 1/sqrt m). Returns {scaling: [LazyRun per width]}."""
    return {s: [lazy_run(X, y, m=int(m), alpha=scaling_alpha(int(m), s), lr=lr, steps=steps,
                         seed=seed, record_every=steps) for m in widths]
            for s in SCALINGS}

