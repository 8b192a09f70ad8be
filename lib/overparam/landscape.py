"""The loss along paths in parameter space, and the first-order picture of one GD step
(Chapters 1-2).

Chapter 1 shows that the training loss of ``TwoLayerReLU`` is not convex: two global minima
(a trained network and the same network with its hidden neurons relabelled) are joined by a
straight segment along which the loss rises. Chapter 2 checks the dynamics of the predictions,
du/dt = H(t)(y - u) (Du et al. 2019, eq. (7)), on one gradient step.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from .data import check_inputs
from .device import as_tensor
from .kernels import gram_matrix
from .models import ReLUChain, TwoLayerReLU
from .train import loss_value, train


def _check_model(model):
    if not isinstance(model, ReLUChain):
        raise TypeError("model must be an overparam.models network (TwoLayerReLU or DeepReLU)")


def permute_neurons(model: TwoLayerReLU, *, seed: int = 0) -> TwoLayerReLU:
    """A copy of a ``TwoLayerReLU`` whose hidden neurons are relabelled (Chapter 1).

    f(x) = (1/sqrt m) sum_r a_r relu(w_r^T x) (Du et al. 2019, eq. (1)) is a sum over neurons,
    so any permutation pi gives the same function: sum_r a_{pi(r)} relu(w_{pi(r)}^T x). Here pi
    only mixes neurons with the same output sign a_r, so the fixed output layer ``a`` is left
    exactly as it was and the copy is a point of the same loss L(W) (only W differs). The
    permutation is seeded.
    """
    if not isinstance(model, TwoLayerReLU):
        raise TypeError("permute_neurons needs a TwoLayerReLU")
    g = torch.Generator().manual_seed(int(seed))
    a = model.a.detach().cpu()
    perm = torch.arange(model.m)
    for sign in (-1.0, 1.0):
        idx = torch.nonzero(a == sign).flatten()
        perm[idx] = idx[torch.randperm(idx.numel(), generator=g)]
    other = copy.deepcopy(model)
    perm = perm.to(model.W.device)
    with torch.no_grad():
        other.W.copy_(model.W.detach()[perm])
        if model.train_output:
            other.a.copy_(model.a.detach()[perm])
    return other


def interpolate(model_a, model_b, t: float):
    """The network with every layer (trained or fixed) at (1 - t) * model_a + t * model_b,
    the point at parameter t of the straight segment between two networks (Chapter 1).
    Both must be the same architecture; t = 0 gives model_a, t = 1 model_b."""
    _check_model(model_a)
    _check_model(model_b)
    if model_a.layer_names != model_b.layer_names or any(
        getattr(model_a, k).shape != getattr(model_b, k).shape for k in model_a.layer_names
    ):
        raise ValueError("the two networks must have the same architecture (layers and shapes)")
    out = copy.deepcopy(model_a)
    t = float(t)
    with torch.no_grad():
        for k in out.layer_names:
            A = getattr(model_a, k).detach()
            B = getattr(model_b, k).detach().to(device=A.device, dtype=A.dtype)
            getattr(out, k).copy_((1.0 - t) * A + t * B)
    return out


def loss_along_path(model_a, model_b, X, y, ts=None, *, loss: str = "square") -> np.ndarray:
    """The training loss L(theta(t)) on the straight path theta(t) = (1 - t) theta_a + t theta_b
    between two networks, at each t in ``ts`` (default 41 points in [0, 1]; Chapter 1).

    ``loss="square"`` is Du et al.'s L = 1/2 sum_i (f(x_i) - y_i)^2. A convex loss would stay
    below the chord: L(theta(t)) <= (1 - t) L(theta_a) + t L(theta_b); a bump above it is the
    non-convexity of the landscape, seen on numbers.
    """
    X = check_inputs(X, y)
    y = as_tensor(y)
    ts = np.linspace(0.0, 1.0, 41) if ts is None else np.asarray(ts, dtype=float)
    if ts.ndim != 1 or ts.size == 0:
        raise ValueError("ts must be a non-empty 1-D array of path parameters")
    out = []
    for t in ts:
        net = interpolate(model_a, model_b, float(t))
        with torch.no_grad():
            u = net(X)
            out.append(float(loss_value(u, y.to(device=u.device, dtype=u.dtype), loss)))
    return np.array(out)


def gd_step_prediction(model, X, y, lr: float):
    """One full-batch GD step on a ``TwoLayerReLU`` and what eq. (7) of Du et al. (2019)
    predicts for it (Chapter 2).

    Gradient flow gives du/dt = H(t)(y - u) (eq. (7), H of eq. (6) from
    ``kernels.gram_matrix``); one step of size eta therefore changes the predictions by about
    -eta H(k)(u(k) - y). Returns ``(actual, predicted, flips)``: the actual change
    u(k+1) - u(k), the prediction (both (n,) tensors on the CPU), and the fraction of the
    activation patterns 1{w_r^T x_i >= 0} that the step changed. The model is not modified.
    When no pattern changes the prediction is exact up to rounding (u is linear in W on each
    pattern region), so the whole error comes from the neurons that flip.
    """
    if not isinstance(model, TwoLayerReLU):
        raise TypeError("gd_step_prediction needs a TwoLayerReLU (Du et al.'s H(t))")
    X = check_inputs(X, y).to(device=model.device, dtype=model.dtype)
    y = as_tensor(y).to(device=model.device, dtype=model.dtype)
    net = copy.deepcopy(model)
    H = gram_matrix(net, X)          # H(k), plus G(k) when the output layer trains (Thm 3.3)
    hist = train(net, X, y, lr=lr, steps=1, record=("outputs", "flips"), progress=False)
    u0 = torch.as_tensor(hist.outputs[0], dtype=torch.float64)
    u1 = torch.as_tensor(hist.outputs[1], dtype=torch.float64)
    predicted = -lr * (H.double().cpu() @ (u0 - y.double().cpu()))
    return u1 - u0, predicted, float(hist.flips[1])
