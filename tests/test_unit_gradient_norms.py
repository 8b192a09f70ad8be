"""classification.unit_gradient_norms (Chapter 13b) against the explicit sum of Zou et al.'s
Theorem 5.1(viii), computed from the forward pass by hand."""
import numpy as np
import torch

from overparam.classification import phi_separated_data, unit_gradient_norms
from overparam.models import DeepReLU


def explicit(X, y, a, *, width, depth, seed):
    net = DeepReLU(X.shape[1], width, depth, parameterization="zou", seed=seed,
                   dtype=torch.float64)
    with torch.no_grad():
        _, inputs, outputs = net.forward_layers(torch.as_tensor(X, dtype=torch.float64))
    x_prev, z = inputs[-2].numpy(), outputs[-2].numpy()      # x_{L-1,i} and <w_{L,j}, x_{L-1,i}>
    act = (z > 0).astype(float)                              # sigma'(z), (n, units)
    S = np.einsum("i,ij,ik->jk", np.asarray(a) * np.asarray(y), act, x_prev) / len(y)
    return np.linalg.norm(S, axis=1)


def test_matches_the_explicit_sum():
    X, y = phi_separated_data(12, 5, 0.2, kind="xor", seed=3, mu=0.5)
    a = np.random.default_rng(0).uniform(0.1, 2.0, len(y))
    for depth in (2, 3):
        got = unit_gradient_norms(X, y, width=40, depth=depth, seed=1, a=a)
        want = explicit(X, y, a, width=40, depth=depth, seed=1)
        assert got.shape == (40,)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)
    ones = unit_gradient_norms(X, y, width=40, depth=2, seed=1)
    np.testing.assert_allclose(ones, explicit(X, y, np.ones(len(y)), width=40, depth=2, seed=1),
                               rtol=1e-10, atol=1e-14)
