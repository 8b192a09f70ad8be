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
from .kernels import h_infinity


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
    radius_prime(m)            Lemma 3.3 as derived: R' = 2 sqrt(n) ||y - u(0)|| / (sqrt(m) lambda0)
                               (the paper prints it without the 2; its Omega(.) absorbs it)
    radius_prime_gd(m)         Corollary 4.1: R'_GD = 4 sqrt(n) ||y - u(0)|| / (sqrt(m) lambda0)
                               = 2 R' (gradient descent; the paper reuses the name R')
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
        """Lemma 3.3 as derived: R' = 2 sqrt(n) ||y - u(0)|| / (sqrt(m) lambda0), the distance
        each w_r can travel under gradient flow while lambda_min(H) >= lambda0/2: integrate
        ||dw_r/dt|| <= sqrt(n/m) e^{-lambda0 t/2} ||y - u(0)|| over t (Chapter 4 derives it;
        the paper prints the bound without the factor 2, which its Omega(.) absorbs).
        ``residual0`` defaults to the expected ||y - u(0)||."""
        res = self.residual0 if residual0 is None else float(residual0)
        return 2.0 * math.sqrt(self.n) * res / (math.sqrt(m) * self.lambda0)

    def radius_prime_gd(self, m: float, residual0: float | None = None) -> float:
        """Corollary 4.1 (as printed), the radius for gradient descent (Chapter 5):
        R'_GD = 4 sqrt(n) ||y - u(0)|| / (sqrt(m) lambda0) = 2 R'. The paper calls this R' as
        well; the course writes R'_GD to keep it apart from the gradient-flow radius."""
        return 2.0 * self.radius_prime(m, residual0)

    def iterations(self, eps: float) -> float:
        """Steps of Thm 4.1 to shrink ||y - u||^2 by a factor eps: log(1/eps) / -log(rate)."""
        return math.log(1.0 / eps) / -math.log(self.rate)


def lambda0(X) -> float:
    """Du et al. (2019), Assumption 3.1: lambda_0 = lambda_min(H^infty) of the inputs X (rows of
    unit norm), computed in float64, refusing data for which it is numerically zero.

    H^infty's entries are accurate to a few ulps (``kernels.angles``), but a lambda_0 at or
    below sqrt(eps) lambda_max(H^infty) (eps of float64, about 1.5e-8 lambda_max) is treated as
    0: the data are then too close to a linear dependence for the theorems' bounds, which grow
    like 1/lambda_0^4, to say anything. That raises a ``ValueError`` naming the likely cause
    (duplicate rows are refused by ``data.check_inputs`` first; opposite pairs x_j = -x_i whose
    x_i are linearly dependent; else inputs too close to a linear dependence). Data with an
    opposite pair but a clearly positive lambda_0 pass, with ``data.OppositeInputsWarning``
    (Theorem 3.1's hypothesis fails, Assumption 3.1 holds). Chapter 3.
    """
    return _lambda0(check_inputs(X))


def _lambda0(X) -> float:
    """``lambda0`` for inputs already passed through ``check_inputs``."""
    from .data import opposite_pairs

    X = X.to(torch.float64)
    H = h_infinity(X)
    spectrum = torch.linalg.eigvalsh(0.5 * (H + H.T))        # as lambda_min and lambda_max do
    lam0, lam_max = float(spectrum[0]), float(spectrum[-1])
    tol = math.sqrt(torch.finfo(torch.float64).eps) * lam_max
    if lam0 > tol:
        return lam0
    pairs = opposite_pairs(X)
    if pairs:
        rows = sorted({i for i, _ in pairs})
        rank = int(torch.linalg.matrix_rank(X[rows]))
        cause = (f"X has {len(pairs)} opposite pair(s) of rows (x_j = -x_i), e.g. rows "
                 f"{pairs[0][0]} and {pairs[0][1]}. For such a pair phi_x(w) - phi_(-x)(w) = x "
                 "for almost every w (phi_x(w) = x 1{w^T x >= 0}, the features whose Gram "
                 "matrix is H^infty), a constant feature; "
                 + (f"the pairs' inputs span only {rank} dimension(s) for {len(rows)} pair(s), "
                    "so these features are linearly dependent"
                    if rank < len(rows) else
                    "with the other inputs' features these constants are linearly dependent")
                 + ". Du et al.'s Theorem 3.1 needs x_i != +-x_j: drop one input of each "
                 "opposite pair")
    else:
        cause = ("no two rows are parallel or opposite, yet H^infty is singular to working "
                 "precision: some inputs are too close to a linear dependence of their "
                 "features. Drop near-duplicate inputs")
    raise ValueError(
        f"lambda_0 = lambda_min(H^infty) = {lam0:.3g} is numerically zero (below "
        f"{tol:.2g} = sqrt(eps) lambda_max(H^infty)), so Assumption 3.1 fails and no theorem "
        f"of Du et al. applies: {cause}.")


