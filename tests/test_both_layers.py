"""Chapter 7 (Du et al. 2019, Thm 3.3): when the output layer trains, H(t) carries a_r(t)^2 and
the prediction dynamics are driven by H(t) + G(t) = J J^T over (W, a)."""

import torch

from overparam.data import sphere_data
from overparam.kernels import empirical_ntk, gram_matrix
from overparam.models import TwoLayerReLU
from overparam.train import train


def _trained_both_layers():
    X, y = sphere_data(12, 5, seed=3)
    net = TwoLayerReLU(5, 64, seed=1, train_output=True, device="cpu")
    train(net, X, y, lr=0.1, steps=30)
    return net, X


def test_output_weights_move_away_from_plus_minus_one():
    net, _ = _trained_both_layers()
    assert float((net.a.detach().abs() - 1).abs().max()) > 1e-3    # a_r(t)^2 != 1 after training


def test_h_plus_g_equals_the_tangent_kernel_after_training_both_layers():
    net, X = _trained_both_layers()
    H, G = gram_matrix(net, X, parts=True)
    K = empirical_ntk(net, X)                  # autograd J J^T over W and a, independent of H, G
    assert torch.allclose(H + G, K, atol=1e-10)


def test_h_carries_a_squared():
    net, X = _trained_both_layers()
    H, _ = gram_matrix(net, X, parts=True)
    with torch.no_grad():
        S = (X @ net.W.T >= 0).double()                              # (n, m) patterns
        a2 = net.a.detach() ** 2
        expected = (X @ X.T) * ((S * a2) @ S.T) / net.m              # Du et al., App. A
        without = (X @ X.T) * (S @ S.T) / net.m                      # a_r^2 replaced by 1
    assert torch.allclose(H, expected, atol=1e-12)
    assert not torch.allclose(H, without, atol=1e-6)
