"""The linearized network and kernel regression with the NTK (Chapter 8).

Around its initialization theta_0 a network f(x; theta) has the first-order Taylor model
    f_lin(x; theta) = f(x; theta_0) + J(x) (theta - theta_0),   J(x) = df(x; theta_0)/dtheta
(Jacot et al. 2018; Lee et al. 2019, eq. (5)). f_lin is linear in theta, so gradient
descent on Du et al.'s 1/2-sum square loss moves its predictions exactly by the empirical NTK
at initialization, K = J J^T:
    u(k+1) = u(k) - lr K_XX (u(k) - y),     u_*(k+1) = u_*(k) - lr K_*X (u(k) - y)
for the training inputs X and any other inputs *. As k -> infinity (when K_XX is invertible)
this is kernel regression with the NTK, the initial output subtracted:
    u_*(infinity) = u_*(0) + K_*X K_XX^{-1} (y - u(0)).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch

from .device import as_tensor
from .kernels import empirical_ntk
from .train import train


def _params(model):
    return {k: v.detach() for k, v in model.named_parameters()}


def _fwd(model, params, X):
    from torch.func import functional_call
    buffers = dict(model.named_buffers())
    return functional_call(model, (params, buffers), (X,))


def taylor_model(model, X, delta: dict):
    """Chapter 8, the first-order Taylor model at the model's current weights theta_0:
    f_lin(x; theta_0 + delta) = f(x; theta_0) + J(x) delta, one forward-mode product (jvp).
    ``delta`` maps each trainable parameter's name to a tensor of its shape.
    Returns (f(x; theta_0 + delta), f_lin(x; theta_0 + delta)) on the rows of X."""
    from torch.func import jvp
    X = as_tensor(X).to(device=model.device, dtype=model.dtype)
    p0 = _params(model)
    missing = set(p0) - set(delta)
    if missing:
        raise ValueError(f"delta needs a tensor for every trainable parameter; missing {missing}")
    tangent = {k: as_tensor(delta[k]).to(device=model.device, dtype=model.dtype) for k in p0}
    with torch.no_grad():
        f0, df = jvp(lambda p: _fwd(model, p, X), (p0,), (tangent,))
        f_new = _fwd(model, {k: p0[k] + tangent[k] for k in p0}, X)
    return f_new, f0 + df


def random_direction(model, *, seed: int = 0, relative: bool = True) -> dict:
    """A seeded Gaussian direction in parameter space for ``taylor_model`` (Chapter 8).
    With ``relative=True`` each layer's direction is scaled to the Frobenius norm of that
    layer's weights, so ``eps * direction`` moves every layer by a fraction eps of its size."""
    g = torch.Generator().manual_seed(int(seed))
    out = {}
    for k, v in _params(model).items():
        z = torch.randn(v.shape, generator=g, dtype=torch.float64)
        z = z.to(device=v.device, dtype=v.dtype)
        out[k] = z * (v.norm() / z.norm()) if relative else z
    return out


def taylor_gaps(model, X, epsilons, *, frozen=(), seed: int = 0):
    """Chapter 8: max_i |f(x_i; theta_0 + eps D) - f_lin(x_i; theta_0 + eps D)| for each eps,
    D = ``random_direction(model, seed=seed)`` (a numpy array, one entry per eps).

    ``frozen`` names parameters held at theta_0 (e.g. ``("W2",)``, the output weights of a
    one-hidden-layer ``DeepReLU``): their entries of D are set to zero, the others keep the
    same direction. An unknown name raises ``ValueError`` listing the valid names."""
    D = random_direction(model, seed=seed)
    frozen = (frozen,) if isinstance(frozen, str) else tuple(frozen)
    unknown = sorted(set(frozen) - set(D))
    if unknown:
        raise ValueError(f"frozen names no trainable parameter: {unknown}; "
                         f"valid names are {sorted(D)}")
    gaps = []
    for eps in epsilons:
        f, fl = taylor_model(model, X, {k: (0.0 if k in frozen else eps) * v
                                        for k, v in D.items()})
        gaps.append(float((f - fl).abs().max()))
    return np.array(gaps)


