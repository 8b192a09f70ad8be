"""Chapter 15's Fig. 15.2 options (overparam.generalization.label_noise_figure): with
``error_left=False`` the error on randomized test labels is drawn on the right panel only, and
``legend_size`` sets both legends' font size."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402

from overparam.generalization import digits_two_class, label_noise_figure, label_noise_grid  # noqa: E402

CORRUPTED = "error on randomized test labels"


@pytest.fixture(scope="module")
def grid():
    X, y, Xt, yt = digits_two_class((3, 5), n_train=40, n_test=60, seed=0)
    return label_noise_grid(X, y, Xt, yt, [0.0, 1.0], [0], m=20, steps=10)


def labels(ax):
    return {t.get_text() for t in ax.get_legend().get_texts()}


def test_default_draws_the_error_on_both_panels(grid):
    fig = label_noise_figure(grid)
    assert all(CORRUPTED in labels(ax) for ax in fig.axes)
    plt.close(fig)


def test_error_left_false_keeps_it_on_the_right_only(grid):
    fig = label_noise_figure(grid, error_left=False, legend_size="small")
    a1, a2 = fig.axes
    assert CORRUPTED not in labels(a1) and CORRUPTED in labels(a2)
    assert all(line.get_label() != CORRUPTED for line in a1.lines)
    size = FontProperties(size="small").get_size_in_points()
    for ax in fig.axes:
        assert all(t.get_fontsize() == size for t in ax.get_legend().get_texts())
    plt.close(fig)
