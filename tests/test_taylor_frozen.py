"""Chapter 8: the Taylor gap with the output weights held at theta_0 (taylor_gaps_frozen)."""
import math

import numpy as np
import pytest
import torch

from overparam.linearize import circle_points, random_direction, taylor_gaps, taylor_gaps_frozen
from overparam.models import DeepReLU


def test_hidden_only_gap_matches_the_gate_formula():
    # moving only W1: f - f_lin = sqrt(2/m) sum_r a_r [relu(w_r'x) - 1{w_r(0)'x >= 0} w_r'x]
    X, _ = circle_points(9, offset=0.1)
    m = 256
    net = DeepReLU(2, m, 1, parameterization="ntk", seed=3, device="cpu")
    D = random_direction(net, seed=7)
    W0, a = net.W1.detach(), net.W2.detach()[0]
    X = torch.as_tensor(X, dtype=W0.dtype)
    eps = [1e-2, 1e-1]
    got = taylor_gaps_frozen(net, X, eps, ("W2",), seed=7)
    for e, g in zip(eps, got):
        pre0, pre = X @ W0.T, X @ (W0 + e * D["W1"]).T
        diff = torch.relu(pre) - (pre0 >= 0).to(pre.dtype) * pre
        expected = (math.sqrt(2 / m) * diff @ a).abs().max()
        assert g == pytest.approx(float(expected), rel=1e-9, abs=1e-14)


def test_nothing_frozen_is_taylor_gaps():
    X, _ = circle_points(9, offset=0.1)
    net = DeepReLU(2, 64, 1, parameterization="ntk", seed=0, device="cpu")
    np.testing.assert_allclose(taylor_gaps_frozen(net, X, [1e-2, 1e-1], (), seed=4),
                               taylor_gaps(net, X, [1e-2, 1e-1], seed=4), rtol=1e-12)


def test_unknown_name_is_refused():
    X, _ = circle_points(3)
    net = DeepReLU(2, 8, 1, parameterization="ntk", seed=0, device="cpu")
    with pytest.raises(ValueError):
        taylor_gaps_frozen(net, X, [0.1], ("W9",))
