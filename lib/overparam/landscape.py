"""The loss along paths in parameter space, and the first-order picture of one GD step
(Chapters 1-2), and the landscape of a deep network near initialization (Chapter 11).

Chapter 1 shows that the training loss of ``TwoLayerReLU`` is not convex: two global minima
(a trained network and the same network with its hidden neurons relabelled) are joined by a
straight segment along which the loss rises. Chapter 2 checks the dynamics of the predictions,
du/dt = H(t)(y - u) (Du et al. 2019, eq. (7)), on one gradient step (its one-step
version, chapter 2's eq. (7')).
"""

from __future__ import annotations

import copy
import math

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
    predicts for it (Chapter 2's eq. (7'), the one-step version of eq. (7)).

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


# --- Chapter 11: data with a controlled separation ---------------------------------------------
def azls_pair_data(n: int, d: int, delta: float, *, seed: int = 0, labels: str = "gaussian"):
    """``deep.azls_data(n, d)`` with its second input moved to distance ``delta`` from its first:
    the free parts z_0, z_1 (the inputs are x = (z / sqrt 2, 1 / sqrt 2)) are put at the angle theta
    with sqrt(2) sin(theta / 2) = delta (``data.close_pair_data``), so ||x_0 - x_1|| = delta.
    Used to vary the separation delta of Allen-Zhu et al.'s gradient lower bound (Chapter 11);
    delta is the data set's separation when the other pairs are farther apart (check with
    ``data.separation``). Needs 0 < delta <= 1, i.e. theta <= pi/2 (such inputs can be up to
    sqrt 2 apart, at theta = pi; larger delta are refused)."""
    from .data import close_pair_data

    if not isinstance(d, int) or isinstance(d, bool) or d < 3:
        raise ValueError(f"d must be an integer >= 3, not {d!r}")
    if not (isinstance(delta, (int, float)) and 0 < delta <= 1):
        raise ValueError(f"delta must be a number in (0, 1], not {delta!r}")
    theta = 2 * math.asin(delta / math.sqrt(2.0))
    Z, y = close_pair_data(n, d - 1, theta, seed=seed, labels=labels)
    X = torch.cat([Z / math.sqrt(2.0), torch.full((n, 1), 1 / math.sqrt(2.0), dtype=Z.dtype)], 1)
    return X, y


# --- Chapter 11: the landscape near initialization of a deep ReLU network ---------------------
def _layer_index(model, layer: int) -> int:
    """Index in ``model.layer_names`` of the trained layer number ``layer`` (1-based)."""
    names = model.trained_layers()
    if not isinstance(layer, int) or isinstance(layer, bool) or not 1 <= layer <= len(names):
        raise ValueError(f"layer must be an integer in 1..{len(names)}, not {layer!r}")
    return model.layer_names.index(names[layer - 1])


def gradient_ratio_range(model, X) -> dict:
    """Chapter 11, the gradient bounds of Allen-Zhu et al. (2019) in the worst case over labels.

    With residual e = f(W) - y and F = 1/2 ||e||^2, grad_{W_l} F = sum_i e_i grad_{W_l} f(x_i),
    so ||grad_{W_l} F||_F^2 / F = 2 e^T K_l e / ||e||^2, K_l the trained layer l's part of the
    empirical NTK (``kernels.empirical_ntk(per_layer=True)``). Over all residual vectors this
    ratio ranges over [2 lambda_min(K_l), 2 lambda_max(K_l)], and the total
    ||grad F||^2 / F = sum_l over [2 lambda_min(K), 2 lambda_max(K)], K = sum_l K_l. Returns a
    dict of numpy arrays/floats: ``layer_min``, ``layer_max`` (one entry per trained layer),
    ``total_min``, ``total_max``; the worst case over labels of max_l ||grad_{W_l} F||^2 / F
    lies in [max(max(layer_min), total_min / L), total_min].
    """
    from .kernels import empirical_ntk

    Ks = empirical_ntk(model, X, per_layer=True)
    ev = [torch.linalg.eigvalsh(0.5 * (K + K.T)).double().cpu() for K in Ks]
    evt = torch.linalg.eigvalsh(0.5 * (sum(Ks) + sum(Ks).T)).double().cpu()
    return {"layer_min": np.array([2 * float(e[0]) for e in ev]),
            "layer_max": np.array([2 * float(e[-1]) for e in ev]),
            "total_min": 2 * float(evt[0]), "total_max": 2 * float(evt[-1])}


