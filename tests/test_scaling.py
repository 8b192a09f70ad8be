"""Tests of overparam.scaling (Chapter 9): output scaling alpha, lazy training, mean field."""

import math

import pytest
import torch

from overparam.data import sphere_data
from overparam.kernels import h_infinity, lambda_max
from overparam.models import TwoLayerReLU
from overparam.scaling import lazy_run, scaled_two_layer, scaling_alpha, scaling_comparison


def test_symmetric_init_is_centred_and_scales_the_output():
    X, _ = sphere_data(10, 4, seed=0)
    net = scaled_two_layer(4, 50, 7.0, seed=1)
    assert float(net(X).detach().abs().max()) < 1e-12                 # f(x; theta_0) = 0
    plain = scaled_two_layer(4, 50, 1.0, seed=1, symmetric=False)
    scaled = scaled_two_layer(4, 50, 3.0, seed=1, symmetric=False)
    ref = TwoLayerReLU(4, 50, seed=1, device="cpu")
    assert torch.allclose(plain(X), ref(X))
    assert torch.allclose(scaled(X), 3.0 * ref(X))           # alpha * f


def test_scaling_alpha_gives_one_over_m_for_mean_field():
    X, _ = sphere_data(5, 3, seed=0)
    m = 64
    net = scaled_two_layer(3, m, scaling_alpha(m, "mean_field"), seed=0, symmetric=False)
    ref = TwoLayerReLU(3, m, seed=0, device="cpu")
    manual = torch.relu(X @ ref.W.detach().T) @ ref.a / m     # (1/m) sum_r a_r relu(w_r^T x)
    assert torch.allclose(net(X), manual)
    assert scaling_alpha(m, "ntk") == 1.0
    with pytest.raises(ValueError):
        scaling_alpha(m, "standard")
    with pytest.raises(ValueError):
        scaled_two_layer(3, 5, 1.0)                           # odd m cannot be paired


def test_weights_move_like_one_over_alpha_in_the_lazy_limit():
    X, y = sphere_data(10, 4, seed=0, labels="teacher")
    lr = 1 / lambda_max(h_infinity(X))
    r1 = lazy_run(X, y, m=100, alpha=10.0, lr=lr, steps=20, record_every=20)
    r2 = lazy_run(X, y, m=100, alpha=100.0, lr=lr, steps=20, record_every=20)
    assert math.isclose(r1.weight_move / r2.weight_move, 10.0, rel_tol=0.1)
    assert r2.kernel_drift[-1] <= r1.kernel_drift[-1]
    assert r2.flips[-1] <= r1.flips[-1]
    # the same function-space dynamics: both runs reach about the same loss
    assert r1.loss[-1] < 0.5 * r1.loss[0]
    assert math.isclose(r1.loss[-1], r2.loss[-1], rel_tol=0.15)


def test_mean_field_moves_weights_order_one_ntk_shrinks_with_width():
    X, y = sphere_data(10, 4, seed=0, labels="teacher")
    lr = 1 / lambda_max(h_infinity(X))
    res = scaling_comparison(X, y, widths=[50, 800], lr=lr, steps=100)
    ntk, mf = res["ntk"], res["mean_field"]
    assert ntk[1].weight_move < 0.5 * ntk[0].weight_move      # ~ 1/sqrt(m): factor 4 here
    assert mf[1].weight_move > 0.5 * mf[0].weight_move        # O(1): does not shrink
    assert mf[1].kernel_drift[-1] > 3 * ntk[1].kernel_drift[-1]
