"""What the theorems say for a concrete data set (Chapters 4-6, 12, 15).

Every Omega(.) and O(.) of the papers hides a constant the papers do not give; here each such
constant is set to 1, so the numbers are the *shape* of the bound (how it scales with n,
lambda_0, delta), not a certified value. The lessons say so wherever they print one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .data import check_inputs
from .device import as_tensor
from .kernels import h_infinity, lambda_min


@dataclass(frozen=True)
class DuBounds:
    """Du et al. (2019) for one data set, constants set to 1 (see the module docstring).

    n, lambda0                 number of points and lambda_min(H^infty) (Assumption 3.1)
    delta                      failure probability of the theorems
    residual0                  E||y - u(0)||, from E||y - u(0)||^2 = ||y||^2 + n/2 (at init,
                               u_i(0) has mean 0 and variance E[relu(g)^2] = 1/2)
    width_init                 Lemma 3.1: m = n^2 log(n/delta) / lambda0^2 makes H(0) ~ H^infty
    width_flow                 Thm 3.2 (gradient flow): m = n^6 / (lambda0^4 delta^3)
    width_gd                   Thm 4.1 (gradient descent): the same width as Thm 3.2
    lr                         Thm 4.1: eta = lambda0 / n^2
    rate                       Thm 4.1: ||y - u(k)||^2 <= rate^k ||y - u(0)||^2,
                               rate = 1 - eta lambda0/2
    radius                     Lemma 3.2: R = delta lambda0 / n^2, the ball in which H stays close
    radius_prime(m)            Lemma 3.3: R' = 2 sqrt(n) ||y - u(0)|| / (sqrt(m) lambda0)
    """

    n: int
    lambda0: float
    delta: float
    residual0: float
    width_init: float
    width_flow: float
    width_gd: float
    lr: float
    rate: float
    radius: float

    def radius_prime(self, m: float, residual0: float | None = None) -> float:
        """Lemma 3.3: R' = 2 sqrt(n) ||y - u(0)|| / (sqrt(m) lambda0), the distance each w_r can
        travel under gradient flow while lambda_min(H) >= lambda0/2: integrate
        ||dw_r/dt|| <= sqrt(n/m) e^{-lambda0 t/2} ||y - u(0)|| over t (Chapter 4 derives it).
        ``residual0`` defaults to the expected ||y - u(0)||."""
        res = self.residual0 if residual0 is None else float(residual0)
        return 2.0 * math.sqrt(self.n) * res / (math.sqrt(m) * self.lambda0)

    def radius_prime_gd(self, m: float, residual0: float | None = None) -> float:
        """Corollary 4.1 (as we recall it), the discrete analogue for GD:
        ||w_r(k) - w_r(0)|| <= 4 sqrt(n) ||y - u(0)|| / (sqrt(m) lambda0) = 2 R'."""
        return 2.0 * self.radius_prime(m, residual0)

    def iterations(self, eps: float) -> float:
        """Steps of Thm 4.1 to shrink ||y - u||^2 by a factor eps: log(1/eps) / -log(rate)."""
        return math.log(1.0 / eps) / -math.log(self.rate)


def du_two_layer(X, y, *, delta: float = 0.1) -> DuBounds:
    """Du et al. (2019), Lemma 3.1, Lemma 3.2, Thm 3.2 and Thm 4.1 for the data (X, y), with
    every hidden constant set to 1. Needs unit-norm, pairwise non-parallel inputs."""
    if not 0 < delta < 1:
        raise ValueError(f"delta is a failure probability in (0, 1), not {delta!r}")
    X = check_inputs(X, y)
    y = as_tensor(y).to(device=X.device, dtype=X.dtype)
    n = X.shape[0]
    lam0 = lambda_min(h_infinity(X))
    if lam0 <= 0:
        raise ValueError(f"lambda_0 = {lam0:.3g} <= 0 in floating point: the inputs are too close "
                         "to parallel for the theorems to say anything")
    lr = lam0 / n**2
    return DuBounds(
        n=n, lambda0=lam0, delta=delta,
        residual0=math.sqrt(float((y ** 2).sum()) + n / 2),
        width_init=n**2 * math.log(n / delta) / lam0**2,
        width_flow=n**6 / (lam0**4 * delta**3),
        width_gd=n**6 / (lam0**4 * delta**3),
        lr=lr, rate=1 - lr * lam0 / 2,
        radius=delta * lam0 / n**2,
    )


def observed_rate(loss) -> float:
    """The per-step contraction of a loss curve, exp(mean log(L_{k+1}/L_k)) over its second
    half, to compare with Thm 4.1's 1 - eta lambda0/2 (Chapter 5)."""
    loss = torch.as_tensor(loss, dtype=torch.float64)
    tail = loss[len(loss) // 2:]
    tail = tail[tail > 0]
    if len(tail) < 2:
        raise ValueError("need at least two positive losses in the second half of the curve")
    return float(torch.exp(torch.log(tail[-1] / tail[0]) / (len(tail) - 1)))


@dataclass(frozen=True)
class AllenZhuBounds:
    """Allen-Zhu, Li & Song (2019), main theorem for GD (scalar output), every hidden constant
    set to 1 (see the module docstring). Chapter 12.

    n, depth, delta            number of points, L, and the separation min_{i != j} ||x_i - x_j||
    width                      the smallest m with m >= n^24 L^12 log^5(m) / delta^8
    lr                         eta = delta / (n^4 L^2 m) at m = ``width`` (use ``lr_at`` for others)
    eps                        the target loss of ``iterations``
    iterations                 T = n^6 L^2 / delta^2 * log(1/eps)
    """

    n: int
    depth: int
    delta: float
    width: float
    lr: float
    eps: float
    iterations: float

    def lr_at(self, m: float) -> float:
        """eta = delta / (n^4 L^2 m) for a width m of your choice."""
        return self.delta / (self.n**4 * self.depth**2 * m)

    def radius(self, m: float) -> float:
        """omega = n^3 log(m) / (delta sqrt(m)): the ball around init the iterates stay in."""
        return self.n**3 * math.log(m) / (self.delta * math.sqrt(m))


def allen_zhu_deep(X, y=None, *, depth: int, eps: float = 1e-3) -> AllenZhuBounds:
    """Allen-Zhu, Li & Song (2019), main theorem for GD (scalar output), as restated later:
    m >= n^24 L^12 log^5 m / delta^8, eta = delta / (n^4 L^2 m), T = n^6 L^2 / delta^2 log(1/eps),
    with delta = ``data.separation(X)`` and every constant set to 1. Chapter 12."""
    from .data import separation

    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
        raise ValueError(f"depth must be an integer >= 1, not {depth!r}")
    if not 0 < eps < 1:
        raise ValueError(f"eps is a target loss in (0, 1), not {eps!r}")
    X = check_inputs(X, y)
    n = X.shape[0]
    delta = separation(X)
    # m = C log^5 m with C = n^24 L^12 / delta^8: iterate log m <- log C + 5 log log m.
    log_c = 24 * math.log(n) + 12 * math.log(depth) - 8 * math.log(delta)
    log_m = max(log_c, 1.0)
    for _ in range(100):
        log_m = log_c + 5 * math.log(max(log_m, 1.0))
    width = math.exp(log_m) if log_m < 700 else math.inf
    return AllenZhuBounds(
        n=n, depth=depth, delta=delta, width=width,
        lr=delta / (n**4 * depth**2 * width), eps=eps,
        iterations=n**6 * depth**2 / delta**2 * math.log(1 / eps),
    )
