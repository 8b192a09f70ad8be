"""Chapter 4: the three sizes of H(W) - H(0) under the nearest-hyperplane push, against a direct
computation of H_ij = x_i^T x_j (1/m) sum_r 1{w_r^T x_i >= 0} 1{w_r^T x_j >= 0}."""

import numpy as np
import torch

from overparam.data import sphere_data
from overparam.models import TwoLayerReLU
from overparam.stability import closest_hyperplane_push, push_drift_norms


def _gram_direct(W, X):
    A = (X @ W.T >= 0).double()                       # (n, m) activation patterns
    return (X @ X.T) * (A @ A.T) / W.shape[0]


def test_push_drift_norms_match_a_direct_gram_and_are_ordered():
    X, _ = sphere_data(12, 5, seed=3)
    m, rho = 256, 0.05
    out = push_drift_norms(X, rho, m=m, seeds=[0, 1])
    for j, s in enumerate([0, 1]):
        W0 = TwoLayerReLU(5, m, seed=s, dtype=X.dtype).W.detach().clone()
        D = _gram_direct(W0 + rho * closest_hyperplane_push(W0, X), X) - _gram_direct(W0, X)
        assert np.isclose(out["entry_sum"][j], float(D.abs().sum()), rtol=1e-10)
        assert np.isclose(out["spectral"][j], float(torch.linalg.matrix_norm(D, 2)), rtol=1e-10)
        assert np.isclose(out["frobenius"][j], float(D.pow(2).sum().sqrt()), rtol=1e-10)
        # the proof's entry bound summed over all (i, j): (1/m)(|S_i^perp| + |S_j^perp|) each
        S = ((X @ W0.T).abs() <= rho).sum(1).double()          # |S_i^perp| per input
        bound = sum(float(S[i] + S[k]) / m for i in range(len(S)) for k in range(len(S)))
        assert np.isclose(out["bound"][j], bound, rtol=1e-12)
    # ||.||_2 <= ||.||_F <= sum |.| <= the proof's summed entry bound (Lemma 3.2)
    assert np.all(out["spectral"] <= out["frobenius"] * (1 + 1e-12))
    assert np.all(out["frobenius"] <= out["entry_sum"] * (1 + 1e-12))
    assert np.all(out["entry_sum"] <= out["bound"] * (1 + 1e-12))
    assert np.all(out["entry_sum"] > 0)


def test_push_drift_norms_vanish_without_a_move():
    X, _ = sphere_data(8, 4, seed=0)
    out = push_drift_norms(X, 0.0, m=64, seeds=[0])
    assert out["entry_sum"][0] == 0 and out["spectral"][0] == 0
