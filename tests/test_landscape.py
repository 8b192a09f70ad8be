import math

import numpy as np
import pytest
import torch

from overparam.data import sphere_data
from overparam.landscape import gd_step_prediction, interpolate, loss_along_path, permute_neurons
from overparam.models import DeepReLU, TwoLayerReLU
from overparam.train import train


def _f(W, a, X):
    """Du et al. eq. (1), written out independently of the library."""
    return torch.relu(X @ W.T) @ a / math.sqrt(W.shape[0])


def test_permute_neurons_keeps_the_function_and_the_output_layer():
    X, _ = sphere_data(15, 4, seed=1)
    net = TwoLayerReLU(4, 64, seed=2, device="cpu")
    other = permute_neurons(net, seed=3)
    assert torch.equal(other.a, net.a)
    assert not torch.equal(other.W, net.W)
    # the rows of W are the same set, only relabelled
    assert torch.equal(torch.sort(other.W[:, 0]).values, torch.sort(net.W[:, 0]).values)
    assert torch.allclose(other(X), _f(net.W.detach(), net.a, X), atol=1e-12)


def test_interpolate_ends_and_midpoint():
    a = TwoLayerReLU(3, 8, seed=0, device="cpu")
    b = TwoLayerReLU(3, 8, seed=1, device="cpu")
    assert torch.equal(interpolate(a, b, 0.0).W, a.W)
    assert torch.allclose(interpolate(a, b, 1.0).W, b.W)
    mid = interpolate(a, b, 0.5)
    assert torch.allclose(mid.W, (a.W + b.W) / 2) and torch.allclose(mid.a, (a.a + b.a) / 2)
    with pytest.raises(ValueError, match="same architecture"):
        interpolate(a, TwoLayerReLU(3, 9, seed=0, device="cpu"), 0.5)
    with pytest.raises(TypeError):
        interpolate(a, torch.nn.Linear(3, 1), 0.5)


def test_loss_along_path_matches_an_independent_computation():
    X, y = sphere_data(12, 5, seed=4)
    a = TwoLayerReLU(5, 16, seed=0, device="cpu")
    b = TwoLayerReLU(5, 16, seed=1, device="cpu")
    ts = np.array([0.0, 0.3, 1.0])
    L = loss_along_path(a, b, X, y, ts)
    for t, value in zip(ts, L):
        W = (1 - t) * a.W.detach() + t * b.W.detach()
        aa = (1 - t) * a.a + t * b.a
        assert value == pytest.approx(0.5 * float(((_f(W, aa, X) - y) ** 2).sum()), rel=1e-12)


def test_loss_along_path_works_for_deep_nets():
    X, y = sphere_data(6, 3, seed=0)
    a = DeepReLU(3, 8, depth=2, seed=0, device="cpu")
    b = DeepReLU(3, 8, depth=2, seed=1, device="cpu")
    L = loss_along_path(a, b, X, y, [0.0, 1.0])
    assert L[0] == pytest.approx(0.5 * float(((a(X).detach() - y) ** 2).sum()))
    assert L[1] == pytest.approx(0.5 * float(((b(X).detach() - y) ** 2).sum()))


def test_two_global_minima_are_joined_by_a_path_of_higher_loss():
    # the non-convexity of Chapter 1: a trained net and its relabelled copy are both minima
    X, y = sphere_data(20, 5, seed=0)
    net = TwoLayerReLU(5, 128, seed=0, device="cpu")
    train(net, X, y, lr=0.5, steps=1500, progress=False)
    other = permute_neurons(net, seed=1)
    L = loss_along_path(net, other, X, y)
    assert L[0] < 1e-3 and L[-1] < 1e-3
    assert L.max() > 100 * max(L[0], L[-1])


def test_gd_step_prediction_is_exact_without_flips_and_degrades_with_the_step():
    X, y = sphere_data(10, 4, seed=0)
    net = TwoLayerReLU(4, 50, seed=0, device="cpu")
    W0 = net.W.detach().clone()
    actual, predicted, flips = gd_step_prediction(net, X, y, 1e-6)
    assert torch.equal(net.W, W0)                     # the model is left as it was
    assert flips == 0.0
    assert float((actual - predicted).norm() / predicted.norm()) < 1e-6
    # independent check of the actual change: one step with autograd on eq. (1)
    W = W0.clone().requires_grad_(True)
    loss = 0.5 * ((_f(W, net.a, X) - y) ** 2).sum()
    (g,) = torch.autograd.grad(loss, W)
    change = _f(W0 - 1e-6 * g, net.a, X) - _f(W0, net.a, X)
    assert torch.allclose(actual, change, rtol=1e-6, atol=1e-15)
    big_actual, big_pred, big_flips = gd_step_prediction(net, X, y, 1.0)
    assert big_flips > 0
    assert float((big_actual - big_pred).norm() / big_pred.norm()) > 1e-4
