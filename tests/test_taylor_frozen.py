"""Chapter 8: the Taylor gap with some weights held at theta_0 (taylor_gaps(..., frozen=...))."""
import math

import pytest
import torch

from overparam.linearize import circle_points, random_direction, taylor_gaps
from overparam.models import DeepReLU


def _setup(m, seed, dseed):
    X, _ = circle_points(9, offset=0.1)
    net = DeepReLU(2, m, 1, parameterization="ntk", seed=seed, device="cpu")
    D = random_direction(net, seed=dseed)
    W0, a = net.W1.detach(), net.W2.detach()[0]
    return net, torch.as_tensor(X, dtype=W0.dtype), D, W0, a


def test_hidden_only_gap_matches_the_gate_formula():
    # moving only W1: f - f_lin = sqrt(2/m) sum_r a_r [relu(w_r'x) - 1{w_r(0)'x >= 0} w_r'x]
    m = 256
    net, X, D, W0, a = _setup(m, 3, 7)
    eps = [1e-2, 1e-1]
    got = taylor_gaps(net, X, eps, frozen=("W2",), seed=7)
    for e, g in zip(eps, got):
        pre0, pre = X @ W0.T, X @ (W0 + e * D["W1"]).T
        diff = torch.relu(pre) - (pre0 >= 0).to(pre.dtype) * pre
        expected = (math.sqrt(2 / m) * diff @ a).abs().max()
        assert g == pytest.approx(float(expected), rel=1e-9, abs=1e-14)


def test_nothing_frozen_matches_the_explicit_formula():
    # moving W1 and a: f = sqrt(2/m) (a + e Da)' relu(W x),
    # f_lin = sqrt(2/m) [a' relu(W0 x) + e Da' relu(W0 x) + a' (1{W0 x >= 0} * (e DW x))]
    m = 64
    net, X, D, W0, a = _setup(m, 0, 4)
    Da = D["W2"][0]
    eps = [1e-2, 1e-1]
    got = taylor_gaps(net, X, eps, frozen=(), seed=4)
    default = taylor_gaps(net, X, eps, seed=4)
    for e, g, g0 in zip(eps, got, default):
        pre0, pre = X @ W0.T, X @ (W0 + e * D["W1"]).T
        f = (torch.relu(pre) @ (a + e * Da))
        gate = (pre0 >= 0).to(pre.dtype)
        f_lin = torch.relu(pre0) @ (a + e * Da) + (gate * (e * X @ D["W1"].T)) @ a
        expected = (math.sqrt(2 / m) * (f - f_lin)).abs().max()
        assert g == pytest.approx(float(expected), rel=1e-9, abs=1e-14)
        assert g0 == g


def test_unknown_name_is_refused_with_the_valid_names():
    X, _ = circle_points(3)
    net = DeepReLU(2, 8, 1, parameterization="ntk", seed=0, device="cpu")
    with pytest.raises(ValueError, match=r"W9.*valid names are \['W1', 'W2'\]"):
        taylor_gaps(net, X, [0.1], frozen=("W9",))
