"""Chapter 9's biased-sign imbalance and per-input flip model (overparam.flips)."""
import itertools

import pytest
import torch

from overparam.flips import biased_sign_imbalance, onoff_models, random_sign_imbalance


@pytest.mark.parametrize("n", range(0, 9))
@pytest.mark.parametrize("q", (0.5, 0.54, 0.9))
def test_biased_sign_imbalance_brute_force(n, q):
    exact = 0.0
    for s in itertools.product((0, 1), repeat=n):        # 1 = off
        k = sum(s)
        exact += q ** k * (1 - q) ** (n - k) * abs(n - 2 * k)
    assert biased_sign_imbalance(n, q) == pytest.approx(exact, rel=1e-12, abs=1e-15)


def test_biased_sign_imbalance_limits():
    for n in (1, 7, 40):
        assert biased_sign_imbalance(n, 0.5) == pytest.approx(random_sign_imbalance(n), rel=1e-12)
        assert biased_sign_imbalance(n, 1.0) == n
    # a bias makes the imbalance grow like |2q - 1| N
    assert biased_sign_imbalance(4000, 0.6) / 4000 == pytest.approx(0.2, rel=1e-3)


def test_onoff_models_hand_example():
    P0 = torch.tensor([[1, 0, 1, 0], [1, 1, 1, 1]], dtype=torch.bool)
    P1 = torch.tensor([[0, 1, 0, 0], [1, 1, 1, 1]], dtype=torch.bool)
    out = onoff_models(P0, P1)
    # input 0: two off, one on (N = 3); input 1: no flips; pooled off-share 2/3
    assert out["flips per input"] == pytest.approx(1.5)
    assert out["signs at that share"] == pytest.approx(biased_sign_imbalance(3, 2 / 3) / 2)
