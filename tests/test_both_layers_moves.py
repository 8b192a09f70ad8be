"""Chapter 7: ``both_layers.both_layers_moves`` against an independent numpy computation of
Du et al.'s H(t) (eq. (6) with the factors a_r^2), of the moves of the weights, and of the
split of the move of H into the factors' part and the flips' part."""

import numpy as np

from overparam.both_layers import both_layers_moves
from overparam.data import sphere_data
from overparam.models import TwoLayerReLU
from overparam.train import train


def _h(X, W, a):
    """H_ij = (1/m) x_i^T x_j sum_r a_r^2 1{w_r^T x_i >= 0} 1{w_r^T x_j >= 0}, by loops."""
    n, m = X.shape[0], W.shape[0]
    H = np.zeros((n, n))
    for r in range(m):
        on = (X @ W[r] >= 0).astype(float)
        H += a[r] ** 2 * np.outer(on, on)
    return H * (X @ X.T) / m


def _reference(data_seed, m, steps, net_seed):
    """both_layers_moves' result, and the same run redone here: weights and the three H's."""
    X, y = sphere_data(10, 4, seed=data_seed)
    got = both_layers_moves(X, y, m, lr=0.1, steps=steps, seed=net_seed)
    net = TwoLayerReLU(4, m, seed=net_seed, train_output=True, dtype=X.dtype, device=X.device)
    a0, W0 = net.a.detach().numpy().copy(), net.W.detach().numpy().copy()
    train(net, X, y, lr=0.1, steps=steps)
    a, W, Xn = net.a.detach().numpy(), net.W.detach().numpy(), X.numpy()
    return got, (a0, W0, a, W), (_h(Xn, W0, a0), _h(Xn, W, a), _h(Xn, W, a0))


def test_moves_match_an_independent_computation():
    got, (a0, W0, a, W), (H0, H, H_a0) = _reference(2, 50, 20, 3)
    want = {"da_max": np.abs(a - a0).max(), "da_rms": np.sqrt(np.mean((a - a0) ** 2)),
            "a2_max": np.abs(a ** 2 - 1).max(),
            "dw_rms": np.sqrt(np.mean(np.sum((W - W0) ** 2, axis=1))),
            "lmin_H0": np.linalg.eigvalsh(H0)[0], "lmin_H": np.linalg.eigvalsh(H)[0],
            "H_move": np.linalg.norm(H - H0, 2), "a_part_lmin": np.linalg.eigvalsh(H - H_a0)[0]}
    for k, v in want.items():
        assert abs(got[k] - v) <= 1e-10 * max(1.0, abs(v)), k
    assert got["H_move"] > 0


def test_no_steps_means_no_move():
    X, y = sphere_data(8, 3, seed=0)
    got = both_layers_moves(X, y, 30, lr=0.1, steps=0, seed=1)
    assert got["da_max"] == 0 and got["dw_rms"] == 0 and got["H_move"] == 0
    assert got["lmin_H"] == got["lmin_H0"]


# The split of ||H(k) - H(0)|| into the factors' part and the flips' part (chapter 7).
def test_split_matches_loops_and_triangle_inequality():
    got, _, (H0, H, H_a0) = _reference(1, 40, 30, 2)
    assert abs(got["a_part_norm"] - np.linalg.norm(H - H_a0, 2)) < 1e-10
    assert abs(got["flip_norm"] - np.linalg.norm(H_a0 - H0, 2)) < 1e-10
    assert got["H_move"] <= got["a_part_norm"] + got["flip_norm"] + 1e-12


def test_no_steps_no_parts():
    X, y = sphere_data(8, 3, seed=0)
    got = both_layers_moves(X, y, 30, lr=0.1, steps=0, seed=1)
    assert got["a_part_norm"] == 0 and got["flip_norm"] == 0
