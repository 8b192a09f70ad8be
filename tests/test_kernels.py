"""Kernels against independent computations: Monte Carlo from the definitions, closed forms
written separately, and the finite-width networks' limits."""

import math

import numpy as np
import pytest
import torch

from overparam.data import sphere_data
from overparam.kernels import (deep_nngp, deep_ntk, empirical_ntk, g_infinity, gram_matrix,
                               h_infinity, kappa0, kappa1, lambda_max, lambda_min,
                               smallest_eigenpair, two_layer_ntk)
from overparam.models import DeepReLU, TwoLayerReLU


def _gaussian_pairs(rho, k, seed):
    g = np.random.default_rng(seed)
    u = g.standard_normal(k)
    v = rho * u + math.sqrt(1 - rho * rho) * g.standard_normal(k)
    return u, v


@pytest.mark.parametrize("rho", [-0.9, -0.3, 0.0, 0.5, 0.95])
def test_arc_cosine_kernels_match_gaussian_expectations(rho):
    # kappa0 = 2 E[1{u>0} 1{v>0}], kappa1 = 2 E[relu(u) relu(v)] for corr(u, v) = rho.
    u, v = _gaussian_pairs(rho, 2_000_000, seed=1)  # MC standard error < 1e-3
    mc0 = 2 * np.mean((u > 0) & (v > 0))
    mc1 = 2 * np.mean(np.maximum(u, 0) * np.maximum(v, 0))
    r = torch.tensor(rho, dtype=torch.float64)
    assert abs(float(kappa0(r)) - mc0) < 4e-3
    assert abs(float(kappa1(r)) - mc1) < 4e-3


def test_arc_cosine_kernels_end_points():
    t = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    assert float(kappa0(t(1.0))) == 1.0 and float(kappa1(t(1.0))) == 1.0
    assert float(kappa0(t(-1.0))) == 0.0 and abs(float(kappa1(t(-1.0)))) < 1e-12
    assert abs(float(kappa1(t(0.0))) - 1 / math.pi) < 1e-15
    assert abs(float(kappa0(t(0.0))) - 0.5) < 1e-15


def test_h_infinity_matches_du_closed_form_written_in_numpy():
    X, _ = sphere_data(12, 5, seed=3)
    Xn = X.numpy()
    G = np.clip(Xn @ Xn.T, -1, 1)
    expected = G * (np.pi - np.arccos(G)) / (2 * np.pi)
    np.testing.assert_allclose(h_infinity(X).numpy(), expected, atol=1e-7)
    assert np.allclose(np.diag(h_infinity(X).numpy()), 0.5, atol=1e-14, rtol=0)


