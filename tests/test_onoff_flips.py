"""Chapter 9's on/off flip counts (overparam.flips) against brute force and limits."""
import itertools
import math

import pytest
import torch

from overparam.flips import onoff_summary, random_sign_imbalance


@pytest.mark.parametrize("n", range(0, 11))
def test_random_sign_imbalance_brute_force(n):
    signs = list(itertools.product((-1, 1), repeat=n))
    exact = sum(abs(sum(s)) for s in signs) / len(signs)
    assert random_sign_imbalance(n) == pytest.approx(exact, rel=1e-12, abs=1e-15)


def test_random_sign_imbalance_large_n_limit():
    for n in (400, 1600, 6400):
        assert random_sign_imbalance(n) / math.sqrt(2 * n / math.pi) == pytest.approx(1, abs=2e-3)


def test_random_sign_imbalance_rejects_negative():
    with pytest.raises(ValueError):
        random_sign_imbalance(-1)


def test_onoff_summary_hand_example():
    # two inputs, m = 4 (pairs (0, 2) and (1, 3))
    P0 = torch.tensor([[1, 0, 1, 0], [1, 1, 1, 1]], dtype=torch.bool)
    P1 = torch.tensor([[0, 0, 1, 1], [0, 1, 0, 1]], dtype=torch.bool)
    s = onoff_summary(P0, P1)
    # input 0: neuron 0 off, neuron 3 on -> on - off = 0, N = 2; input 1: neurons 0, 2 off -> -2
    assert s["pairs both flipped"] == 1 and s["pairs one flipped"] == 2
    assert s["mean (#on - #off)"] == pytest.approx(-1.0)
    assert s["mean |#on - #off|"] == pytest.approx(1.0)
    assert s["random signs"] == pytest.approx(1.0)        # E|S_2| = 1 for both inputs
    assert s["ratio"] == pytest.approx(1.0)
    assert s["share of off-flips"] == pytest.approx(0.75)
