"""deep.linearized_iterations (chapter 12b) against an explicit GD loop on a linear model."""
import numpy as np

from overparam.deep import linearized_iterations


def explicit_count(K, r, x, target):
    eta = x / np.linalg.eigvalsh(K)[-1]
    F0, k = r @ r, 0
    while r @ r > target * F0:
        r = r - eta * K @ r                   # the linearized model's residual update
        k += 1
    return k


def test_matches_explicit_gd_loop():
    rng = np.random.default_rng(0)
    J = rng.normal(size=(6, 40))
    K, r = J @ J.T, rng.normal(size=6)
    xs = [1 / 6, 0.5, 1.0]
    got = linearized_iterations(K, r, xs, target=1e-2)
    assert list(got) == [explicit_count(K, r.copy(), x, 1e-2) for x in xs]


def test_bernoulli_floor():
    """Steps of size eta/N need at least N times (minus one step) GD's count (chapter 12b)."""
    rng = np.random.default_rng(1)
    J = rng.normal(size=(8, 30))
    K, r = J @ J.T, rng.normal(size=8)
    t_gd, t_4 = linearized_iterations(K, r, [1.0, 0.25])
    assert t_4 >= 4 * (t_gd - 1)


def test_unreached_target_returns_max_steps():
    K = np.diag([1.0, 1e-9])
    assert linearized_iterations(K, np.array([0.0, 1.0]), [1.0], max_steps=50)[0] == 50
