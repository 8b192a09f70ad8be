"""Chapter 10's next-order variance of log Y_l, Y_l = (2/m) sum_r ReLU(g_r)^2 with g_r ~ N(0, 1):
Var log Y_l ~ (5 + 18.5/m)/m (third and fourth moments of 2 ReLU(g)^2: Var = 5, mu_3 = 44),
compared with a Monte Carlo estimate of the exact variance."""
import numpy as np


def test_next_order_matches_monte_carlo():
    rng = np.random.default_rng(0)
    for m in (32, 64):
        g = rng.standard_normal((100_000, m))
        var = np.var(np.log((2 * np.maximum(g, 0) ** 2).mean(axis=1)), ddof=1) * m
        assert abs(var - (5 + 18.5 / m)) < 0.03 * 5       # within 3% (next terms: O(1/m^2))
        assert var - 5 > 0.5 * 18.5 / m                  # the correction is real, not noise


def test_moments_of_two_relu_squared():
    rng = np.random.default_rng(1)
    x = 2 * np.maximum(rng.standard_normal(2_000_000), 0) ** 2
    assert abs(x.mean() - 1) < 0.01 and abs(x.var() - 5) < 0.1
    assert abs(((x - 1) ** 3).mean() - 44) < 3