def test_h_infinity_matches_monte_carlo_over_w():
    X, _ = sphere_data(6, 4, seed=0)
    w = torch.randn(500_000, 4, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    S = (X @ w.T >= 0).double()
    mc = (X @ X.T) * (S @ S.T) / w.shape[0]
    assert float((mc - h_infinity(X)).abs().max()) < 5e-3
    # G^infty likewise: E[relu(w.x) relu(w.x')]
    A = torch.relu(X @ w.T)
    assert float((A @ A.T / w.shape[0] - g_infinity(X)).abs().max()) < 1.2e-2


def test_kernels_accept_numpy_and_cross_inputs():
    X, _ = sphere_data(7, 3, seed=0)
    Y, _ = sphere_data(4, 3, seed=1)
    K = h_infinity(X.numpy(), Y.numpy())
    assert K.shape == (7, 4) and K.dtype == torch.float64
    full = h_infinity(torch.cat([X, Y]))
    assert torch.allclose(K, full[:7, 7:], atol=1e-12)
    K32 = deep_ntk(X.float(), depth=2)
    assert K32.dtype == torch.float32


def test_deep_ntk_diagonal_is_exactly_depth_plus_one_and_depth_one_is_twice_two_layer_ntk():
    # MATH.md §2: Theta^L(x, x) = (L + 1) ||x||^2 and Sigma^L(x, x) = ||x||^2, with no rounding
    # drift through the layers (rho = 1 on the diagonal stays exactly 1). Exactly-unit inputs
    # (entries +-1/2 in d = 4) give exactly L + 1; sphere_data's rows, whose squared norms are
    # 1 up to an ulp, give exactly (L + 1) times that squared norm.
    X, _ = sphere_data(15, 6, seed=2)
    signs = torch.tensor([[1, -1, 1, 1], [1, 1, -1, 1], [-1, 1, 1, 1], [1, 1, 1, -1],
                          [1, -1, -1, 1]], dtype=torch.float64) / 2
    for dtype in (torch.float64, torch.float32):
        Xd, U = X.to(dtype), signs.to(dtype)
        sq = Xd.norm(dim=1) * Xd.norm(dim=1)
        for L in range(0, 11):
            assert torch.equal(deep_ntk(U, depth=L).diagonal(), torch.full((5,), L + 1.0, dtype=dtype))
            assert torch.equal(deep_nngp(U, depth=L).diagonal(), torch.ones(5, dtype=dtype))
            assert torch.equal(deep_ntk(Xd, depth=L).diagonal(), (L + 1) * sq), (dtype, L)
            assert torch.equal(deep_nngp(Xd, depth=L).diagonal(), sq), (dtype, L)
    assert torch.allclose(deep_ntk(X, depth=1), 2 * two_layer_ntk(X), atol=1e-12)
    assert torch.allclose(two_layer_ntk(X, train_output=False), h_infinity(X))


def _deep_ntk_in_extended_precision(X, depth):
    """MATH.md §2's recursion in numpy's long double (80-bit on x86), written from the formulas:
    Sigma^h = ||x|| ||x'|| kappa_1(rho^{h-1}), dSigma^h = kappa_0(rho^{h-1}),
    Theta^h = Theta^{h-1} dSigma^h + Sigma^h, rho^h = Sigma^h / (||x|| ||x'||)."""
    Xl = np.asarray(X, dtype=np.longdouble)
    pi = np.arccos(np.longdouble(-1))
    nx = np.sqrt((Xl * Xl).sum(axis=1))
    scale = nx[:, None] * nx[None, :]
    rho = np.clip(Xl @ Xl.T / scale, -1, 1)
    np.fill_diagonal(rho, 1)
    sigma = theta = scale * rho
    for _ in range(depth):
        k0 = (pi - np.arccos(rho)) / pi
        k1 = (np.sqrt(np.clip(1 - rho * rho, 0, None)) + (pi - np.arccos(rho)) * rho) / pi
        sigma = scale * k1
        theta = theta * k0 + sigma
        rho = np.clip(sigma / scale, -1, 1)
    return theta, sigma


def test_deep_ntk_off_diagonal_matches_an_extended_precision_recursion():
    # 200 points in d = 3 (many nearly parallel pairs, where arccos is ill-conditioned), depth 8:
    # every entry within a few float64 roundings of the long-double recursion.
    X, _ = sphere_data(200, 3, seed=0)
    X = X * torch.linspace(0.5, 2.0, 200, dtype=torch.float64)[:, None]   # any norms
    theta, sigma = _deep_ntk_in_extended_precision(X.numpy(), 8)
    err_t = np.abs(deep_ntk(X, depth=8).numpy() - theta) / np.abs(theta)
    err_s = np.abs(deep_nngp(X, depth=8).numpy() - sigma) / np.abs(sigma)
    assert float(err_t.max()) < 1e-13 and float(err_s.max()) < 1e-13, (err_t.max(), err_s.max())


def test_deep_ntk_two_layers_matches_an_independent_recursion():
    # Theta^2 written out by hand: Theta^1 kappa0(rho^1) + kappa1(rho^1), rho^1 = kappa1(rho^0).
    X, _ = sphere_data(9, 5, seed=4)
    r0 = np.clip(X.numpy() @ X.numpy().T, -1, 1)
    np.fill_diagonal(r0, 1.0)
    k0 = lambda r: (np.pi - np.arccos(np.clip(r, -1, 1))) / np.pi  # noqa: E731
    k1 = lambda r: (np.sqrt(np.clip(1 - r * r, 0, None)) + (np.pi - np.arccos(np.clip(r, -1, 1))) * r) / np.pi  # noqa: E731
    th1 = r0 * k0(r0) + k1(r0)
    r1 = k1(r0)
    th2 = th1 * k0(r1) + k1(r1)
    np.testing.assert_allclose(deep_ntk(X, depth=2).numpy(), th2, atol=1e-6)


def test_gram_matrix_concentrates_to_h_infinity_like_one_over_sqrt_m():
    X, _ = sphere_data(20, 8, seed=0)
    H = h_infinity(X)
    widths = [256, 4096, 65536]
    errs = []
    for m in widths:
        e = [float(torch.linalg.matrix_norm(gram_matrix(TwoLayerReLU(8, m, seed=s, device="cpu"), X) - H, 2))
             for s in range(4)]
        errs.append(np.mean(e))
    slope = np.polyfit(np.log(widths), np.log(errs), 1)[0]
    assert -0.65 < slope < -0.35, (errs, slope)
    assert errs[-1] < 0.02


def test_gram_matrix_of_two_layer_net_equals_its_empirical_ntk():
    X, _ = sphere_data(10, 4, seed=1)
    for train_output in (False, True):
        net = TwoLayerReLU(4, 300, seed=2, train_output=train_output, device="cpu")
        assert torch.allclose(gram_matrix(net, X), empirical_ntk(net, X), atol=1e-12)
    H, G = gram_matrix(net, X, parts=True)
    assert torch.allclose(H + G, gram_matrix(net, X))


def _ntk_by_per_example_backward(model, X):
    rows = []
    for x in X:
        model.zero_grad()
        model(x[None, :]).sum().backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]))
    J = torch.stack(rows)
    return J @ J.T


