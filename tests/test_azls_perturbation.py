"""Chapter 10: the backward products and the perturbation response of the AZLS network
(overparam.azls_perturbation), against autograd and the linear limit omega -> 0."""

import numpy as np
import pytest
import torch

from overparam.azls_perturbation import backward_vectors, perturbation_response
from overparam.deep import azls_data
from overparam.models import DeepReLU


def _net(m=64, L=3, seed=0):
    return DeepReLU(6, m, L, parameterization="allen_zhu", seed=seed, device="cpu")


def test_backward_vectors_are_the_gradients_of_f_with_respect_to_the_hidden_vectors():
    X, _ = azls_data(5, 6, seed=1)
    net = _net()
    b = backward_vectors(net, X)
    assert b.shape == (net.depth + 1, 5, net.m)
    with torch.no_grad():
        hs = net.forward_layers(X)[1][1:]                  # h_0, ..., h_L
    for l, h in enumerate(hs):                             # rerun the net from h_l by hand
        h = h.clone().requires_grad_(True)
        g = h
        for k in range(l + 1, net.depth + 1):
            g = torch.relu(g @ getattr(net, f"W{k}").detach().T)
        f = (g @ net.B.detach().T).sum()
        (grad,) = torch.autograd.grad(f, h)
        assert torch.allclose(b[l], grad, rtol=1e-10, atol=1e-10)


def test_backward_vectors_have_norm_about_sqrt_m_at_initialization():
    X, _ = azls_data(8, 6, seed=0)
    r = np.concatenate([(backward_vectors(_net(256, 4, s), X).norm(dim=2) / 16).numpy().ravel()
                        for s in range(3)])
    assert 0.4 < r.min() and r.max() < 2.0 and 0.8 < np.median(r) < 1.25


def test_perturbation_response_is_linear_in_omega_before_any_sign_changes():
    X, _ = azls_data(5, 6, seed=2)
    r = perturbation_response(_net(), X, [1e-9, 1e-8], seed=3)
    assert np.all(r["flips"] == 0)
    assert r["forward"][1] / r["forward"][0] == pytest.approx(10, rel=1e-5)
    assert r["backward"][1] / r["backward"][0] == pytest.approx(10, rel=1e-5)
    assert 0 < r["b_min"] <= r["b_max"]


def test_perturbation_response_refuses_other_parameterizations():
    X, _ = azls_data(5, 6, seed=2)
    with pytest.raises(ValueError, match="allen_zhu"):
        perturbation_response(DeepReLU(6, 16, 2, parameterization="ntk", device="cpu"), X, [1e-3])
