"""deep.azls_kernel_at_init (Chapter 12b): the condition number and the distance of the AZLS
network's empirical NTK at init from (m/2) azls_ntk, checked against independent computations."""

import numpy as np

from overparam.deep import azls_data, azls_kernel_at_init, azls_ntk
from overparam.kernels import empirical_ntk
from overparam.models import DeepReLU


def test_condition_number_matches_numpy_eigenvalues_of_the_empirical_ntk():
    X, _ = azls_data(6, 5, seed=3)
    out = azls_kernel_at_init(X, depths=[1, 3], m=64, seeds=[0, 2])
    for a, L in enumerate([1, 3]):
        for c, s in enumerate([0, 2]):
            K = empirical_ntk(DeepReLU(5, 64, L, parameterization="allen_zhu", seed=s), X)
            ev = np.linalg.eigvalsh(K.double().numpy())
            assert np.isclose(out["cond"][a, c], ev[-1] / ev[0], rtol=1e-8)
            T = azls_ntk(X, depth=L).double().numpy()
            dev = np.linalg.norm(K.double().numpy() / 32 - T) / np.linalg.norm(T)
            assert np.isclose(out["deviation"][a, c], dev, rtol=1e-8)


def test_deviation_shrinks_toward_the_infinite_width_kernel():
    X, _ = azls_data(5, 6, seed=1)
    seeds = range(4)
    narrow = azls_kernel_at_init(X, depths=[2], m=32, seeds=seeds)["deviation"]
    wide = azls_kernel_at_init(X, depths=[2], m=1024, seeds=seeds)["deviation"]
    assert np.median(wide) < 0.5 * np.median(narrow)     # ~1/sqrt(m): a factor ~5.7 expected
    assert narrow.shape == (1, 4) and np.all(np.isfinite(narrow))


def test_condition_number_at_least_one():
    X, _ = azls_data(4, 4, seed=0)
    cond = azls_kernel_at_init(X, depths=[1, 2], m=16, seeds=[0])["cond"]
    assert cond.shape == (2, 1) and np.all(cond >= 1)