@pytest.mark.parametrize("param", ["ntk", "allen_zhu", "zou"])
def test_empirical_ntk_equals_jacobian_product_from_per_example_backward(param):
    X, _ = sphere_data(8, 5, seed=0)
    model = DeepReLU(5, 32, 3, parameterization=param, seed=1, device="cpu")
    assert torch.allclose(empirical_ntk(model, X), _ntk_by_per_example_backward(model, X), atol=1e-10)
    # the generic torch.func path (any nn.Module) agrees too
    seq = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).double()
    assert torch.allclose(empirical_ntk(seq, X), _ntk_by_per_example_backward(seq, X), atol=1e-10)


def test_empirical_ntk_converges_to_deep_ntk_with_error_shrinking_like_one_over_sqrt_m():
    X, _ = sphere_data(16, 6, seed=0)
    for L in (1, 3):
        T = deep_ntk(X, depth=L)
        errs = []
        for m in (128, 2048):
            e = [float((empirical_ntk(DeepReLU(6, m, L, seed=s, device="cpu"), X) - T).norm() / T.norm())
                 for s in range(3)]
            errs.append(np.mean(e))
        # 16x the width: the error should shrink about 4x (between 2.5x and 7x).
        assert 2.5 < errs[0] / errs[1] < 7, (L, errs)


def test_empirical_ntk_in_float32_is_close_to_float64():
    X, _ = sphere_data(10, 4, seed=0)
    m64 = DeepReLU(4, 256, 2, seed=0, device="cpu")
    m32 = DeepReLU(4, 256, 2, seed=0, device="cpu", dtype=torch.float32)
    K64, K32 = empirical_ntk(m64, X), empirical_ntk(m32, X.float())
    assert K32.dtype == torch.float32
    assert float((K32.double() - K64).abs().max() / K64.abs().max()) < 1e-5


