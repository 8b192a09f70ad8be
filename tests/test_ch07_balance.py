"""Chapter 7: the total drift of the factors a_r^2 (``both_layers_moves(...)["a2_sum"]``) against
an independent computation, and the balance identity it illustrates: under gradient flow
sum_r d(a_r^2)/dt = 2 (y - u)^T u = sum_r d||w_r||^2/dt (ReLU is 1-homogeneous)."""

import numpy as np

from overparam.both_layers import both_layers_moves
from overparam.data import sphere_data
from overparam.models import TwoLayerReLU
from overparam.train import train


def test_a2_sum_matches_the_weights():
    X, y = sphere_data(10, 4, seed=2)
    got = both_layers_moves(X, y, 50, lr=0.1, steps=20, seed=3)["a2_sum"]
    net = TwoLayerReLU(4, 50, seed=3, train_output=True, dtype=X.dtype, device=X.device)
    train(net, X, y, lr=0.1, steps=20)
    want = float(np.sum(net.a.detach().numpy() ** 2 - 1))
    assert abs(got - want) <= 1e-10 * max(1.0, abs(want))


def test_balance_identity_in_the_small_step_limit():
    X, y = sphere_data(10, 4, seed=0)
    net = TwoLayerReLU(4, 200, seed=1, train_output=True, dtype=X.dtype, device=X.device)
    a0, W0 = net.a.detach().numpy().copy(), net.W.detach().numpy().copy()
    train(net, X, y, lr=1e-3, steps=500)                 # close to gradient flow up to t = 0.5
    a, W = net.a.detach().numpy(), net.W.detach().numpy()
    da2 = a ** 2 - a0 ** 2
    dw2 = np.sum(W ** 2, axis=1) - np.sum(W0 ** 2, axis=1)
    assert np.abs(da2).max() > 1e-3                       # the factors did move
    assert np.abs(da2 - dw2).max() < 1e-2 * np.abs(da2).max()   # per neuron, to first order in eta
