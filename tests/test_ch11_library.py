import copy

import numpy as np

from overparam.deep import azls_data, layer_gradients, snapshot, spectral_distance
from overparam.landscape import (gd_kernel_run, gradient_ratio_range, kink_flip, kink_point,
                                 kink_slope, taylor_remainder)
from overparam.models import DeepReLU


def _net(m=128, seed=0):
    return DeepReLU(d=8, m=m, depth=2, parameterization="allen_zhu", seed=seed, device="cpu")


def test_kink_slope_is_the_measured_first_order_slope():
    X, y = azls_data(n=6, d=8, seed=0, labels="gaussian")
    Wk, S, i = kink_point(_net(), X, y, 0.1)
    slope = kink_slope(Wk, X, y, S, example=i)
    r = 1e-6
    R = taylor_remainder(Wk, X, y, [kink_flip(Wk, X, y, r, S, example=i)])[0]
    assert slope > 0
    assert abs(R / r - slope) < 1e-3 * slope


def test_gd_kernel_run_records_from_init():
    X, y = azls_data(n=6, d=8, seed=1, labels="gaussian")
    net = _net(seed=1)
    net0 = copy.deepcopy(net)
    out = gd_kernel_run(net, X, y, steps=20, record_every=10, control_seed=3)
    F0, g0 = layer_gradients(net0, X, y)
    assert out["rec"].shape == (3, 4)
    assert np.isclose(out["rec"][0, 1], F0) and np.isclose(out["rec"][0, 2], (g0 ** 2).max() / F0)
    assert np.isclose(out["rec"][0, 3], gradient_ratio_range(net0, X)["total_min"])
    assert out["rec"][-1, 1] < F0
    assert np.allclose(out["omega"], spectral_distance(net, snapshot(net0)))
    assert len(out["flips"]) == len(out["flips_rand"]) == 2 and out["low_rand"] > 0