def test_lambda_min_and_max_against_numpy_and_errors():
    A = torch.tensor([[2.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    assert abs(lambda_min(A) - 1.0) < 1e-12 and abs(lambda_max(A) - 3.0) < 1e-12
    assert abs(lambda_min(A.numpy()) - 1.0) < 1e-12
    with pytest.raises(ValueError, match="square"):
        lambda_min(torch.ones(2, 3))
    with pytest.raises(ValueError, match="NaN"):
        lambda_min(torch.tensor([[float("nan"), 0.0], [0.0, 1.0]]))


def test_h_infinity_is_positive_definite_without_parallel_inputs_and_singular_with_them():
    X, _ = sphere_data(30, 5, seed=0)
    assert lambda_min(h_infinity(X)) > 1e-3
    Xdup = torch.cat([X, X[:1]])
    assert abs(lambda_min(h_infinity(Xdup))) < 1e-10
    # opposite inputs are fine (Du et al. only exclude parallel ones)
    assert lambda_min(h_infinity(torch.cat([X, -X[:1]]))) > 1e-3


def test_deep_ntk_matches_a_numpy_recursion_for_any_norms():
    # the recursion written in numpy, with non-unit inputs and X != Y
    g = np.random.default_rng(7)
    X, Y = g.normal(size=(13, 6)) * 3, g.normal(size=(8, 6)) * 0.5
    nx, ny = np.linalg.norm(X, axis=1), np.linalg.norm(Y, axis=1)
    scale = nx[:, None] * ny[None, :]
    rho = np.clip(X @ Y.T / scale, -1, 1)
    sigma = theta = scale * rho
    for _ in range(6):
        acos = np.arccos(rho)
        k0 = (np.pi - acos) / np.pi
        k1 = (np.sqrt(1 - rho * rho) + (np.pi - acos) * rho) / np.pi
        sigma = scale * k1
        theta = theta * k0 + sigma
        rho = np.clip(sigma / scale, -1, 1)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    np.testing.assert_allclose(deep_ntk(Xt, Yt, depth=6).numpy(), theta, rtol=1e-12)
    np.testing.assert_allclose(deep_nngp(Xt, Yt, depth=6).numpy(), sigma, rtol=1e-12)


def test_smallest_eigenpair_warm_started_along_gd_matches_eigvalsh():
    # H(k) of a narrow net along GD (lambda_min moves by several percent between records,
    # clustered bottom eigenvalues): each warm-started answer within 1e-6 relative of a full
    # eigvalsh (the method certifies 2e-7), its vector an eigenvector.
    from overparam.train import train

    X, y = sphere_data(120, 60, seed=0)
    net = TwoLayerReLU(60, 80, seed=0, device="cpu")
    v, checked = None, 0
    for _ in range(5):
        H = gram_matrix(net, X)
        lam, v = smallest_eigenpair(H, start=v)
        ref = float(torch.linalg.eigvalsh(H)[0])
        assert abs(lam - ref) <= 1e-6 * abs(ref), (lam, ref)
        assert float((H @ v - lam * v).norm()) < 1e-5 * abs(lam)
        checked += 1
        train(net, X, y, lr=0.5, steps=10, progress=False)
    assert checked == 5


def test_smallest_eigenpair_from_a_bad_start_still_finds_the_smallest():
    # a start on the top eigenvector, and a matrix with a near-double bottom eigenvalue: the
    # certificate catches a wrong answer and the full decomposition answers instead
    g = torch.Generator().manual_seed(3)
    Q, _ = torch.linalg.qr(torch.randn(50, 50, generator=g, dtype=torch.float64))
    ev = torch.linspace(1.0, 5.0, 50, dtype=torch.float64)
    ev[0], ev[1] = 0.3, 0.3 + 1e-9
    A = Q @ torch.diag(ev) @ Q.T
    for start in (Q[:, -1], Q[:, 1], torch.ones(50, dtype=torch.float64), None):
        lam, _ = smallest_eigenpair(A, start=start)
        assert abs(lam - 0.3) < 1e-7, (start, lam)
    # an exact eigenvector of the second eigenvalue: the iteration stays on it (a converged
    # Ritz pair, lam = 0.31), and only the Cholesky certificate sees an eigenvalue below
    D = torch.diag(torch.cat([torch.tensor([0.3, 0.31], dtype=torch.float64),
                              torch.linspace(1, 5, 48, dtype=torch.float64)]))
    lam, v = smallest_eigenpair(D, start=torch.eye(50, dtype=torch.float64)[1])
    assert lam == pytest.approx(0.3, abs=1e-12) and abs(float(v[0])) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="square"):
        smallest_eigenpair(torch.ones(2, 3))
    with pytest.raises(ValueError, match="entries"):
        smallest_eigenpair(A, start=torch.ones(3))
