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
    """(||x||, ||y||, rho) with rho the Gram cosines clipped to [-1, 1] and, for Y=None, the
    diagonal exactly 1. Accurate to a few ulps *as cosines*; the angles near 0 and pi are not
    (see ``angles``)."""
    X, Y, same = _pair(X, Y)
    nx, ny = X.norm(dim=1), Y.norm(dim=1)
    if bool((nx == 0).any()) or bool((ny == 0).any()):
        raise ValueError("an input is the zero vector: its angle to other inputs is undefined")
    rho = ((X @ Y.T) / (nx[:, None] * ny[None, :])).clamp(-1.0, 1.0)
    if same:
        rho.fill_diagonal_(1.0)
    return nx, ny, rho


# Where |cos| exceeds this, arccos(cos) loses digits (its slope 1/sin theta is above 3.2): the
# angle is taken from Kahan's formula instead. Below it, arccos of the Gram cosine is within a
# few ulps.
_NEAR = 0.95
_KAHAN_CHUNK = 1 << 22        # elements of the (pairs, d) difference blocks, per chunk


def _kahan_angles(Xn, Yn, rows, cols):
    """theta = 2 atan2(||x - y||, ||x + y||) for unit rows x = Xn[rows], y = Yn[cols] (Kahan,
    "How futile are mindless assessments of roundoff", 2006): accurate to a few ulps at every
    angle, 0 and pi included (exact duplicates give 0, exact opposites pi)."""
    out = torch.empty(rows.shape[0], dtype=Xn.dtype, device=Xn.device)
    step = max(1, _KAHAN_CHUNK // max(1, Xn.shape[1]))
    for s in range(0, rows.shape[0], step):
        x, y = Xn[rows[s:s + step]], Yn[cols[s:s + step]]
        out[s:s + step] = 2.0 * torch.atan2((x - y).norm(dim=1), (x + y).norm(dim=1))
    return out


def _cosines_and_angles(X, Y=None, *, all_angles=True):
    """(||x||, ||y||, rho, theta, near): the Gram cosines rho and the angles theta in [0, pi],
    both accurate to a few ulps for every pair. theta = arccos(rho) where |rho| <= 0.95;
    elsewhere (the pairs ``near``, a tuple of index tensors) Kahan's formula gives theta and
    rho = cos(theta). One rounding unit of rho near +-1 would otherwise cost sqrt(2 eps) = 2e-8
    rad (issue of arccos; Chapter 3's opposite pairs). With ``all_angles=False``, theta holds
    only the angles of the pairs ``near``, as a vector."""
    Xp, Yp, same = _pair(X, Y)
    nx, ny, rho = _norms_and_cosines(Xp, None if same else Yp)
    near = torch.nonzero(rho.abs() > _NEAR, as_tuple=True)
    t = rho.new_empty(0)
    if near[0].numel():
        Xn = Xp / nx[:, None]
        Yn = Xn if same else Yp / ny[:, None]
        t = _kahan_angles(Xn, Yn, *near)
    if not all_angles:
        rho[near] = torch.cos(t)
        return nx, ny, rho, t, near
    theta = torch.arccos(rho)
    theta[near] = t
    rho[near] = torch.cos(t)
    return nx, ny, rho, theta, near


def angles(X, Y=None):
    """The angles theta_ij in [0, pi] between the rows of X and of Y (Y=None: X), accurate to a
    few ulps for every pair: arccos of the Gram cosine where |cos| <= 0.95, Kahan's
    2 atan2(||x_i - y_j||, ||x_i + y_j||) (rows normalized) near 0 and pi, where arccos would
    turn one rounding unit of the cosine into 2e-8 rad. Chapter 3."""
    return _cosines_and_angles(X, Y)[3]


def h_infinity(X, Y=None):
    """Du et al. (2019), Assumption 3.1 / eq. (6) at infinite width:
    H^infty_ij = E_{w~N(0,I)}[x_i^T x_j 1{w^T x_i >= 0, w^T x_j >= 0}]
               = x_i^T x_j (pi - theta_ij) / (2 pi) = 1/2 x_i^T x_j kappa_0(rho_ij),
    with the angle theta_ij accurate at every pair (``angles``): exact opposites give exactly 0,
    exact duplicates exactly ||x||^2 / 2."""
    return _h_from_angles(*_cosines_and_angles(X, Y)[:4])


def _h_from_angles(nx, ny, rho, theta):
    """1/2 ||x|| ||y|| cos theta kappa_0 with kappa_0 = (pi - theta) / pi."""
    return 0.5 * (nx[:, None] * ny[None, :] * rho) * ((math.pi - theta) / math.pi)


def _g_from_angles(nx, ny, rho, theta):
    """1/2 ||x|| ||y|| kappa_1 with kappa_1 = (sin theta + (pi - theta) cos theta) / pi."""
    return 0.5 * nx[:, None] * ny[None, :] * (torch.sin(theta) + (math.pi - theta) * rho) / math.pi


def g_infinity(X, Y=None):
    """Du et al. (2019), Thm 3.3: the output layer's kernel at infinite width,
    G^infty_ij = E_w[relu(w^T x_i) relu(w^T x_j)] = 1/2 ||x_i|| ||x_j|| kappa_1(rho_ij),
    kappa_1 = (sin theta + (pi - theta) cos theta) / pi with theta accurate at every pair."""
    nx, ny, rho, theta, _ = _cosines_and_angles(X, Y)
    return _g_from_angles(nx, ny, rho, theta)


def two_layer_ntk(X, Y=None, train_output: bool = True):
    """The NTK of ``TwoLayerReLU`` at infinite width (Chapter 7): H^infty + G^infty when the
    output layer trains too (Du et al. Thm 3.3), H^infty alone when ``train_output=False``."""
    if not train_output:
        return h_infinity(X, Y)
    parts = _cosines_and_angles(X, Y)[:4]
    return _h_from_angles(*parts) + _g_from_angles(*parts)


def _theta_minus_sin(t):
    """t - sin t for t in [0, pi] without cancellation: its Taylor series (Horner form, to
    t^19, truncation below 1e-16 relative) where t < 1, the difference elsewhere."""
    u = t * t
    series = torch.ones_like(t)
    for k in range(9, 0, -1):                  # 1 - u/(4*5) (1 - u/(6*7) (1 - ...))
        series = 1.0 - u / ((2 * k + 2) * (2 * k + 3)) * series
    series = series * u * t / 6.0
    return torch.where(t < 1.0, series, t - torch.sin(t))


def _one_minus_kappa1(t):
    """1 - kappa_1(cos t) = ((pi - t) 2 sin^2(t/2) + (t - sin t)) / pi: both terms >= 0 on
    [0, pi], so no cancellation as t -> 0 (where 1 - kappa_1 ~ t^2/2 would be lost in the
    rounding of kappa_1 ~ 1)."""
    s = torch.sin(0.5 * t)
    return ((math.pi - t) * 2.0 * s * s + _theta_minus_sin(t)) / math.pi


def _deep_recursion(X, Y, depth, with_product=False):
    """Theta^L / (||x|| ||x'||) and rho^L of the recursion in MATH.md §2, and the scale
    ||x|| ||x'||. With ReLU and c_sigma = 2, Sigma^h(x, x) = ||x||^2 at every layer, so
    rho^h = Sigma^h / (||x|| ||x'||) = kappa_1(rho^{h-1}) and the recursion runs on the
    normalized kernels theta^h = Theta^h / (||x|| ||x'||), in place on four n x n matrices:
        kappa_0 = (pi - arccos rho) / pi = arccos(-rho) / pi      (one arccos per layer)
        rho^h   = kappa_1(rho^{h-1}) = sqrt(1 - rho^2) / pi + kappa_0 rho
        theta^h = theta^{h-1} kappa_0 + rho^h
    The pairs whose input cosine is near +-1 (``_cosines_and_angles``) rerun the recursion on
    their angles t^h = arccos rho^h instead: kappa_0 = (pi - t) / pi, and
    t^h = 2 asin(sqrt(d / 2)) with d = 1 - kappa_1(cos t^{h-1}) from ``_one_minus_kappa1``
    (no cancellation), so kappa_0 stays accurate as rho^h -> 1. The other pairs start at an
    angle above arccos 0.95 = 0.32 and keep one above 0.07 to depth 100, where arccos of rho^h
    loses at most 2e-15. On the diagonal (Y=None) t = 0 exactly, so theta^L(x, x) = L + 1
    exactly. ``with_product=True`` also returns prod_h kappa_0^h (Chapter 12's AZLS kernel)."""
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
        raise ValueError(f"depth must be an integer >= 0 (number of hidden layers), not {depth!r}")
    nx, ny, rho, t_near, near = _cosines_and_angles(X, Y, all_angles=False)  # rho^0 = cos
    theta = rho.clone()                       # theta^0 = rho^0 (Theta^0 = Sigma^0 = x^T x')
    k0, nxt = torch.empty_like(rho), torch.empty_like(rho)
    prod = torch.ones_like(rho) if with_product else None
    one = torch.ones((), dtype=rho.dtype, device=rho.device)
    for _ in range(depth):
        torch.neg(rho, out=k0).arccos_().div_(math.pi)    # dot Sigma^h = kappa_0(rho^{h-1})
        torch.addcmul(one, rho, rho, value=-1.0, out=nxt).sqrt_().div_(math.pi)
        nxt.addcmul_(k0, rho).clamp_(-1.0, 1.0)           # rho^h = kappa_1(rho^{h-1})
        theta.mul_(k0).add_(nxt)                          # Theta^h = Theta^{h-1} dSigma^h + Sigma^h
        if with_product:
            prod.mul_(k0)
        rho, nxt = nxt, rho
    if near[0].numel():                                   # the near-(anti)parallel pairs
        t = t_near
        r = rho_near = torch.cos(t)
        th = r.clone()
        p = torch.ones_like(t)
        for _ in range(depth):
            k = (math.pi - t) / math.pi
            d = _one_minus_kappa1(t).clamp_(0.0, 1.0)
            rho_near = 1.0 - d
            th = th * k + rho_near
            p = p * k
            t = 2.0 * torch.asin(torch.sqrt(0.5 * d))
        rho[near], theta[near] = rho_near, th
        if with_product:
            prod[near] = p
    scale = nx[:, None] * ny[None, :]
    return (rho, theta, scale, prod) if with_product else (rho, theta, scale)


def deep_ntk(X, Y=None, *, depth: int):
    """Arora et al. (2019), Thm 3.1 recursion (NTK parameterization, c_sigma = 2, no bias):
    Sigma^0 = x^T x'; Sigma^h = sqrt(Sigma^{h-1}(x,x) Sigma^{h-1}(x',x')) kappa_1(rho^{h-1});
    dot Sigma^h = kappa_0(rho^{h-1}); Theta^h = Theta^{h-1} dot Sigma^h + Sigma^h.
    Returns Theta^L for L = ``depth`` hidden layers: Theta^L(x, x) = (L + 1) ||x||^2 (exactly
    L + 1 for unit x), and Theta^1 = 2 (H^infty + G^infty). The limit of
    ``DeepReLU(parameterization="ntk")``'s empirical NTK (Chapters 8 and 12). Accurate to
    about 1e-14 (L + 1) at every pair, near-parallel and opposite ones included."""
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