def du_two_layer(X, y, *, delta: float = 0.1) -> DuBounds:
    """Du et al. (2019), Lemma 3.1, Lemma 3.2, Thm 3.2 and Thm 4.1 for the data (X, y), with
    every hidden constant set to 1. Needs unit-norm inputs with lambda_0 > 0 (``lambda0``
    refuses data whose lambda_0 is numerically zero)."""
    if not 0 < delta < 1:
        raise ValueError(f"delta is a failure probability in (0, 1), not {delta!r}")
    X = check_inputs(X, y)
    y = as_tensor(y).to(device=X.device, dtype=X.dtype)
    n = X.shape[0]
    lam0 = _lambda0(X)
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

    n, depth, delta            number of points, L, and the separation the theorem uses,
                               delta = min(separation, 1/L): the hypothesis delta <= O(1/L) with
                               constant 1 (data that are delta-separated are delta'-separated for
                               every delta' < delta, so this costs nothing but width)
    separation                 min_{i != j} ||x_i - x_j|| of the data
    width                      the smallest m with m >= n^24 L^12 log^5(m) / delta^8
    lr                         eta = delta / (n^4 L^2 m) at m = ``width`` (use ``lr_at`` for others)
    eps                        the target loss of ``iterations``
    iterations                 T = n^6 L^2 / delta^2 * log(1/eps)
    path_bound(m)              the distance GD travels, n^3 log m / (delta sqrt m) (step 2 of
                               the proof; a bound on the path, not the ball of the lemmas)
    validity_radius(m)         the ball of the lemmas, delta^{3/2} / (n^{9/2} L^6 log^3 m) (step 1)
    crossing_width()           where the two meet (step 3): m = n^15 L^12 log^8 m / delta^5
    sgd_lr_at(m, b), sgd_iterations(b)   Thm 2 (SGD, batch b), exponents as we recall them
    The formulas of path_bound, validity_radius and the SGD theorem are read in later papers
    (Basri et al. 2020) or recalled, not in Allen-Zhu et al.'s own text.
    """

    n: int
    depth: int
    delta: float
    width: float
    lr: float
    eps: float
    iterations: float
    separation: float

    def lr_at(self, m: float) -> float:
        """eta = delta / (n^4 L^2 m) for a width m of your choice."""
        return self.delta / (self.n**4 * self.depth**2 * m)

    def path_bound(self, m: float) -> float:
        """The proof's bound on the distance GD travels, ||W(t) - W(0)||_F <= n^3 log(m) /
        (delta sqrt(m)) (as restated by Basri et al. 2020, Lemma 4; recalled): it shrinks like
        1/sqrt(m). Not the ball of the lemmas (that is ``validity_radius``). Chapter 12."""
        _check_width(m)
        return self.n**3 * math.log(m) / (self.delta * math.sqrt(m))

    def validity_radius(self, m: float) -> float:
        """omega_max = delta^{3/2} / (n^{9/2} L^6 log^3 m): the radius of the ball
        ||W_l - W_l(0)||_2 <= omega in which the gradient bounds hold (as restated by Basri et
        al. 2020, Lemma 9; recalled). It depends on m only through log m. Chapter 12."""
        _check_width(m)
        return self.delta**1.5 / (self.n**4.5 * self.depth**6 * math.log(m) ** 3)

    def crossing_width(self) -> float:
        """The m at which ``path_bound(m) == validity_radius(m)``, i.e. m = n^15 L^12 log^8(m) /
        delta^5 (the larger root; beyond it the path bound lies inside the ball). Only one of
        the theorem's conditions on m: the n^24 of ``width`` comes from the others. Ch. 12."""
        log_c = 15 * math.log(self.n) + 12 * math.log(self.depth) - 5 * math.log(self.delta)
        return _fixed_point_width(log_c, 8)

    def sgd_lr_at(self, m: float, batch: int) -> float:
        """Thm 2 (SGD, minibatch b; exponents recalled, not verified): eta = b delta /
        (n^5 L^2 m log^2 m), the unbiased minibatch gradient (n/b) sum_{i in S} grad F_i.
        The shape: eta grows like b. Chapter 12."""
        _check_width(m)
        _check_batch(batch, self.n)
        return batch * self.delta / (self.n**5 * self.depth**2 * m * math.log(m) ** 2)

    def sgd_iterations(self, batch: int) -> float:
        """Thm 2 (SGD; recalled): T = n^7 L^2 / (b delta^2) log(1/eps) (log factors of m
        dropped): T shrinks like 1/b, so T * b, the number of examples used, does not depend
        on b. Chapter 12."""
        _check_batch(batch, self.n)
        return self.n**7 * self.depth**2 / (batch * self.delta**2) * math.log(1 / self.eps)


def _check_width(m) -> None:
    if not (isinstance(m, (int, float)) and math.isfinite(m) and m > 1):
        raise ValueError(f"the width m must be a finite number > 1 (log m > 0), not {m!r}")


def _check_batch(batch, n) -> None:
    if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= n:
        raise ValueError(f"the batch size must be an integer in 1..n = {n}, not {batch!r}")


def _fixed_point_width(log_c: float, power: int) -> float:
    """The solution m >= e of m = C log^power(m) (log C = ``log_c``): iterate
    log m <- log C + power log log m from log m = max(log C, 1), which increases to the larger
    root; inf if m overflows a float."""
    log_m = max(log_c, 1.0)
    for _ in range(200):
        log_m = log_c + power * math.log(max(log_m, 1.0))
    return math.exp(log_m) if log_m < 700 else math.inf


def allen_zhu_deep(X, y=None, *, depth: int, eps: float = 1e-3) -> AllenZhuBounds:
    """Allen-Zhu, Li & Song (2019), main theorem for GD (scalar output), as restated later:
    m >= n^24 L^12 log^5 m / delta^8, eta = delta / (n^4 L^2 m), T = n^6 L^2 / delta^2 log(1/eps),
    with every constant set to 1 and delta = min(``data.separation(X)``, 1/L): the theorem
    assumes delta <= O(1/L), which any data meet by lowering delta, so depth is paid in width
    (Chapter 12, the separation through the layers)."""
    from .data import separation

    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
        raise ValueError(f"depth must be an integer >= 1, not {depth!r}")
    if not 0 < eps < 1:
        raise ValueError(f"eps is a target loss in (0, 1), not {eps!r}")
    X = check_inputs(X, y)
    n = X.shape[0]
    sep = separation(X)
    delta = min(sep, 1.0 / depth)
    # m = C log^5 m with C = n^24 L^12 / delta^8
    width = _fixed_point_width(24 * math.log(n) + 12 * math.log(depth) - 8 * math.log(delta), 5)
    return AllenZhuBounds(
        n=n, depth=depth, delta=delta, width=width,
        lr=delta / (n**4 * depth**2 * width), eps=eps,
        iterations=n**6 * depth**2 / delta**2 * math.log(1 / eps), separation=sep,
    )
