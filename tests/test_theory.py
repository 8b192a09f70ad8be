import math

import numpy as np
import pytest
import torch

from overparam.data import sphere_data
from overparam.models import TwoLayerReLU
from overparam.data import OppositeInputsWarning, close_pair_data
from overparam.theory import du_two_layer, lambda0, observed_rate


def test_du_bounds_follow_the_formulas():
    X, y = sphere_data(10, 5, seed=0)
    b = du_two_layer(X, y, delta=0.1)
    G = np.clip(X.numpy() @ X.numpy().T, -1, 1)
    lam0 = np.linalg.eigvalsh(G * (np.pi - np.arccos(G)) / (2 * np.pi))[0]
    n = 10
    assert math.isclose(b.lambda0, lam0, rel_tol=1e-6)
    assert math.isclose(b.width_flow, n**6 / (lam0**4 * 0.1**3), rel_tol=1e-5)
    assert math.isclose(b.width_init, n**2 * math.log(n / 0.1) / lam0**2, rel_tol=1e-5)
    assert math.isclose(b.lr, lam0 / n**2, rel_tol=1e-6)
    assert math.isclose(b.rate, 1 - b.lr * lam0 / 2, rel_tol=1e-12)
    assert math.isclose(b.radius, 0.1 * lam0 / n**2, rel_tol=1e-6)
    # R' = 2 sqrt(n) ||y - u(0)|| / (sqrt(m) lambda0) and Cor. 4.1's 4 sqrt(n) ||y - u(0)|| / (sqrt(m) lambda0)
    assert math.isclose(b.radius_prime(400, residual0=2.0), 2 * math.sqrt(n) * 2 / (20 * lam0), rel_tol=1e-6)
    assert math.isclose(b.radius_prime_gd(400, residual0=2.0), 4 * math.sqrt(n) * 2 / (20 * lam0), rel_tol=1e-6)
    # the flow radius R'(m) falls below R exactly around width_flow's order (Lemma 3.4)
    assert b.radius_prime(b.width_flow * 1e6) < b.radius


def test_expected_initial_residual_matches_monte_carlo_over_initializations():
    X, y = sphere_data(8, 4, seed=1)
    b = du_two_layer(X, y)
    with torch.no_grad():
        res2 = [float(((TwoLayerReLU(4, 512, seed=s, device="cpu")(X) - y) ** 2).sum()) for s in range(300)]
    assert abs(np.mean(res2) - b.residual0**2) < 0.1 * b.residual0**2


def test_observed_rate_recovers_a_geometric_rate():
    loss = 3.0 * 0.97 ** np.arange(100)
    assert math.isclose(observed_rate(loss), 0.97, rel_tol=1e-12)
    with pytest.raises(ValueError):
        observed_rate([1.0])


def test_bad_delta_and_parallel_data():
    X, y = sphere_data(5, 3)
    with pytest.raises(ValueError, match="failure probability"):
        du_two_layer(X, y, delta=2.0)
    with pytest.raises(ValueError, match="parallel"):
        du_two_layer(torch.cat([X, X[:1]]), torch.zeros(6))


def _h_inf_numpy(X):
    G = np.clip(X @ X.T, -1, 1)
    return G * (np.pi - np.arccos(G)) / (2 * np.pi)


def test_three_opposite_pairs_in_a_plane_make_h_infinity_singular_and_are_refused():
    # x_1, x_2, x_3 in a plane of R^3 with x_3 = c_1 x_1 + c_2 x_2; for an opposite pair
    # phi_x(w) - phi_{-x}(w) = x for almost every w, so alpha = (c_1, c_2, -1, -c_1, -c_2, 1)
    # combines the six features into c_1 x_1 + c_2 x_2 - x_3 = 0: alpha^T H^inf alpha = 0
    th = np.array([0.3, 1.4, 2.5])
    P = np.stack([np.cos(th), np.sin(th), np.zeros(3)], axis=1)
    c = np.linalg.lstsq(P[:2].T, P[2], rcond=None)[0]
    alpha = np.concatenate([c, [-1.0], -c, [1.0]])
    X = np.concatenate([P, -P])
    H = _h_inf_numpy(X)
    assert abs(alpha @ H @ alpha) < 1e-12 * (alpha @ alpha)
    assert np.linalg.eigvalsh(H)[0] < 1e-12
    with pytest.raises(ValueError, match="opposite pair") as err:
        with pytest.warns(OppositeInputsWarning):
            du_two_layer(torch.tensor(X), torch.zeros(6))
    assert "numerically zero" in str(err.value) and "rows 0 and 3" in str(err.value)
    with pytest.raises(ValueError, match="Theorem 3.1"):
        with pytest.warns(OppositeInputsWarning):
            lambda0(X)


def test_an_opposite_pair_with_positive_lambda0_passes_with_a_warning():
    # one opposite pair among generic inputs: Theorem 3.1's hypothesis fails, but H^inf is
    # positive definite (Assumption 3.1 holds), so the bounds are computed
    X, y = sphere_data(10, 5, seed=0)
    X, y = torch.cat([X, -X[:1]]), torch.cat([y, y[:1]])
    expected = np.linalg.eigvalsh(_h_inf_numpy(X.numpy()))[0]
    assert expected > 1e-3
    with pytest.warns(OppositeInputsWarning, match="Theorem 3.1"):
        b = du_two_layer(X, y)
    assert math.isclose(b.lambda0, expected, rel_tol=1e-9)
    with pytest.warns(OppositeInputsWarning):
        assert math.isclose(lambda0(X), expected, rel_tol=1e-9)


def test_lambda0_keeps_a_close_pair_and_refuses_a_duplicate():
    # a pair at angle theta has lambda_0 <= v^T H^inf v = theta/(2 pi) + O(theta^2) with
    # v = (e_0 - e_1)/sqrt(2) (Chapter 3): small but clearly positive, so it is kept
    theta = 1e-4
    X, _ = close_pair_data(8, 4, theta, seed=1)
    lam = lambda0(X)
    assert 0 < lam <= theta / (2 * math.pi) * (1 + 1e-3)
    with pytest.raises(ValueError, match="parallel"):
        lambda0(torch.cat([X, X[2:3]]))
