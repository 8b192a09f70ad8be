"""Kernels of the course: arc-cosine kernels, H^infty, the two-layer and deep NTK, the Gram
matrix H(t) of a finite network, its empirical NTK, and lambda_min (Chapters 3, 4, 7, 8, 12).

All kernel functions take ``(X, Y=None)`` (rows are inputs; ``Y=None`` means ``Y = X``, and
then the diagonal cosine is set to exactly 1) and return the Gram matrix on X's device and in
X's dtype. numpy arrays are accepted too.
"""

from __future__ import annotations

import math

import torch

from .device import as_tensor


def kappa0(rho):
    """kappa_0(rho) = (pi - arccos rho) / pi = 2 E[relu'(u) relu'(v)] for standard Gaussians
    (u, v) with correlation rho (the arc-cosine kernel of degree 0; MATH.md §2)."""
    rho = as_tensor(rho).clamp(-1.0, 1.0)
    return (math.pi - torch.arccos(rho)) / math.pi


def kappa1(rho):
    """kappa_1(rho) = (sqrt(1 - rho^2) + (pi - arccos rho) rho) / pi = 2 E[relu(u) relu(v)]
    (the arc-cosine kernel of degree 1; MATH.md §2)."""
    rho = as_tensor(rho).clamp(-1.0, 1.0)
    return (torch.sqrt(1.0 - rho * rho) + (math.pi - torch.arccos(rho)) * rho) / math.pi


def _pair(X, Y):
    X = as_tensor(X)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n, d); got {tuple(X.shape)}")
    if Y is None:
        return X, X, True
    Y = as_tensor(Y).to(device=X.device, dtype=X.dtype)
    if Y.ndim != 2 or Y.shape[1] != X.shape[1]:
        raise ValueError(f"Y must have shape (n', {X.shape[1]}); got {tuple(Y.shape)}")
    return X, Y, False


def _norms_and_cosines(X, Y=None):
    """(||x||, ||y||, rho) with rho clipped to [-1, 1] and, for Y=None, diagonal exactly 1
    (arccos is ill-conditioned at 1: a rounding error of 1e-16 in rho costs 1e-8)."""
    X, Y, same = _pair(X, Y)
    nx, ny = X.norm(dim=1), Y.norm(dim=1)
    if bool((nx == 0).any()) or bool((ny == 0).any()):
        raise ValueError("an input is the zero vector: its angle to other inputs is undefined")
    rho = ((X @ Y.T) / (nx[:, None] * ny[None, :])).clamp(-1.0, 1.0)
    if same:
        rho.fill_diagonal_(1.0)
    return nx, ny, rho


def h_infinity(X, Y=None):
    """Du et al. (2019), Assumption 3.1 / eq. (6) at infinite width:
    H^infty_ij = E_{w~N(0,I)}[x_i^T x_j 1{w^T x_i >= 0, w^T x_j >= 0}]
               = x_i^T x_j (pi - arccos rho_ij) / (2 pi) = 1/2 x_i^T x_j kappa_0(rho_ij)."""
    nx, ny, rho = _norms_and_cosines(X, Y)
    return 0.5 * (nx[:, None] * ny[None, :] * rho) * kappa0(rho)


def g_infinity(X, Y=None):
    """Du et al. (2019), Thm 3.3: the output layer's kernel at infinite width,
    G^infty_ij = E_w[relu(w^T x_i) relu(w^T x_j)] = 1/2 ||x_i|| ||x_j|| kappa_1(rho_ij)."""
    nx, ny, rho = _norms_and_cosines(X, Y)
    return 0.5 * nx[:, None] * ny[None, :] * kappa1(rho)


def two_layer_ntk(X, Y=None, train_output: bool = True):
    """The NTK of ``TwoLayerReLU`` at infinite width (Chapter 7): H^infty + G^infty when the
    output layer trains too (Du et al. Thm 3.3), H^infty alone when ``train_output=False``."""
    H = h_infinity(X, Y)
    return H + g_infinity(X, Y) if train_output else H


