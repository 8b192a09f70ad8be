import math

import numpy as np
import pytest
import torch

from overparam.data import sphere_data
from overparam.models import TwoLayerReLU
from overparam.theory import du_two_layer, observed_rate


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
