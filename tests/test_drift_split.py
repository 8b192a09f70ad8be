"""Chapter 9: flips.drift_split against a direct sum over the neurons."""
import numpy as np
import torch

from overparam.flips import drift_split


def test_drift_split_matches_neuron_sum():
    rng = np.random.default_rng(0)
    n, m, d = 6, 40, 3
    X = rng.standard_normal((n, d))
    P0 = rng.random((n, m)) < 0.5
    P1 = P0 ^ (rng.random((n, m)) < 0.2)

    def H(P):                                   # (1/m) sum_r 1 1 x_i^T x_j, neuron by neuron
        return sum(np.outer(P[:, r], P[:, r]) for r in range(m)) * (X @ X.T) / m

    dH = H(P1) - H(P0)
    D = np.diag(np.diag(dH))
    n0 = np.linalg.norm(H(P0), 2)
    diag, off = drift_split(torch.tensor(P0), torch.tensor(P1), torch.tensor(X))
    assert np.isclose(diag, np.abs(np.diag(dH)).max() / n0)
    assert np.isclose(off, np.linalg.norm(dH - D, 2) / n0)


def test_drift_split_zero_without_flips():
    P = torch.rand(5, 10) < 0.5
    assert drift_split(P, P, torch.randn(5, 3)) == (0.0, 0.0)