def taylor_remainder(model, X, y, deltas) -> np.ndarray:
    """Chapter 11, semi-smoothness: F(W + W') - F(W) - <grad F(W), W'> for each W' in ``deltas``
    (a list of {layer name: W'_l} dicts, as ``deep.random_perturbation`` returns), F the half-sum
    square loss. Allen-Zhu et al. (2019) bound it by O(omega^{1/3} L^2 sqrt(m log m)) ||W'||_2
    sqrt(F) + O(n L^2 m) ||W'||_2^2 (scalar output): a first-order term, because ReLU has kinks.
    The gradient is autograd's (relu'(0) = 0, immaterial when no pre-activation is exactly 0)."""
    from .train import _autograd_pass

    X = check_inputs(X, y).to(device=model.device, dtype=model.dtype)
    y = as_tensor(y).to(device=model.device, dtype=model.dtype)
    names = model.trained_layers()
    params = [getattr(model, k) for k in names]
    u, _, grads = _autograd_pass(model, params, X, y, "square", X.shape[0])
    F0 = float(loss_value(u.detach(), y, "square"))
    grad = dict(zip(names, grads))
    out = []
    for D in deltas:
        if not isinstance(D, dict) or not set(D) <= set(names):
            raise ValueError(f"each W' must be a dict whose keys are trained layers {names}")
        net = copy.deepcopy(model)
        with torch.no_grad():
            for k, Dk in D.items():
                getattr(net, k).add_(Dk)
            F1 = float(loss_value(net(X), y, "square"))
        lin = sum(float((grad[k] * D[k]).sum()) for k in D)
        out.append(F1 - F0 - lin)
    return np.array(out)


def _kink_data(model, X, y, layer, example):
    """For example i (default: the largest residual |f_i - y_i|) in trained layer l: its
    pre-activations z = W_l h, the input h, and c_r = (f_i - y_i) d f_i / d relu(z)_r. An inactive
    pre-activation (z_r < 0) pushed across zero by Delta adds relu(z_r + Delta) = Delta - |z_r| to
    relu(z_r), where the linear model (relu' = 0) predicts no change: F rises to first order in
    Delta exactly when c_r > 0."""
    k = _layer_index(model, layer)
    X = check_inputs(X, y).to(device=model.device, dtype=model.dtype)
    y = as_tensor(y).to(device=model.device, dtype=model.dtype)
    if example is None:
        with torch.no_grad():
            example = int(torch.argmax((model(X) - y).abs()))
    if not isinstance(example, int) or not 0 <= example < X.shape[0]:
        raise ValueError(f"example must be an index in 0..{X.shape[0] - 1}, not {example!r}")
    with torch.enable_grad():
        f, inputs, outputs = model.forward_layers(X[example:example + 1])
        post = inputs[k + 1]
        (g,) = torch.autograd.grad(f.sum(), post)
    z, h = outputs[k][0].detach(), inputs[k][0].detach()
    c = (f.detach()[0] - y[example]) * g[0]
    return k, z, h, c, example


def kink_point(model, X, y, omega: float, *, layer: int = 1, example: int | None = None,
               margin: float = 1e-9):
    """Chapter 11: a point W = W(0) + W'' of the ball ||W''||_2 <= omega chosen by an adversary
    of semi-smoothness (Allen-Zhu et al. 2019). W'' (rank one, in trained layer ``layer`` only)
    moves as many inactive pre-activations z_r < 0 of one example (``example``; default the
    largest residual) as the budget allows to margin * z_r, next to the kink, taking the
    smallest |z_r| among those whose crossing would raise F (c_r > 0, see ``kink_flip``):
    W'' = -(1 - margin) z_S h^T / ||h||^2. They stay inactive, so f(x_i) does not change. As
    the k smallest of m Gaussians N(0, 2/m) have size ~ k / m^{3/2}, |S| grows like
    m omega^{2/3} (the sign-change count). Returns (a perturbed copy of ``model``, the index
    tensor S, the example)."""
    if not (isinstance(omega, (int, float)) and omega > 0 and math.isfinite(omega)):
        raise ValueError(f"omega must be a positive number, not {omega!r}")
    k, z, h, c, example = _kink_data(model, X, y, layer, example)
    idx = torch.nonzero((c > 0) & (z < 0)).flatten()
    idx = idx[torch.argsort(z[idx].abs())]
    cost = (1 - margin) * torch.sqrt(torch.cumsum(z[idx] ** 2, 0)) / h.norm()
    S = idx[: int((cost <= omega).sum())]
    zS = torch.zeros_like(z)
    zS[S] = z[S]
    net = copy.deepcopy(model)
    with torch.no_grad():
        getattr(net, model.layer_names[k]).add_(-(1 - margin) * torch.outer(zS, h) / h.norm() ** 2)
    return net, S, example