def _deep_recursion(X, Y, depth):
    """Theta^L / (||x|| ||x'||) and rho^L of the recursion in MATH.md §2, and the scale
    ||x|| ||x'||. With ReLU and c_sigma = 2, Sigma^h(x, x) = ||x||^2 at every layer, so
    rho^h = Sigma^h / (||x|| ||x'||) = kappa_1(rho^{h-1}) and the recursion runs on the
    normalized kernels theta^h = Theta^h / (||x|| ||x'||), in place on four n x n matrices:
        kappa_0 = (pi - arccos rho) / pi = arccos(-rho) / pi      (one arccos per layer)
        rho^h   = kappa_1(rho^{h-1}) = sqrt(1 - rho^2) / pi + kappa_0 rho
        theta^h = theta^{h-1} kappa_0 + rho^h
    On the diagonal (Y=None) rho = 1 exactly: kappa_0 = pi/pi = 1 and kappa_1 = 0 + 1 * 1, so
    theta^L(x, x) = L + 1 exactly."""
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
        raise ValueError(f"depth must be an integer >= 0 (number of hidden layers), not {depth!r}")
    nx, ny, rho = _norms_and_cosines(X, Y)    # rho^0 = cos(x, x'), clipped, diagonal 1
    theta = rho.clone()                       # theta^0 = rho^0 (Theta^0 = Sigma^0 = x^T x')
    k0, nxt = torch.empty_like(rho), torch.empty_like(rho)
    one = torch.ones((), dtype=rho.dtype, device=rho.device)
    for _ in range(depth):
        torch.neg(rho, out=k0).arccos_().div_(math.pi)    # dot Sigma^h = kappa_0(rho^{h-1})
        torch.addcmul(one, rho, rho, value=-1.0, out=nxt).sqrt_().div_(math.pi)
        nxt.addcmul_(k0, rho).clamp_(-1.0, 1.0)           # rho^h = kappa_1(rho^{h-1})
        theta.mul_(k0).add_(nxt)                          # Theta^h = Theta^{h-1} dSigma^h + Sigma^h
        rho, nxt = nxt, rho
    return rho, theta, nx[:, None] * ny[None, :]


def deep_ntk(X, Y=None, *, depth: int):
    """Arora et al. (2019), Thm 3.1 recursion (NTK parameterization, c_sigma = 2, no bias):
    Sigma^0 = x^T x'; Sigma^h = sqrt(Sigma^{h-1}(x,x) Sigma^{h-1}(x',x')) kappa_1(rho^{h-1});
    dot Sigma^h = kappa_0(rho^{h-1}); Theta^h = Theta^{h-1} dot Sigma^h + Sigma^h.
    Returns Theta^L for L = ``depth`` hidden layers: Theta^L(x, x) = (L + 1) ||x||^2 (exactly
    L + 1 for unit x), and Theta^1 = 2 (H^infty + G^infty). The limit of
    ``DeepReLU(parameterization="ntk")``'s empirical NTK (Chapters 8 and 12)."""
    _, theta, scale = _deep_recursion(X, Y, depth)
    return theta.mul_(scale)


def deep_nngp(X, Y=None, *, depth: int):
    """The NNGP kernel Sigma^L of the same recursion as ``deep_ntk``: the covariance of the
    output of ``DeepReLU(parameterization="ntk")`` at initialization as m -> infinity."""
    rho, _, scale = _deep_recursion(X, Y, depth)
    return rho.mul_(scale)


def lambda_min(H) -> float:
    """Smallest eigenvalue of a symmetric matrix (Du et al.'s lambda_0 = lambda_min(H^infty))."""
    H = as_tensor(H)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"lambda_min needs a square matrix; got shape {tuple(H.shape)}")
    if not bool(torch.isfinite(H).all()):
        raise ValueError("the matrix has NaN or inf entries")
    return float(torch.linalg.eigvalsh(0.5 * (H + H.T))[0])


def lambda_max(H) -> float:
    """Largest eigenvalue of a symmetric matrix (sets the largest stable step size, Chapter 5)."""
    H = as_tensor(H)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"lambda_max needs a square matrix; got shape {tuple(H.shape)}")
    return float(torch.linalg.eigvalsh(0.5 * (H + H.T))[-1])


