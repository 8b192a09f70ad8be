"""The kernels are accurate for every pair of inputs, near-parallel and near-opposite ones
included: every entry of h_infinity, g_infinity, two_layer_ntk, deep_nngp and deep_ntk (depths 0
to 100) is compared with the same formulas evaluated in 60-digit arithmetic (mpmath) on the same
float64 inputs. ``make test`` runs this file under two of MKL's code paths (the default and
MKL_CBWR=COMPATIBLE), so the result does not hang on the BLAS a machine happens to pick."""

import math

import mpmath
import pytest
import torch

from overparam.kernels import (angles, deep_nngp, deep_ntk, g_infinity, h_infinity, lambda_min,
                               two_layer_ntk)

DEPTHS = (0, 1, 2, 3, 5, 10, 20, 50, 100)
GAPS = (1e-12, 1e-9, 1e-6, 1e-3)
TOL = 1e-13          # relative to the kernel's scale: ||x|| ||y|| (and L + 1 for the deep NTK)


def _inputs():
    """Rows: a base vector u; for each gap a, a row at angle a from u and one at pi - a; an exact
    duplicate and an exact opposite of u; then random rows. Norms between 0.5 and 2."""
    g = torch.Generator().manual_seed(3)
    d = 7
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    u, v = q[:, 0], q[:, 1]
    rows = [u]
    for a in GAPS:
        rows.append(math.cos(a) * u + math.sin(a) * v)
        rows.append(-math.cos(a) * u + math.sin(a) * v)
    rows += [u.clone(), -u]
    rows += list(torch.randn(6, d, generator=g, dtype=torch.float64))
    X = torch.stack(rows)
    scale = 0.5 + 1.5 * torch.rand(X.shape[0], generator=g, dtype=torch.float64)
    scale[-7], scale[-8] = scale[0], scale[0]     # the duplicate and the opposite keep u's norm
    return X * scale[:, None]


def _reference(x, y):
    """{name: value} of every kernel for one pair, in 60-digit arithmetic (the textbook
    formulas: arccos of the cosine, kappa_0, kappa_1 and Arora et al.'s recursion)."""
    with mpmath.workdps(60):
        xs = [mpmath.mpf(float(t)) for t in x]
        ys = [mpmath.mpf(float(t)) for t in y]
        nx = mpmath.sqrt(mpmath.fsum(t * t for t in xs))
        ny = mpmath.sqrt(mpmath.fsum(t * t for t in ys))
        rho = mpmath.fsum(a * b for a, b in zip(xs, ys)) / (nx * ny)
        rho = max(min(rho, mpmath.mpf(1)), mpmath.mpf(-1))
        pi = mpmath.pi
        out = {"angle": mpmath.acos(rho)}
        k0 = (pi - mpmath.acos(rho)) / pi
        k1 = (mpmath.sqrt(1 - rho * rho) + (pi - mpmath.acos(rho)) * rho) / pi
        out["h"] = nx * ny * rho * k0 / 2
        out["g"] = nx * ny * k1 / 2
        r, theta = rho, rho
        for depth in range(max(DEPTHS) + 1):
            if depth in DEPTHS:
                out[("nngp", depth)] = nx * ny * r
                out[("ntk", depth)] = nx * ny * theta
            k0 = (pi - mpmath.acos(r)) / pi
            r = (mpmath.sqrt(1 - r * r) + (pi - mpmath.acos(r)) * r) / pi
            theta = theta * k0 + r
        return {k: float(val) for k, val in out.items()}, float(nx * ny)


@pytest.fixture(scope="module")
def reference():
    X = _inputs()
    n = X.shape[0]
    ref = {}
    for i in range(n):
        for j in range(i, n):
            ref[i, j] = _reference(X[i], X[j])
    return X, ref


def _worst(K, ref, key, extra=1.0):
    """The largest |K_ij - reference| / (||x_i|| ||x_j|| extra) over all pairs i <= j."""
    return max(abs(float(K[i, j]) - vals[key]) / (scale * extra)
               for (i, j), (vals, scale) in ref.items())


def test_angles_are_accurate_at_every_pair_zero_and_pi_included(reference):
    X, ref = reference
    assert _worst(angles(X), ref, "angle") < 4 * math.ulp(math.pi)      # a few ulps of pi
    T = angles(X)
    assert float(T[0, 9]) == 0.0 and float(T[0, 10]) == math.pi     # duplicate, opposite


@pytest.mark.parametrize("name, fn", [("h", h_infinity), ("g", g_infinity)])
def test_two_layer_kernels_match_a_60_digit_reference_at_every_pair(reference, name, fn):
    X, ref = reference
    assert _worst(fn(X), ref, name) < TOL


def test_two_layer_ntk_is_h_plus_g_of_the_reference(reference):
    X, ref = reference
    K = two_layer_ntk(X)
    worst = max(abs(float(K[i, j]) - v["h"] - v["g"]) / s for (i, j), (v, s) in ref.items())
    assert worst < TOL


@pytest.mark.parametrize("depth", DEPTHS)
def test_deep_kernels_match_a_60_digit_reference_at_every_pair(reference, depth):
    X, ref = reference
    assert _worst(deep_nngp(X, depth=depth), ref, ("nngp", depth)) < TOL
    assert _worst(deep_ntk(X, depth=depth), ref, ("ntk", depth), extra=depth + 1) < TOL


@pytest.mark.parametrize("depth", (1, 10, 100))
def test_cross_kernels_with_y_match_the_reference(reference, depth):
    """K(X, Y) for a Y given separately (opposites and a permutation of X) equals the reference."""
    X, ref = reference
    n = X.shape[0]
    perm = torch.arange(n - 1, -1, -1)
    K = deep_ntk(X, X[perm], depth=depth)
    for (i, j), (vals, scale) in ref.items():
        for a, b in ((i, n - 1 - j), (j, n - 1 - i)):
            assert abs(float(K[a, b]) - vals[("ntk", depth)]) < TOL * scale * (depth + 1)


def test_exact_opposites_give_exact_zeros_in_h_infinity():
    """H^infty of x and -x is exactly 0 (kappa_0(-1) = 0), whatever the BLAS rounds the cosine
    to; so three planar opposite pairs (Chapter 3) give a singular H^infty to rounding."""
    a = torch.tensor([0.3, 1.1, 2.0], dtype=torch.float64)
    P = torch.stack([torch.cos(a), torch.sin(a)], dim=1)
    X = torch.cat([P, -P])
    H = h_infinity(X)
    assert all(float(H[i, i + 3]) == 0.0 for i in range(3))
    assert abs(lambda_min(H)) <= 1e-15
