"""How far the weights move and what that does to the Gram matrix, measured (Chapters 4-5).

Du et al. (2019a) control H(W) only through the activation patterns 1{w_r^T x_i >= 0} that can
flip. For an input x_i, S_i^perp(R) = {r : |w_r(0)^T x_i| <= R} are the neurons whose pattern on
x_i *may* flip for some w with ||w - w_r(0)|| <= R (Lemma 3.2's event A_ir, Section 4.1). The
functions here move every neuron by a fixed distance (Lemma 3.2, Chapter 4), follow the distance
a gradient-descent run travels against Corollary 4.1's radius (Chapter 5) and record the kernel
before and after runs above the stable step size (Chapter 5).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .data import check_inputs
from .device import as_tensor
from .kernels import gram_matrix, lambda_max
from .models import TwoLayerReLU
from .train import train


def closest_hyperplane_push(W0, X):
    """Chapter 4, Lemma 3.2: for each neuron r the unit direction that moves w_r(0) straight
    across the hyperplane {w : w^T x_i = 0} closest to it, u_r = -sign(w_r(0)^T x_j) x_j with
    j = argmin_i |w_r(0)^T x_i| (unit inputs). Moving w_r by rho u_r flips the pattern of x_j as
    soon as rho > |w_r(0)^T x_j|, the shortest move that flips any pattern of neuron r.
    W0: (m, d), X: (n, d); returns (m, d)."""
    Z0 = X @ W0.T                                        # w_r(0)^T x_i, shape (n, m)
    near = Z0.abs().argmin(dim=0)                        # the closest hyperplane of each w_r
    return -torch.sign(Z0[near, torch.arange(W0.shape[0])])[:, None] * X[near]


def gram_change_after_move(net, X, W0, H0, move):
    """Chapter 4: set the hidden weights of ``net`` to W0 + ``move`` and return
    D = H(W0 + move) - H0, the change of the Gram matrix the move causes (Lemma 3.2's drift)."""
    with torch.no_grad():
        net.W.copy_(W0 + move)
    return gram_matrix(net, X) - H0


def moves_within_radius(X, rhos, *, m: int, seeds, lambda0: float, device="cpu") -> dict:
    """Chapter 4, Lemma 3.2 (Du et al. 2019a): move every neuron of ``TwoLayerReLU(d, m, seed=s)``
    by exactly rho, once in a random unit direction per neuron and once along
    ``closest_hyperplane_push``, and measure for every rho in ``rhos`` and seed s in ``seeds``:

    ``may_flip``   sum_i |S_i^perp(rho)| / (m n), the fraction of pairs with |w_r(0)^T x_i| <= rho
                   (its expectation is Pr[|g| <= rho] = erf(rho / sqrt 2), g ~ N(0, 1));
    ``flipped_random``, ``flipped_worst``  the fraction of patterns the move flips;
    ``drift_random``, ``drift_worst``      ||H(W) - H(0)||_2 / (lambda0 / 4).

    Each value is a numpy array of shape (len(rhos), len(seeds))."""
    X = check_inputs(X).to(device)
    n, d = X.shape
    seeds = list(seeds)
    keys = ("may_flip", "flipped_random", "flipped_worst", "drift_random", "drift_worst")
    out = {k: np.zeros((len(rhos), len(seeds))) for k in keys}
    for j, s in enumerate(seeds):
        net = TwoLayerReLU(d, m, seed=s, device=device, dtype=X.dtype)
        H0, W0 = gram_matrix(net, X), net.W.detach().clone()
        Z0 = X @ W0.T
        U = torch.randn(W0.shape, generator=torch.Generator().manual_seed(100 + s),
                        dtype=W0.dtype).to(device)
        moves = {"random": U / U.norm(dim=1, keepdim=True),
                 "worst": closest_hyperplane_push(W0, X)}
        for k, rho in enumerate(rhos):
            out["may_flip"][k, j] = float((Z0.abs() <= rho).double().mean())
            for name, U in moves.items():
                D = gram_change_after_move(net, X, W0, H0, rho * U)
                flips = ((X @ net.W.detach().T >= 0) != (Z0 >= 0)).double().mean()
                drift = torch.linalg.matrix_norm(D, 2)
                out[f"flipped_{name}"][k, j] = float(flips)
                out[f"drift_{name}"][k, j] = float(drift) / (lambda0 / 4)
    return out


def gd_radius_check(X, y, *, width: int, lr: float, steps: int, seeds, lambda0: float) -> dict:
    """Chapter 5, Corollary 4.1 and Lemma 4.1 (Du et al. 2019a) along full-batch GD runs of
    ``TwoLayerReLU(d, width, seed=s)`` (only W trains) for ``steps`` steps of size ``lr``.
    Per seed (numpy arrays of length len(seeds)):

    ``condition``   max_{k >= 1} ||y - u(k)||^2 / ((1 - lr lambda0/2)^k ||y - u(0)||^2):
                    Condition 4.1 held at every step exactly when it is <= 1 (at k = 0 the
                    ratio is 1 by definition);
    ``travelled``   rho = max_r ||w_r(steps) - w_r(0)||, the distance the run travelled;
    ``radius_gd``   R'_GD = 4 sqrt(n) ||y - u(0)|| / (sqrt(m) lambda0) (Corollary 4.1), with the
                    run's own ||y - u(0)||;
    ``s_perp``      sum_i |S_i^perp(rho)| / (m n rho), S_i^perp(rho) = {r : |w_r(0)^T x_i| <= rho}
                    at the radius rho of the run (Lemma 4.1's proof: at most 2/sqrt(2 pi) in
                    expectation for a fixed radius);
    ``flipped``     patterns flipped by the run / sum_i |S_i^perp(rho)| (at most 1)."""
    X = check_inputs(X, y)
    y = as_tensor(y).to(device=X.device, dtype=X.dtype)
    n, d = X.shape
    keys = ("condition", "travelled", "radius_gd", "s_perp", "flipped")
    out = {k: [] for k in keys}
    for s in seeds:
        net = TwoLayerReLU(d, width, seed=s, device=X.device, dtype=X.dtype)
        W0 = net.W.detach().clone()
        sq = 2 * train(net, X, y, lr=lr, steps=steps, record_every=1).loss   # ||y - u(k)||^2
        bound = (1 - lr * lambda0 / 2) ** np.arange(len(sq)) * sq[0]
        rho = float((net.W.detach() - W0).norm(dim=1).max())
        Z0 = X @ W0.T
        s_perp = int((Z0.abs() <= rho).sum())
        out["condition"].append(float(np.max(sq[1:] / bound[1:])))
        out["travelled"].append(rho)
        out["radius_gd"].append(4 * math.sqrt(n * sq[0]) / (math.sqrt(width) * lambda0))
        out["s_perp"].append(s_perp / (width * n * rho))
        out["flipped"].append(int(((X @ net.W.detach().T >= 0) != (Z0 >= 0)).sum()) / s_perp)
    return {k: np.array(v) for k, v in out.items()}


def large_step_runs(X, y, *, lr: float, width: int, steps: int, seeds) -> dict:
    """Chapter 5: full-batch GD of ``TwoLayerReLU(d, width, seed=s)`` at step ``lr``, typically
    above 2 / lambda_max(H^infty), where the linearized dynamics diverge. Per seed (numpy
    arrays): ``lam_init`` and ``lam_after``, lambda_max of the Gram matrix H at initialization
    and after the run; ``worst``, the largest loss over the run / the initial loss; ``final``,
    the final loss / the initial loss. A run that ``train`` stops raises its ValueError."""
    X = check_inputs(X, y)
    d = X.shape[1]
    out = {k: [] for k in ("lam_init", "lam_after", "worst", "final")}
    for s in seeds:
        net = TwoLayerReLU(d, width, seed=s, device=X.device, dtype=X.dtype)
        out["lam_init"].append(lambda_max(gram_matrix(net, X)))
        loss = train(net, X, y, lr=lr, steps=steps).loss
        out["lam_after"].append(lambda_max(gram_matrix(net, X)))
        out["worst"].append(float(loss.max() / loss[0]))
        out["final"].append(float(loss[-1] / loss[0]))
    return {k: np.array(v) for k, v in out.items()}


def push_drift_norms(X, rho: float, *, m: int, seeds, device="cpu") -> dict:
    """Chapter 4, where the slack of Lemma 3.2 (Du et al. 2019a) lies. Move every neuron of
    ``TwoLayerReLU(d, m, seed=s)`` by ``rho * closest_hyperplane_push`` and return, per seed s
    (numpy arrays), three sizes of D = H(W) - H(0), unscaled: ``entry_sum`` = sum_ij |D_ij|,
    ``frobenius`` = ||D||_F and ``spectral`` = ||D||_2, so spectral <= frobenius <= entry_sum;
    and ``bound`` = sum_ij (1/m)(|S_i^perp| + |S_j^perp|) = (2n/m) sum_i |S_i^perp(rho)|, the
    proof's entrywise bound summed over the n^2 entries."""
    X = check_inputs(X).to(device)
    n, d = X.shape
    out = {k: [] for k in ("entry_sum", "frobenius", "spectral", "bound")}
    for s in seeds:
        net = TwoLayerReLU(d, m, seed=s, device=device, dtype=X.dtype)
        H0, W0 = gram_matrix(net, X), net.W.detach().clone()
        D = gram_change_after_move(net, X, W0, H0, rho * closest_hyperplane_push(W0, X))
        out["entry_sum"].append(float(D.abs().sum()))
        out["frobenius"].append(float(torch.linalg.matrix_norm(D, "fro")))
        out["spectral"].append(float(torch.linalg.matrix_norm(D, 2)))
        out["bound"].append(2 * n / m * float(((X @ W0.T).abs() <= rho).sum()))
    return {k: np.array(v) for k, v in out.items()}
