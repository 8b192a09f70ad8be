"""Tests of the seed-band helpers of overparam.plots (Chapters 6-9 and 15): per-seed slopes and
the median-with-band figure."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from overparam import plots  # noqa: E402


def test_seed_slopes_recover_known_power_laws():
    x = np.array([10.0, 100.0, 1000.0, 10000.0])
    exponents = np.array([-0.5, -0.45, -0.6, 0.0, 1.0])
    Y = 3.0 * x[:, None] ** exponents[None, :]            # one exact power law per seed
    np.testing.assert_allclose(plots.seed_slopes(x, Y), exponents, atol=1e-12)


def test_seed_slopes_on_linear_axes():
    x = np.linspace(0.0, 1.0, 5)
    Y = np.stack([2.0 * x + 1.0, -x], axis=1)
    np.testing.assert_allclose(plots.seed_slopes(x, Y, logx=False, logy=False), [2.0, -1.0],
                               atol=1e-12)


def test_seed_slopes_rejects_a_wrong_shape():
    with pytest.raises(ValueError, match="len\\(x\\), seeds"):
        plots.seed_slopes([1.0, 2.0, 3.0], np.ones((4, 2)))


def test_band_fit_draws_median_and_min_max_band():
    x = np.array([1.0, 10.0, 100.0])
    rng = np.random.default_rng(0)
    Y = x[:, None] ** -0.5 * np.exp(rng.normal(0.0, 0.1, (3, 5)))
    fig, slopes = plots.band_fit(x, Y)
    ax = fig.axes[0]
    np.testing.assert_allclose(slopes, plots.seed_slopes(x, Y))
    median_line = [ln for ln in ax.lines if ln.get_label() == "median over seeds"][0]
    np.testing.assert_allclose(median_line.get_ydata(), np.median(Y, axis=1))
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(Y.min()) and band.max() == pytest.approx(Y.max())
    plt.close(fig)


def test_band_fit_without_fit_returns_no_slopes():
    fig, slopes = plots.band_fit([0.0, 0.5, 1.0], np.ones((3, 2)), fit=False, logx=False,
                                 logy=False)
    assert slopes.size == 0
    plt.close(fig)
