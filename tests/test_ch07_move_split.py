"""Chapter 7: the split of ||H(k) - H(0)|| into the factors' part and the flips' part
(``both_layers_moves(...)["a_part_norm"]``, ``["flip_norm"]``) against numpy loops."""

import numpy as np

from overparam.both_layers import both_layers_moves
from overparam.data import sphere_data
from overparam.models import TwoLayerReLU
from overparam.train import train


def _h(X, W, a):
    """H_ij = (1/m) x_i^T x_j sum_r a_r^2 1{w_r^T x_i >= 0} 1{w_r^T x_j >= 0}, by loops."""
    H = np.zeros((X.shape[0], X.shape[0]))
    for r in range(W.shape[0]):
        on = (X @ W[r] >= 0).astype(float)
        H += a[r] ** 2 * np.outer(on, on)
    return H * (X @ X.T) / W.shape[0]


def test_split_matches_loops_and_triangle_inequality():
    X, y = sphere_data(10, 4, seed=1)
    got = both_layers_moves(X, y, 40, lr=0.1, steps=30, seed=2)
    net = TwoLayerReLU(4, 40, seed=2, train_output=True, dtype=X.dtype, device=X.device)
    a0, W0 = net.a.detach().numpy().copy(), net.W.detach().numpy().copy()
    train(net, X, y, lr=0.1, steps=30)
    a, W, Xn = net.a.detach().numpy(), net.W.detach().numpy(), X.numpy()
    H0, H, H_a0 = _h(Xn, W0, a0), _h(Xn, W, a), _h(Xn, W, a0)
    assert abs(got["a_part_norm"] - np.linalg.norm(H - H_a0, 2)) < 1e-10
    assert abs(got["flip_norm"] - np.linalg.norm(H_a0 - H0, 2)) < 1e-10
    assert got["H_move"] <= got["a_part_norm"] + got["flip_norm"] + 1e-12


def test_no_steps_no_parts():
    X, y = sphere_data(8, 3, seed=0)
    got = both_layers_moves(X, y, 30, lr=0.1, steps=0, seed=1)
    assert got["a_part_norm"] == 0 and got["flip_norm"] == 0