def smallest_eigenpair(H, start=None, *, rtol: float = 1e-7, max_iter: int = 60):
    """``(lambda_min(H), v)`` for a symmetric H, in float64; with ``start`` (a vector near the
    bottom eigenvector, e.g. that of H(k) ten GD steps earlier: Chapter 6) without a full
    eigendecomposition, certified to ``2 rtol`` relative.

    1. rho = v^T H v / v^T v >= lambda_min for v = ``start``; a Cholesky factorization of
       H - sigma I succeeds exactly when every eigenvalue exceeds sigma (Sylvester's law of
       inertia): sigma = rho - delta, delta = 1e-3 rho, 4x larger until it succeeds.
    2. Lanczos (full reorthogonalization) on (H - sigma I)^{-1}, two triangular solves a step,
       whose largest eigenvalue 1/(lambda_min - sigma) stands far from the others, until the
       Ritz vector x has ||H x - lam x|| <= rtol |lam|, lam = x^T H x >= lambda_min.
    3. A Cholesky factorization of H - (lam - 2 rtol |lam|) I certifies lambda_min > that.
    Where a step fails (a start far from the bottom of the spectrum), or without ``start``,
    a full ``torch.linalg.eigh`` answers. Cost: two or three n^3/3 factorizations instead of
    a full eigenvalue decomposition (benchmarks/RESULTS.md)."""
    A = as_tensor(H)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"smallest_eigenpair needs a square matrix; got shape {tuple(A.shape)}")
    A = A.to(torch.float64)
    if not bool(torch.isfinite(A).all()):
        raise ValueError("the matrix has NaN or inf entries")
    A = 0.5 * (A + A.T)
    n = A.shape[0]
    if start is not None:
        v = as_tensor(start).to(device=A.device, dtype=torch.float64).reshape(-1)
        if v.shape[0] != n:
            raise ValueError(f"start must have {n} entries; got {v.shape[0]}")
        found = _smallest_from(A, v, rtol, max_iter) if float(v.norm()) > 0 else None
        if found is not None:
            return found
    evals, evecs = torch.linalg.eigh(A)
    return float(evals[0]), evecs[:, 0]


def _smallest_from(A, v, rtol, max_iter):
    """Steps 1-3 of ``smallest_eigenpair``; None where a step fails."""
    n = A.shape[0]
    eye = torch.eye(n, dtype=A.dtype, device=A.device)
    v = v / v.norm()
    rho = float(v @ (A @ v))
    delta = 1e-3 * abs(rho) + 1e-12
    for _ in range(6):                                    # 1. a certified lower bound sigma
        sigma = rho - delta
        L, info = torch.linalg.cholesky_ex(A - sigma * eye)
        if int(info) == 0:
            break
        delta *= 4
    else:
        return None
    Q = torch.zeros(max_iter + 1, n, dtype=A.dtype, device=A.device)
    alpha = torch.zeros(max_iter, dtype=A.dtype)
    beta = torch.zeros(max_iter, dtype=A.dtype)
    Q[0] = v
    for j in range(max_iter):                             # 2. Lanczos on (A - sigma I)^{-1}
        w = torch.cholesky_solve(Q[j][:, None], L)[:, 0]
        alpha[j] = w @ Q[j]
        for _ in range(2):
            w -= Q[:j + 1].T @ (Q[:j + 1] @ w)
        beta[j] = w.norm()
        if j % 3 == 2 or j == max_iter - 1 or float(beta[j]) == 0:
            T = torch.diag(alpha[:j + 1]) + torch.diag(beta[:j], 1) + torch.diag(beta[:j], -1)
            _, U = torch.linalg.eigh(T)
            x = Q[:j + 1].T @ U[:, -1].to(A.device)
            x = x / x.norm()
            Ax = A @ x
            lam = float(x @ Ax)
            if float((Ax - lam * x).norm()) <= rtol * abs(lam):
                low = lam - 2 * rtol * abs(lam)               # 3. the certificate
                if low <= sigma or int(torch.linalg.cholesky_ex(A - low * eye)[1]) == 0:
                    return lam, x
                return None
        if float(beta[j]) == 0:
            return None
        Q[j + 1] = w / beta[j]
    return None


def _layer_kernels(model, X, Y):
    """Per-layer terms of the empirical NTK of a ReLU chain: for a linear layer h = g W^T,
    <df(x)/dW, df(x')/dW> = (delta(x) . delta(x')) (g(x) . g(x')), with delta = df/dh from one
    backward pass (examples are independent, so d(sum f)/dh_i is example i's delta)."""
    def parts(Z):
        with torch.enable_grad():
            f, inputs, outputs = model.forward_layers(Z)
            trained = [k for k, name in enumerate(model.layer_names) if model.trainable[name]]
            hs = [outputs[k] for k in trained]
            deltas = torch.autograd.grad(f.sum(), hs, allow_unused=True)
        out = []
        for k, delta in zip(trained, deltas):
            if delta is None:
                delta = torch.zeros_like(outputs[k])
            out.append((inputs[k].detach(), delta.detach()))
        return out

    px = parts(X)
    py = px if Y is None else parts(Y)
    return [(gx @ gy.T) * (dx @ dy.T) for (gx, dx), (gy, dy) in zip(px, py)]


