"""Chapter 15's feature-learning helpers (scaling.two_layer_kernel, feature_learning_run)."""

import math

import torch

from overparam.data import sphere_data
from overparam.kernels import gram_matrix, h_infinity
from overparam.linearize import ntk_regression
from overparam.scaling import feature_learning_run, scaled_two_layer, two_layer_kernel


def test_kernel_matches_gram_matrix_on_the_training_set():
    X, _ = sphere_data(12, 4, seed=0)
    net = scaled_two_layer(4, 40, 0.3, seed=1, dtype=X.dtype)
    torch.testing.assert_close(two_layer_kernel(net, X), gram_matrix(net, X))


def test_kernel_tends_to_h_infinity_at_large_width():
    X, _ = sphere_data(6, 3, seed=2)
    Y, _ = sphere_data(4, 3, seed=3)
    net = scaled_two_layer(3, 200_000, 1.0, seed=0, symmetric=False, dtype=X.dtype)
    assert (two_layer_kernel(net, X, Y) - h_infinity(X, Y)).abs().max() < 1e-2


def test_run_kernel_regression_and_lazy_limit():
    X, y = sphere_data(16, 5, seed=0)
    Xt, yt = sphere_data(10, 5, seed=1)
    y, yt = torch.sign(y), torch.sign(yt)
    r = feature_learning_run(X, y, Xt, yt, m=200, lr=0.5, steps=50, seed=0)
    net = scaled_two_layer(5, 200, 1.0, seed=0, dtype=X.dtype)
    u = ntk_regression(two_layer_kernel(net, X), two_layer_kernel(net, Xt, X), y)
    assert math.isclose(r.kernel_error, float((yt * u <= 0).double().mean()))
    assert r.kernel_change["mean_field"] > 3 * r.kernel_change["ntk"]