def train_linearized(model, X, y, *, lr: float, steps: int, X_test=None, K=None,
                     K_test=None, record_every: int = 1):
    """Chapter 8: full-batch GD on the linearized model f_lin with Du et al.'s 1/2-sum square
    loss and step ``lr`` (the same update as ``train.train`` makes on the network), run in
    function space with the empirical NTK at initialization:
        u(k+1) = u(k) - lr K_XX (u(k) - y),   u_test(k+1) = u_test(k) - lr K_test,X (u(k) - y).
    ``K`` (n, n) and ``K_test`` (n_test, n) default to ``kernels.empirical_ntk`` of ``model``.
    Returns a dict with ``steps``, ``loss`` (records,), ``outputs`` (records, n) and, with
    ``X_test``, ``test_outputs`` (records, n_test); the model is not changed."""
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, not {steps!r}")
    if not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive finite number, not {lr!r}")
    X = as_tensor(X).to(device=model.device, dtype=model.dtype)
    y = as_tensor(y).to(device=model.device, dtype=model.dtype)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), got {tuple(y.shape)}")
    K = empirical_ntk(model, X) if K is None else as_tensor(K).to(X)
    with torch.no_grad():
        u = model(X).detach()
        ut = None
        if X_test is not None:
            Xt = as_tensor(X_test).to(X)
            K_test = empirical_ntk(model, Xt, X) if K_test is None else as_tensor(K_test).to(X)
            ut = model(Xt).detach()
        rec = {"steps": [], "loss": [], "outputs": [], "test_outputs": []}
        for k in range(steps + 1):
            if k % record_every == 0 or k == steps:
                rec["steps"].append(k)
                rec["loss"].append(float(0.5 * ((u - y) ** 2).sum()))
                rec["outputs"].append(u.cpu().numpy().copy())
                if ut is not None:
                    rec["test_outputs"].append(ut.cpu().numpy().copy())
            if k == steps:
                break
            r = u - y
            if ut is not None:
                ut = ut - lr * (K_test @ r)
            u = u - lr * (K @ r)
            if not bool(torch.isfinite(u).all()):
                raise ValueError(f"GD on the linearized model diverged at step {k}: use "
                                 "lr < 2/lambda_max(K)")
    out = {k: np.asarray(v) for k, v in rec.items() if v}
    return out


def ntk_regression(K_train, K_test_train, y, *, u0=None, u0_test=None, time=None,
                   ridge: float = 0.0):
    """Chapter 8: kernel regression with an NTK (Jacot et al. 2018, Arora et al. 2019 eq. (9)),
    the prediction of the trained infinitely wide network at test inputs,
        u_test = u0_test + K_test,train K_train^{-1} (y - u0),
    or, for a finite gradient-flow ``time`` t (1/2-sum loss),
        u_test(t) = u0_test + K_test,train K_train^{-1} (I - exp(-t K_train)) (y - u0).
    ``u0``/``u0_test``: the network's initial outputs (zero when None: subtract them, or use a
    network whose initial output is ~0). ``ridge`` adds ridge * I to K_train."""
    K = as_tensor(K_train)
    Ks = as_tensor(K_test_train).to(K)
    y = as_tensor(y).to(K)
    n = K.shape[0]
    if K.shape != (n, n) or Ks.ndim != 2 or Ks.shape[1] != n or y.shape != (n,):
        raise ValueError(f"shapes must be K_train (n, n), K_test_train (n', n), y (n,); got "
                         f"{tuple(K.shape)}, {tuple(Ks.shape)}, {tuple(y.shape)}")
    u0 = torch.zeros_like(y) if u0 is None else as_tensor(u0).to(K)
    u0t = torch.zeros(Ks.shape[0], dtype=K.dtype, device=K.device) if u0_test is None \
        else as_tensor(u0_test).to(K)
    Kr = 0.5 * (K + K.T) + ridge * torch.eye(n, dtype=K.dtype, device=K.device)
    r = y - u0
    if time is None:
        coef = torch.linalg.solve(Kr, r)
    else:
        evals, V = torch.linalg.eigh(Kr)
        # K^{-1}(I - e^{-tK}) r in the eigenbasis; (1 - e^{-t l})/l -> t as l -> 0
        safe = torch.where(evals.abs() > 1e-300, evals, torch.ones_like(evals))
        g = torch.where(evals.abs() > 1e-300, -torch.expm1(-time * evals) / safe,
                        torch.full_like(evals, float(time)))
        coef = V @ (g * (V.T @ r))
    return u0t + Ks @ coef


def circle_points(n: int, *, offset: float = 0.0, d: int = 2, dtype=torch.float64):
    """n points evenly spaced on the great circle {(cos t, sin t, 0, ..., 0)} of S^{d-1},
    t = offset + 2 pi k / n, and their angles t (Chapter 8's pictures: a 1-D slice of the
    sphere). Returns (X (n, d), t (n,))."""
    if d < 2:
        raise ValueError("d must be at least 2")
    t = offset + 2 * math.pi * torch.arange(n, dtype=torch.float64) / n
    X = torch.zeros(n, d, dtype=torch.float64)
    X[:, 0], X[:, 1] = torch.cos(t), torch.sin(t)
    return X.to(dtype), t.to(dtype)