def kink_flip(model, X, y, r: float, support, *, layer: int = 1, example: int | None = None):
    """Chapter 11: W' with ||W'||_2 = r (rank one, in trained layer ``layer``) that pushes the
    pre-activations ``support`` of one example (from ``kink_point``, which put them just below
    zero) across zero along u_r = |c_r| / ||c_S||, c_r = (f_i - y_i) d f_i / d relu(z_r):
    W' h = r ||h|| u. The linear model sees nothing (relu' = 0 below the kink), while F rises by
    about r ||h|| ||c_S||: a remainder F(W + W') - F(W) - <grad F(W), W'> of first order in r
    (the worst case of semi-smoothness), with ||c_S|| ~ |f_i - y_i| sqrt(|S|) growing like
    sqrt(m) omega^{1/3}. Use the same ``layer`` and ``example`` as ``kink_point``."""
    if not (isinstance(r, (int, float)) and r > 0 and math.isfinite(r)):
        raise ValueError(f"r must be a positive number, not {r!r}")
    k, z, h, c, example = _kink_data(model, X, y, layer, example)
    S = torch.as_tensor(support, dtype=torch.long, device=z.device)
    S = S[(c[S] > 0) & (z[S] < 0)]
    if S.numel() == 0:
        raise ValueError("no pre-activation of the support is just below zero with c_r > 0; "
                         "build the point with kink_point (same layer and example) first")
    u = torch.zeros_like(z)
    u[S] = c[S]
    u = u / u.norm()
    return {model.layer_names[k]: r * torch.outer(u, h / h.norm())}


# --- Chapter 2: how far one GD step is from eq. (7') ------------------------------------------
def step_error(actual, predicted, u):
    """The error of eq. (7') (chapter 2: eq. (7) of Du et al. (2019) for one GD step), from the
    actual and predicted changes of the predictions (``gd_step_prediction``) and the predictions
    ``u`` before the step. With e = actual - predicted, returns ``(rel, units, corr)``:

    - ``rel = ||e|| / ||predicted||``, the relative error;
    - ``units = ||e|| / (eps ||u||)``, the error in float64 rounding units of the predictions
      (eps = 2.2e-16): the actual change is a difference of two vectors of size ||u||, so a step
      that is exact in real arithmetic has ``units`` of order 1 to 10;
    - ``corr``, Pearson's correlation across the inputs of e and the predicted change (negative
      when the step falls short of the prediction; meaningful only for steps with flips).
    """
    a, p, u = (torch.as_tensor(v, dtype=torch.float64).detach().cpu().flatten()
               for v in (actual, predicted, u))
    e = a - p
    eps = torch.finfo(torch.float64).eps
    rel = float(e.norm() / p.norm())
    units = float(e.norm() / (eps * u.norm()))
    corr = float(np.corrcoef(e.numpy(), p.numpy())[0, 1])
    return rel, units, corr


# --- Chapter 11: the adversary's first-order coefficient, and the gradient bounds along GD ---
def kink_slope(model, X, y, support, *, layer: int = 1, example: int | None = None) -> float:
    """Chapter 11: the slope ||h|| ||c_S|| that ``kink_flip`` predicts for the remainder
    F(W + W') - F(W) - <grad F(W), W'> = r ||h|| ||c_S|| + o(r) at the point built by
    ``kink_point`` (c_r = (f_i - y_i) d f_i / d relu(z_r), restricted to the support S with
    c_r > 0 and z_r < 0). Use the same ``layer`` and ``example`` as ``kink_point``."""
    _, z, h, c, _ = _kink_data(model, X, y, layer, example)
    S = torch.as_tensor(support, dtype=torch.long, device=z.device)
    S = S[(c[S] > 0) & (z[S] < 0)]
    return float(h.norm() * c[S].norm())


def gd_kernel_run(model, X, y, *, steps: int = 200, record_every: int = 20,
                  control_seed: int = 0) -> dict:
    """Chapter 11, the gradient bounds of Allen-Zhu et al. (2019) along gradient descent. Trains
    ``model`` in place (full-batch GD, step 1/lambda_max of the NTK at init,
    ``train.suggested_lr``) and returns a dict: ``rec``, rows [k, F, max_l ||grad_{W_l} F||^2 / F,
    Lambda_low = 2 lambda_min(K)] every ``record_every`` steps; ``omega``, the distances
    ||W_l - W_l(0)||_2 at the end; ``flips``, the sign changes per layer (max over inputs) from
    W(0); and the control: a random point W(0) + W' with ||W'_l||_2 = omega_l (seed
    ``control_seed``), its ``low_rand`` = Lambda_low and ``flips_rand``."""
    from .deep import (layer_gradients, perturbed, random_perturbation, sign_changes, snapshot,
                       spectral_distance)
    from .train import suggested_lr

    net0, rec = copy.deepcopy(model), []

    def measure(k, net):
        F, g = layer_gradients(net, X, y)
        rec.append([k, F, float((g ** 2).max()) / F, gradient_ratio_range(net, X)["total_min"]])

    train(model, X, y, lr=suggested_lr(model, X)["stable"], steps=steps, record=("loss",),
          record_every=record_every, progress=False, callback=measure)
    omega = spectral_distance(model, snapshot(net0))
    D = random_perturbation(net0, 1.0, seed=control_seed)
    rand = perturbed(net0, {k: w * v for w, (k, v) in zip(omega, D.items())})
    return {"rec": np.array(rec), "omega": omega, "flips": sign_changes(model, net0, X),
            "low_rand": gradient_ratio_range(rand, X)["total_min"],
            "flips_rand": sign_changes(rand, net0, X)}
