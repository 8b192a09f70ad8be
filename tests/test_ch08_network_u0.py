"""Chapter 8: ``network_vs_linearized`` returns the initial training outputs ``u0`` = f_0(X),
which the lesson passes to ``ntk_regression``; compared here with the untrained network itself."""
import numpy as np
import torch

from overparam.kernels import deep_ntk
from overparam.linearize import circle_points, network_vs_linearized, ntk_regression
from overparam.models import DeepReLU


def test_u0_is_the_initial_network_on_the_training_inputs():
    X, t = circle_points(5, offset=0.1)
    y = torch.sin(2 * t)
    X_test, _ = circle_points(12, offset=0.05)
    net = DeepReLU(2, 64, 1, parameterization="ntk", seed=3)
    with torch.no_grad():
        f0 = net(X).numpy()
    r = network_vs_linearized(net, X, y, X_test, lr=0.1, steps=3)
    assert r["u0"].shape == (5,)
    np.testing.assert_allclose(r["u0"], f0, rtol=0, atol=1e-12)
    with torch.no_grad():                        # the model passed in is not trained
        np.testing.assert_allclose(net(X).numpy(), f0, rtol=0, atol=0)


def test_u0_makes_kernel_regression_interpolate_the_labels():
    X, t = circle_points(5, offset=0.1)
    y = torch.sin(2 * t)
    r = network_vs_linearized(DeepReLU(2, 64, 1, parameterization="ntk", seed=1), X, y, X,
                              lr=0.1, steps=1)
    K = deep_ntk(X, depth=1)
    pred = ntk_regression(K, K, y, u0=r["u0"], u0_test=r["init"]).numpy()
    np.testing.assert_allclose(pred, y.numpy(), atol=1e-8)   # at the training inputs: y
