"""Chapters 13b-14: the pieces of Zou et al.'s proof the lessons measure (sign changes after a
perturbation, the loss recursion of the p regimes, the descent inequality behind Assumption
3.3) and the SGD that the lessons run (uniform sampling, eta scaled with the batch size)."""

import math

import numpy as np
import pytest
import torch

from overparam.classification import (descent_constant, loss_recursion_steps, min_kappa,
                                      path_vs_width, phi_separated_data, run_classifier,
                                      sign_change_counts, zero_error_grid)
from overparam.models import DeepReLU


def _data(n=16, phi=0.3):
    return phi_separated_data(n, 6, phi, kind="xor", seed=0, mu=0.5)


def test_worst_sign_changes_are_the_order_statistics_count():
    X, _ = _data()
    taus = [1e-3, 1e-2, 1e-1]
    r = sign_change_counts(X, width=512, taus=taus, seeds=[3], layer=1, example=2)
    net = DeepReLU(X.shape[1], 512, 2, parameterization="zou", seed=3)
    with torch.no_grad():
        z = (net.W1 @ X[2]).abs().sort().values            # layer 1: h = x, ||x|| = 1
    for t, tau in enumerate(taus):                          # independent: count by hand
        k = int((1.01 * torch.sqrt(torch.cumsum(z ** 2, 0)) <= tau).sum())
        assert r["worst"][0, t] == k
    assert np.all(r["random"] >= 0) and r["random"].shape == (1, 3)


def test_worst_sign_changes_follow_m_tau_to_the_two_thirds():
    # k smallest of m Gaussians N(0, 2/m): sum of squares ~ pi k^3 / (3 m^3), so the count
    # whose norm reaches tau is k ~ (3/pi)^{1/3} m tau^{2/3}
    X, _ = _data()
    m, taus = 1024, [3e-3, 3e-2]
    r = sign_change_counts(X, width=m, taus=taus, seeds=range(3))
    pred = (3 / math.pi) ** (1 / 3) * m * np.array(taus) ** (2 / 3)
    assert np.allclose(np.median(r["worst"], 0) / pred, 1.0, atol=0.25)


def test_random_direction_is_not_the_networks_own_draw():
    # the same generator seed as the network would give W' proportional to W(0): no flips
    X, _ = _data()
    r = sign_change_counts(X, width=256, taus=[0.3], seeds=[0])
    assert r["random"][0, 0] > 0


def test_loss_recursion_p_half_is_linear_convergence():
    c, L0 = 0.01, 0.7
    for eps in (1e-2, 1e-5):
        expected = math.ceil(math.log(eps / L0) / math.log(1 - c))
        assert loss_recursion_steps(0.5, c=c, loss0=L0, eps=eps) in (expected, expected + 1)


def test_loss_recursion_regimes_in_epsilon():
    steps = {p: [loss_recursion_steps(p, c=0.01, loss0=0.7, eps=e) for e in (1e-2, 1e-4)]
             for p in (0.25, 1.0)}
    # p < 1/2: L^{1-2p} falls by at least c (1 - 2p) per step, so L hits 0 within
    # L0^{1-2p} / (c (1 - 2p)) steps whatever eps
    bound = 0.7 ** 0.5 / (0.01 * 0.5)
    tiny = loss_recursion_steps(0.25, c=0.01, loss0=0.7, eps=1e-300)
    assert steps[0.25][0] <= steps[0.25][1] <= tiny <= bound + 1
    # p = 1: L_k ~ 1 / (c k), steps ~ 1 / (c eps): a hundredfold smaller eps, ~100x steps
    assert 50 < steps[1.0][1] / steps[1.0][0] < 200
    with pytest.raises(ValueError):
        loss_recursion_steps(1.5, c=0.1, loss0=1.0, eps=0.1)


def test_descent_constant_of_the_four_losses():
    z = np.linspace(-5, 5, 1001)
    coarse = np.r_[-np.logspace(-2, 0, 30), np.logspace(-2, 0, 30)]
    fine = np.r_[-np.logspace(-4, 0, 30), np.logspace(-4, 0, 30)]
    assert descent_constant("logistic", margins=z, deltas=fine) == pytest.approx(0.25, abs=1e-3)
    assert descent_constant("squared hinge", margins=z, deltas=fine) <= 2 + 1e-4
    # hinge: z just above 1, a step back by D costs |D| where the linear model sees 0: 2/|D|
    h1 = descent_constant("hinge", margins=z, deltas=coarse)
    h2 = descent_constant("hinge", margins=z, deltas=fine)
    assert h2 > 50 * h1 and h2 >= 1e4
    # exponential: l'' = e^{-z} grows without bound as the margins go negative
    e1 = descent_constant("exponential", margins=z, deltas=coarse)
    e2 = descent_constant("exponential", margins=np.linspace(-20, 5, 2501), deltas=coarse)
    assert e1 >= math.exp(5) and e2 >= math.exp(20)
    with pytest.raises(ValueError):
        descent_constant("square", margins=z, deltas=coarse)


def test_grid_scales_the_step_with_the_batch_and_samples_uniformly():
    X, y = _data()
    same = zero_error_grid(X, y, widths=[32], batch_sizes=[None, 4], steps=5)
    lin = zero_error_grid(X, y, widths=[32], batch_sizes=[None, 4], steps=5,
                          batch_lr="linear", sampling="uniform")
    assert lin.lr[0, 0, 0] == pytest.approx(same.lr[0, 0, 0])
    assert lin.lr[0, 1, 0] == pytest.approx(same.lr[0, 1, 0] * 4 / 16)
    assert lin.histories[(32, 4, 0)].sampling == "uniform"
    assert same.histories[(32, 4, 0)].sampling == "epoch"
    with pytest.raises(ValueError, match="batch_lr"):
        zero_error_grid(X, y, widths=[32], batch_sizes=[4], steps=2, batch_lr="sqrt")


def test_run_classifier_passes_the_sampling_to_train():
    X, y = _data()
    _, h = run_classifier(X, y, width=32, batch_size=4, steps=3, sampling="uniform")
    assert h.sampling == "uniform"
    with pytest.raises(ValueError, match="sampling"):
        run_classifier(X, y, width=32, batch_size=4, steps=3, sampling="bootstrap")


def test_min_kappa_and_path_vs_width_on_a_small_problem():
    X, y = _data()
    assert min_kappa(X, y, width=32, steps=20, seed=0) > 0
    out = path_vs_width(X, y, widths=[32, 64], depth=2, seeds=[0, 1], phi=0.3, eps=0.3,
                        steps=200)
    assert all(v.shape == (2, 2) for v in out.values())
    assert np.all(out["measured"] < out["own"])             # the bound holds on these runs


def test_backward_sensitivity_of_the_last_hidden_layer_is_the_root_of_the_count():
    # in the last hidden layer df/dx_L = v, entries +-1: ||g_S|| = sqrt(|S|) exactly
    X, _ = _data()
    r = sign_change_counts(X, width=256, taus=[1e-2, 1e-1], seeds=[0], layer=2)
    assert np.all(r["worst"] > 0)
    assert np.allclose(r["backward"], np.sqrt(r["worst"]), rtol=1e-12)
