"""overparam.stability (Chapters 4-5) against independent formulas and limits."""

import math

import numpy as np
import torch

from overparam.data import sphere_data
from overparam.kernels import gram_matrix, lambda_max
from overparam.models import TwoLayerReLU
from overparam.stability import (closest_hyperplane_push, gd_radius_check, large_step_runs,
                                 moves_within_radius)
from overparam.theory import du_two_layer
from overparam.train import train


def test_closest_push_flips_nothing_before_the_nearest_hyperplane_and_one_pattern_after():
    X, _ = sphere_data(12, 5, seed=1)
    W0 = TwoLayerReLU(5, 50, seed=2).W.detach().clone()
    U = closest_hyperplane_push(W0, X)
    assert torch.allclose(U.norm(dim=1), torch.ones(50, dtype=U.dtype))
    Z0 = X @ W0.T
    dist = Z0.abs().min(dim=0).values                    # distance to the closest hyperplane
    for scale in (0.99, 1.01):
        Z = X @ (W0 + scale * dist[:, None] * U).T
        flipped = ((Z >= 0) != (Z0 >= 0)).sum(dim=0)
        # |change of w_r^T x_i| <= ||move|| (Cauchy-Schwarz): nothing flips before dist
        assert (flipped == 0).all() if scale < 1 else (flipped >= 1).all()


def test_moves_within_radius_counts_match_an_independent_count_and_the_gaussian_limit():
    X, _ = sphere_data(20, 6, seed=0)
    lam0 = du_two_layer(X, np.zeros(20)).lambda0
    rhos = [0.0, 0.05, 0.5]
    out = moves_within_radius(X, rhos, m=4000, seeds=[0, 1], lambda0=lam0)
    W0 = TwoLayerReLU(6, 4000, seed=1).W.detach()
    for k, rho in enumerate(rhos):
        direct = float(((X @ W0.T).abs() <= rho).double().mean())
        assert out["may_flip"][k, 1] == direct
        assert abs(out["may_flip"][k, 1] - math.erf(rho / math.sqrt(2))) < 0.02
    assert np.all(out["drift_worst"][0] == 0) and np.all(out["flipped_random"][0] == 0)
    # a move of length rho can flip only pairs with |w_r(0)^T x_i| <= rho
    assert np.all(out["flipped_worst"] <= out["may_flip"])
    assert np.all(out["flipped_random"] <= out["may_flip"])


def test_gd_radius_check_matches_a_separate_run_and_corollary_4_1_when_condition_4_1_holds():
    X, y = sphere_data(15, 8, seed=0)
    lam0 = du_two_layer(X, y).lambda0
    out = gd_radius_check(X, y, width=500, lr=0.2, steps=40, seeds=[3], lambda0=lam0)
    net = TwoLayerReLU(8, 500, seed=3)
    W0 = net.W.detach().clone()
    res0 = float((net(X).detach() - y).norm())
    train(net, X, y, lr=0.2, steps=40)
    assert math.isclose(out["travelled"][0], float((net.W.detach() - W0).norm(dim=1).max()))
    assert math.isclose(out["radius_gd"][0], 4 * math.sqrt(15) * res0 / (math.sqrt(500) * lam0))
    assert out["condition"][0] <= 1                      # this wide run meets Condition 4.1
    assert out["travelled"][0] <= out["radius_gd"][0]    # so Corollary 4.1 applies
    assert 0 < out["flipped"][0] <= 1 and 0 < out["s_perp"][0] < 2 / math.sqrt(2 * math.pi)


def test_large_step_runs_small_step_keeps_the_kernel_and_records_lambda_max():
    X, y = sphere_data(15, 8, seed=0)
    out = large_step_runs(X, y, lr=0.05, width=800, steps=30, seeds=[0, 1])
    for j, s in enumerate([0, 1]):
        assert math.isclose(out["lam_init"][j],
                            lambda_max(gram_matrix(TwoLayerReLU(8, 800, seed=s), X)))
    assert np.all(out["final"] < 1) and np.all(out["worst"] == 1.0)
    assert np.allclose(out["lam_after"], out["lam_init"], rtol=0.05)
