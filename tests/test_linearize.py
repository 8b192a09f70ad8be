"""Tests of overparam.linearize (Chapter 8): the Taylor model, GD on it, NTK regression."""

import math

import numpy as np
import pytest
import torch

from overparam.kernels import deep_ntk, empirical_ntk
from overparam.linearize import (circle_points, ntk_regression, random_direction, taylor_gaps,
                                 taylor_model, train_linearized)
from overparam.models import DeepReLU, TwoLayerReLU


def _explicit_jacobian(model, X):
    """Independent: J by one autograd backward per input, flattened over parameters."""
    rows = []
    for i in range(X.shape[0]):
        model.zero_grad()
        out = model(X[i:i + 1])[0]
        grads = torch.autograd.grad(out, list(model.parameters()))
        rows.append(torch.cat([g.reshape(-1) for g in grads]))
    return torch.stack(rows)


def test_taylor_model_matches_explicit_jacobian():
    X, _ = circle_points(7, offset=0.3, d=3)
    net = DeepReLU(3, 16, 2, parameterization="ntk", seed=1, device="cpu")
    D = random_direction(net, seed=2)
    eps = 1e-3
    _, flin = taylor_model(net, X, {k: eps * v for k, v in D.items()})
    J = _explicit_jacobian(net, X)
    delta = torch.cat([eps * D[k].reshape(-1) for k, _ in net.named_parameters()])
    with torch.no_grad():
        expected = net(X) + J @ delta
    assert torch.allclose(flin, expected, atol=1e-10)


def test_taylor_gap_is_of_higher_order_than_eps():
    X, _ = circle_points(9, offset=0.2)
    net = DeepReLU(2, 64, 1, parameterization="ntk", seed=0, device="cpu")
    g = taylor_gaps(net, X, [1e-2, 1e-1])
    assert g[0] < 0.2 * g[1]          # a first-order gap would give a ratio of 0.1
    assert g[1] > 0


def test_two_layer_taylor_model_is_exact_without_pattern_changes():
    # f = a relu(Wx)/sqrt(m) is linear in W while no activation pattern flips
    X, _ = circle_points(5, offset=0.1)
    net = TwoLayerReLU(2, 8, seed=0, device="cpu")
    f, flin = taylor_model(net, X, {"W": 1e-9 * torch.ones_like(net.W)})
    assert torch.allclose(f, flin, atol=1e-14)


def test_train_linearized_equals_gd_on_explicit_linear_model():
    X, _ = circle_points(6, offset=0.2)
    Xt, _ = circle_points(4, offset=1.0)
    y = torch.linspace(-1, 1, 6, dtype=torch.float64)
    net = DeepReLU(2, 12, 1, parameterization="ntk", seed=3, device="cpu")
    lr, steps = 0.05, 25
    out = train_linearized(net, X, y, lr=lr, steps=steps, X_test=Xt, record_every=steps)
    J, Jt = _explicit_jacobian(net, X), _explicit_jacobian(net, Xt)
    with torch.no_grad():
        u0, ut0 = net(X), net(Xt)
    theta = torch.zeros(J.shape[1], dtype=torch.float64)
    for _ in range(steps):                      # GD in parameter space on 1/2 sum (u - y)^2
        theta -= lr * J.T @ (u0 + J @ theta - y)
    assert torch.allclose(torch.as_tensor(out["outputs"][-1]), u0 + J @ theta, atol=1e-10)
    assert torch.allclose(torch.as_tensor(out["test_outputs"][-1]), ut0 + Jt @ theta, atol=1e-10)
    assert math.isclose(out["loss"][-1], float(0.5 * ((u0 + J @ theta - y) ** 2).sum()),
                        rel_tol=1e-9)


def test_ntk_regression_interpolates_and_matches_long_gd():
    X, _ = circle_points(8, offset=0.1, d=3)
    Xt, _ = circle_points(5, offset=0.7, d=3)
    y = torch.cos(torch.arange(8.0, dtype=torch.float64))
    K, Ks = deep_ntk(X, depth=2), deep_ntk(Xt, X, depth=2)
    assert torch.allclose(ntk_regression(K, K, y), y, atol=1e-8)       # interpolation
    # finite time t: gradient flow = GD with a small step for t/lr steps
    net = DeepReLU(3, 8, 2, parameterization="ntk", seed=0, device="cpu")
    u0 = net(X).detach()
    ut0 = net(Xt).detach()
    lr, steps = 1e-3, 2000
    gd = train_linearized(net, X, y, lr=lr, steps=steps, X_test=Xt, K=K, K_test=Ks,
                          record_every=steps)["test_outputs"][-1]
    flow = ntk_regression(K, Ks, y, u0=u0, u0_test=ut0, time=lr * steps)
    assert torch.allclose(torch.as_tensor(gd), flow, atol=2e-3)


def test_empirical_ntk_of_wide_net_is_close_to_deep_ntk():
    X, _ = circle_points(6, offset=0.4, d=3)
    errs = []
    for m in (64, 4096):
        net = DeepReLU(3, m, 1, parameterization="ntk", seed=0, device="cpu")
        T = deep_ntk(X, depth=1)
        errs.append(float((empirical_ntk(net, X) - T).norm() / T.norm()))
    assert errs[1] < errs[0] and errs[1] < 0.1


def test_lazy_vs_linearized_matches_kernel_dynamics_and_the_network_run():
    """Chapter 9: the linearized run moves its outputs by the alpha-free kernel H(0) (closed
    form u(k) = y - (I - lr H(0))^k y from u(0) = 0), the network run matches scaling.lazy_run
    (autograd), and the gaps vanish when no step is taken."""
    from overparam.data import sphere_data
    from overparam.kernels import gram_matrix, h_infinity, lambda_max
    from overparam.linearize import lazy_vs_linearized
    from overparam.scaling import lazy_run, scaled_two_layer

    X, y = sphere_data(12, 4, seed=3, labels="teacher")
    lr, steps = 1.0 / lambda_max(h_infinity(X)), 40
    H0 = gram_matrix(scaled_two_layer(4, 50, 1.0, seed=2), X)
    expected = y - torch.linalg.matrix_power(torch.eye(12, dtype=H0.dtype) - lr * H0, steps) @ y
    for alpha in (0.5, 3.0):
        r = lazy_vs_linearized(X, y, m=50, alpha=alpha, lr=lr, steps=steps, seed=2)
        np.testing.assert_allclose(r["outputs_lin"], expected.numpy(), rtol=1e-9, atol=1e-11)
        loss = lazy_run(X, y, m=50, alpha=alpha, lr=lr, steps=steps, seed=2,
                        record_every=steps).loss[-1]
        assert np.isclose(0.5 * float(((r["outputs"] - y.numpy()) ** 2).sum()), loss,
                          rtol=1e-8)
    r0 = lazy_vs_linearized(X, y, m=50, alpha=2.0, lr=lr, steps=0, seed=2)
    assert r0["param_gap"] == r0["output_gap"] == r0["move"] == 0.0
    with pytest.raises(ValueError):
        lazy_vs_linearized(X, y, m=50, alpha=2.0, lr=-1.0, steps=5)