def empirical_ntk(model, X, Y=None, *, per_layer: bool = False):
    """The empirical (finite-width) NTK J J^T over the model's trainable parameters, where
    J_i = d f(x_i) / d theta (Jacot et al. 2018; Chapter 8). Exact, from one forward and one
    backward pass over the batch for the course's ReLU chains; other ``nn.Module``s with a
    scalar output go through ``torch.func`` (vectorized Jacobians, in chunks).
    ``per_layer=True`` returns the list of each trained layer's contribution instead."""
    from .data import check_model_input

    X = as_tensor(X)
    check_model_input(model, X)
    if Y is not None:
        check_model_input(model, as_tensor(Y), name="Y")
    chain = hasattr(model, "forward_layers")
    Xm = model._prepare(X) if chain else X
    Ym = None if Y is None else (model._prepare(Y) if chain else as_tensor(Y))
    if chain:
        terms = _layer_kernels(model, Xm, Ym)
    elif per_layer:
        raise ValueError("per_layer=True needs a model from overparam.models")
    else:
        terms = [_generic_ntk(model, Xm, Ym)]
    if per_layer:
        return [t.to(device=X.device, dtype=X.dtype) for t in terms]
    return sum(terms).to(device=X.device, dtype=X.dtype)


def _generic_ntk(model, X, Y=None, chunk: int = 64):
    """J_X J_Y^T by torch.func (vmap over per-example Jacobians), for any scalar-output model."""
    from torch.func import functional_call, jacrev, vmap

    params = {k: v.detach() for k, v in model.named_parameters() if v.requires_grad}
    buffers = dict(model.named_buffers())

    def f_single(p, x):
        out = functional_call(model, (p, buffers), (x[None, :],))
        return out.reshape(-1)[0]

    def jac(Z):
        rows = []
        for s in range(0, Z.shape[0], chunk):
            J = vmap(jacrev(f_single), in_dims=(None, 0))(params, Z[s:s + chunk])
            rows.append(torch.cat([J[k].reshape(J[k].shape[0], -1) for k in params], dim=1))
        return torch.cat(rows)

    JX = jac(X)
    JY = JX if Y is None else jac(Y)
    return JX @ JY.T


def gram_matrix(model, X, *, parts: bool = False):
    """The Gram matrix that drives the predictions, du/dt = -K(t) (u - y) (Chapters 2-7).

    For ``TwoLayerReLU`` this is Du et al. (2019), eq. (6):
    H_ij(t) = (1/m) x_i^T x_j sum_r a_r^2 1{w_r^T x_i >= 0, w_r^T x_j >= 0},
    plus G_ij(t) = (1/m) sum_r relu(w_r^T x_i) relu(w_r^T x_j) when the output layer trains
    (Thm 3.3); ``parts=True`` returns ``(H, G)`` (G is None when a is fixed). For any other model
    it is the empirical NTK J J^T.
    """
    from .data import check_model_input
    from .models import TwoLayerReLU

    check_model_input(model, as_tensor(X))
    if not isinstance(model, TwoLayerReLU):
        if parts:
            raise ValueError("parts=True is defined for TwoLayerReLU only")
        return empirical_ntk(model, X)
    X = as_tensor(X)
    with torch.no_grad():
        Xm = model._prepare(X)
        pre = Xm @ model.W.T
        S = (pre >= 0).to(Xm.dtype) * model.a.abs()        # a_r^2 folded in as |a_r| twice
        H = (Xm @ Xm.T) * (S @ S.T) / model.m
        G = None
        if model.train_output:
            act = torch.relu(pre)
            G = act @ act.T / model.m
    H = H.to(device=X.device, dtype=X.dtype)
    G = None if G is None else G.to(device=X.device, dtype=X.dtype)
    if parts:
        return H, G
    return H if G is None else H + G
