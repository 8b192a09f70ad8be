"""sign_change_counts(random=False) (Chapter 13b's many-seed check) gives the same worst case."""
import numpy as np

from overparam.classification import phi_separated_data, sign_change_counts


def test_skipping_the_random_direction_keeps_worst_and_backward():
    X, _ = phi_separated_data(16, 6, 0.2, kind="xor", seed=1, mu=0.5)
    for layer in (1, 2):
        full = sign_change_counts(X, width=256, taus=[1e-2, 1e-1], seeds=[0, 1], layer=layer)
        fast = sign_change_counts(X, width=256, taus=[1e-2, 1e-1], seeds=[0, 1], layer=layer,
                                  random=False)
        np.testing.assert_array_equal(fast["worst"], full["worst"])
        np.testing.assert_array_equal(fast["backward"], full["backward"])
        assert np.isnan(fast["random"]).all() and np.isfinite(full["random"]).all()