def network_vs_linearized(model, X, y, X_test, *, lr: float, steps: int, ntk=None):
    """Chapter 8's comparison for one network: train a copy of ``model`` with ``train.train``
    and its linearization with ``train_linearized`` from the same initialization (same lr,
    steps, 1/2-sum loss), and, when ``ntk`` (a function (X, Y) -> infinite-width kernel, e.g.
    ``lambda A, B: deep_ntk(A, B, depth=1)``) is given, the infinite-width model trained
    with the same step size and number of steps (GD in function space with that kernel and the
    same initial outputs; its limit as steps -> infinity is ``ntk_regression``). Returns a dict
    of numpy arrays on ``X_test``: ``init``, ``network``, ``linearized`` and ``kernel`` (each
    (n_test,)), plus the training ``loss`` record of the network and ``u0``, the initial
    outputs f_0(X) on the training inputs (n,), which ``ntk_regression`` subtracts."""
    net = copy.deepcopy(model)
    X = as_tensor(X).to(device=model.device, dtype=model.dtype)
    Xt = as_tensor(X_test).to(X)
    lin = train_linearized(net, X, y, lr=lr, steps=steps, X_test=Xt, record_every=max(steps, 1))
    hist = train(net, X, y, lr=lr, steps=steps, record=("loss",), record_every=max(steps, 1))
    with torch.no_grad():
        ft = net(Xt)
    out = {"init": lin["test_outputs"][0], "network": ft.cpu().numpy(),
           "linearized": lin["test_outputs"][-1], "loss": hist.loss, "u0": lin["outputs"][0]}
    if ntk is not None:
        kern = train_linearized(model, X, y, lr=lr, steps=steps, X_test=Xt, K=ntk(X, X),
                                K_test=ntk(Xt, X), record_every=max(steps, 1))
        out["kernel"] = kern["test_outputs"][-1]
    return out


def lazy_vs_linearized(X, y, *, m: int, alpha: float, lr: float, steps: int,
                       seed: int = 0) -> dict:
    """Chapter 9, Chizat, Oyallon & Bach (2019), Theorem 2.2: full-batch GD on L_alpha for the
    centred model alpha f (``scaling.scaled_two_layer``, only W trains; step ``lr / alpha^2`` on
    the 1/2-sum loss, as ``scaling.lazy_run``) and, from the same W(0), GD on its linearization
    f_lin(x; W) = f(x; W(0)) + J(x)(W - W(0)). For this ReLU net f_lin is the net with the
    activation patterns frozen at W(0), and f(x; W(0)) = 0. Both runs use the hand-written
    gradient (alpha a_r / sqrt m) sum_i r_i 1{w_r^T x_i >= 0} x_i. Returns a dict of the sups
    over the steps of ``param_gap`` ||W(k) - Wbar(k)||_F, ``output_gap`` ||u(k) - ubar(k)||_2
    (u = alpha f on X, ubar = alpha f_lin) and ``move`` ||W(k) - W(0)||_F, and the final training
    outputs ``outputs`` and ``outputs_lin``."""
    from .scaling import scaled_two_layer

    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, not {steps!r}")
    if not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive finite number, not {lr!r}")
    X = as_tensor(X).to(torch.float64).cpu()
    y = as_tensor(y).to(X)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), got {tuple(y.shape)}")
    net = scaled_two_layer(X.shape[1], m, alpha, seed=seed, dtype=torch.float64, device="cpu")
    W0 = net.W.detach().clone()                       # (m, d)
    c = net.a.detach().clone() / math.sqrt(m)         # alpha a_r / sqrt m
    P0 = (X @ W0.T >= 0).to(X.dtype)                  # frozen patterns, (n, m)
    step = lr / alpha ** 2
    W, Wb = W0.clone(), W0.clone()
    gaps = {"param_gap": 0.0, "output_gap": 0.0, "move": 0.0}

    def outputs(V, P):                               # alpha f with patterns P: (n,)
        return (P * (X @ V.T)) @ c

    for k in range(steps + 1):
        P = (X @ W.T >= 0).to(X.dtype)
        u, ub = outputs(W, P), outputs(Wb, P0)
        gaps["param_gap"] = max(gaps["param_gap"], float((W - Wb).norm()))
        gaps["output_gap"] = max(gaps["output_gap"], float((u - ub).norm()))
        gaps["move"] = max(gaps["move"], float((W - W0).norm()))
        if k == steps:
            break
        W = W - step * c[:, None] * ((P * (u - y)[:, None]).T @ X)
        Wb = Wb - step * c[:, None] * ((P0 * (ub - y)[:, None]).T @ X)
    return {**gaps, "outputs": u.numpy(), "outputs_lin": ub.numpy()}
