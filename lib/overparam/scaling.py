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
from dataclasses import dataclass, field

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



def two_layer_kernel(net: TwoLayerReLU, X, Y=None) -> torch.Tensor:
    """Chapter 15: the tangent kernel of the first layer of a ``TwoLayerReLU`` between two sets of
    inputs, Du et al. (2019) eq. (6) off the training set,
        H(x, y) = (1/m) x^T y sum_r a_r^2 1{w_r^T x >= 0, w_r^T y >= 0},
    which at X = Y is ``kernels.gram_matrix(net, X)`` (a fixed)."""
    X = torch.as_tensor(X).to(net.W)
    Y = X if Y is None else torch.as_tensor(Y).to(net.W)
    with torch.no_grad():
        Sx = (X @ net.W.T >= 0).to(X.dtype) * net.a.abs()
        Sy = (Y @ net.W.T >= 0).to(X.dtype) * net.a.abs()
        return (X @ Y.T) * (Sx @ Sy.T) / net.m


@dataclass
class FeatureRun:
    """One seed of ``feature_learning_run`` (Chapter 15).

    kernel_change   {scaling: ||H(T) - H(0)||_2 / ||H(0)||_2 on train and test inputs together}
    test_error      {scaling: test error of sign(alpha f) after training}
    kernel_error    test error of kernel regression with the initial kernel H(0)
    train_loss      {scaling: final 1/2-sum square loss of alpha f}
    train_error     {scaling: training error of sign(alpha f) after training}
    """

    kernel_change: dict
    test_error: dict
    kernel_error: float
    train_loss: dict
    train_error: dict = field(default_factory=dict)


def feature_learning_run(X, y, X_test, y_test, *, m: int, lr: float, steps: int,
                         seed: int = 0) -> FeatureRun:
    """Chapter 15: the same centred two-layer net (``scaled_two_layer``, same W(0)) trained by
    ``lazy_run``'s rule (step lr / alpha^2 on the 1/2-sum loss of alpha f) in the NTK scaling
    (alpha = 1) and the mean-field scaling (alpha = 1/sqrt m), beside kernel regression
    u(x) = H(x, X) H(X, X)^{-1} y with the initial kernel (``two_layer_kernel``; the output at
    initialization is 0, and the two scalings' initial kernels differ by the factor alpha^2,
    which the regression does not see)."""
    X, X_test = torch.as_tensor(X), torch.as_tensor(X_test).to(torch.as_tensor(X))
    y, y_test = torch.as_tensor(y).to(X), torch.as_tensor(y_test).to(X)
    Z, n = torch.cat([X, X_test]), X.shape[0]
    change, err, loss, train_err = {}, {}, {}, {}
    for s in SCALINGS:
        alpha = scaling_alpha(int(m), s)
        net = scaled_two_layer(X.shape[1], int(m), alpha, seed=seed, dtype=X.dtype)
        K0 = two_layer_kernel(net, Z)
        if s == "ntk":
            u = K0[n:, :n] @ torch.linalg.solve(K0[:n, :n], y)
            kernel_error = float((y_test * u <= 0).to(X.dtype).mean())
        hist = train(net, X, y, lr=lr / alpha**2, steps=steps, record=("loss",),
                     record_every=steps, seed=seed, progress=False)
        K1 = two_layer_kernel(net, Z)
        change[s] = float(torch.linalg.matrix_norm(K1 - K0, 2) / torch.linalg.matrix_norm(K0, 2))
        with torch.no_grad():
            err[s] = float((y_test * net(X_test) <= 0).to(X.dtype).mean())
            train_err[s] = float((y * net(X) <= 0).to(X.dtype).mean())
        loss[s] = float(hist.loss[-1])
    return FeatureRun(kernel_change=change, test_error=err, kernel_error=kernel_error,
                      train_loss=loss, train_error=train_err)
