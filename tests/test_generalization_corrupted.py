"""Tests of Chapter 15's corrupted-label measurement (overparam.generalization): Arora et al.'s
Theorem 5.1 bounds the error on labels randomized like the training labels, which
``label_noise_run`` measures beside the error on the true labels."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

from overparam.generalization import (TEST_SEED_OFFSET, corrupted_error_expected,  # noqa: E402
                                      digits_two_class, label_noise_figure, label_noise_grid,
                                      label_noise_run, randomize_labels)


@pytest.fixture(scope="module")
def digits():
    return digits_two_class((3, 5), n_train=60, n_test=200, seed=0)


def test_expected_corrupted_error_matches_monte_carlo_over_randomizations():
    # fixed predictions with a known error on the true labels; average the error on labels
    # randomized by randomize_labels over many seeds and compare with (1 - p) e + p / 2
    n = 400
    y = torch.where(torch.arange(n) % 3 == 0, -1.0, 1.0).double()
    pred = y.clone()
    pred[:60] *= -1                                    # error on the true labels: 60/400
    e = float((pred * y <= 0).double().mean())
    for p in (0.25, 0.5, 1.0):
        errs = [float((pred * randomize_labels(y, p, seed=s) <= 0).double().mean())
                for s in range(400)]
        replaced = round(p * n) / n
        sd = math.sqrt(0.25 * replaced / n / 400)      # std of the mean of 400 draws
        assert abs(np.mean(errs) - corrupted_error_expected(e, replaced)) < 5 * sd + 1e-3
    assert corrupted_error_expected(0.0, 0.5) == 0.25 and corrupted_error_expected(0.3, 0) == 0.3


def test_corrupted_test_labels_use_their_own_seed_and_fraction(digits):
    X, y, Xt, yt = digits
    r0 = label_noise_run(X, y, Xt, yt, fraction=0.0, m=50, steps=50, seed=2)
    assert r0.test_error_corrupted == r0.test_error        # nothing randomized
    r = label_noise_run(X, y, Xt, yt, fraction=0.5, m=50, steps=50, seed=2)
    # the same run again, with the test labels randomized by hand as documented
    from overparam.models import TwoLayerReLU
    from overparam.train import train
    from overparam.kernels import h_infinity, lambda_max
    net = TwoLayerReLU(X.shape[1], 50, seed=2, dtype=X.dtype, device="cpu")
    train(net, X, randomize_labels(y, 0.5, seed=2), lr=1 / lambda_max(h_infinity(X)), steps=50,
          record=("loss",), record_every=50)
    with torch.no_grad():
        ut = net(Xt)
    yt_noisy = randomize_labels(yt, 0.5, seed=2 + TEST_SEED_OFFSET)
    assert r.test_error_corrupted == float((yt_noisy * ut <= 0).double().mean())
    assert r.test_error == float((yt * ut <= 0).double().mean())
    assert not torch.equal(yt_noisy, randomize_labels(yt, 0.5, seed=2))   # not the train stream


def test_all_random_test_labels_are_missed_about_half_the_time(digits):
    X, y, Xt, yt = digits
    errs = [label_noise_run(X, y, Xt, yt, fraction=1.0, m=50, steps=50, seed=s)
            .test_error_corrupted for s in range(3)]
    assert abs(np.mean(errs) - 0.5) < 5 * math.sqrt(0.25 / (3 * len(yt)))


def test_grid_arrays_and_the_bound_first_term(digits):
    X, y, Xt, yt = digits
    g = label_noise_grid(X, y, Xt, yt, [0.0, 1.0], [0, 1], m=30, steps=20)
    assert g.get("complexity").shape == (2, 2)
    np.testing.assert_allclose(g.get("bound_first_term"), math.sqrt(2) * g.get("complexity"))
    assert g.get("test_error")[1, 0] == g.runs[1][0].test_error


def test_figure_names_every_curve_and_band(digits):
    X, y, Xt, yt = digits
    g = label_noise_grid(X, y, Xt, yt, [0.0, 0.5, 1.0], [0, 1], m=30, steps=20)
    fig = label_noise_figure(g, current=g.runs[1][0])
    for ax in fig.axes:
        named = {t.get_text() for t in ax.get_legend().get_texts()}
        drawn = list(ax.lines) + [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert all(a.get_label() in named for a in drawn)
        texts = [t.get_text() for t in ax.get_legend().get_texts()]
        assert len(texts) == len(set(texts))
    a1, a2 = fig.axes
    np.testing.assert_allclose(a2.lines[-2].get_ydata(), [0.0, 0.25, 0.5])   # the floor p/2
    plt.close(fig)
