"""Chapter 7: the largest move of a hidden weight vector, ``both_layers_moves(...)["dw_max"]``,
against the same run redone with the model and ``train`` and measured here with numpy."""

import numpy as np

from overparam.both_layers import MOVES_ROWS, both_layers_moves
from overparam.data import sphere_data
from overparam.models import TwoLayerReLU
from overparam.train import train


def test_dw_max_is_the_largest_move_of_a_hidden_weight_vector():
    X, y = sphere_data(12, 5, seed=4)
    got = both_layers_moves(X, y, 40, lr=0.1, steps=15, seed=2)
    net = TwoLayerReLU(5, 40, seed=2, train_output=True, dtype=X.dtype, device=X.device)
    W0 = net.W.detach().numpy().copy()
    train(net, X, y, lr=0.1, steps=15)
    moves = np.sqrt(((net.W.detach().numpy() - W0) ** 2).sum(axis=1))
    assert abs(got["dw_max"] - moves.max()) <= 1e-12 * moves.max()
    assert got["dw_rms"] <= got["dw_max"] and got["dw_max"] > 0
    assert both_layers_moves(X, y, 40, lr=0.1, steps=0, seed=2)["dw_max"] == 0.0


def test_moves_table_has_a_row_for_the_largest_hidden_move():
    assert ("max ‖w_r − w_r(0)‖", "dw_max", False, True) in MOVES_ROWS
