"""The figures of Chapters 1-4 draw what they claim (smoke tests plus one property each)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from overparam import plots  # noqa: E402
from overparam.data import sphere_data  # noqa: E402
from overparam.models import TwoLayerReLU  # noqa: E402
from overparam.sweep import sweep  # noqa: E402


def test_sweep_loss_curves_one_line_per_width_and_seed():
    X, y = sphere_data(8, 3, seed=0)
    res = sweep([2, 16], [0, 1], X, y, lr=0.2, steps=5, device="cpu")
    fig = plots.sweep_loss_curves(res)
    assert len(fig.axes[0].lines) == 4
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), res.loss[0, 0])
    plt.close(fig)


def test_path_loss_draws_the_chord_between_the_ends():
    fig = plots.path_loss([0, 0.5, 1], [1.0, 5.0, 2.0])
    chord = fig.axes[0].lines[1]
    assert list(chord.get_ydata()) == [1.0, 2.0]
    plt.close(fig)


def test_gd_step_check_and_gram_vs_limit_draw():
    X, y = sphere_data(6, 3, seed=0)
    net = TwoLayerReLU(3, 20, seed=0, device="cpu")
    fig = plots.gd_step_check(net, X, y, 1e-3)
    assert "relative error" in fig.axes[0].get_title()
    plt.close(fig)
    # the dots are the error actual - predicted (eq. (7)), not the actual change
    from overparam.landscape import gd_step_prediction
    actual, predicted, _ = gd_step_prediction(net, X, y, 0.5)
    fig = plots.gd_step_check(net, X, y, 0.5)
    dots = fig.axes[0].lines[1]
    np.testing.assert_allclose(dots.get_ydata(), (actual - predicted).numpy(), atol=1e-12)
    plt.close(fig)
    fig = plots.gram_vs_limit(net, X)
    assert len(fig.axes) == 5                  # three heatmaps and two colour bars
    # the difference panel has its own colour scale (on H^inf's scale it would look blank)
    diff = fig.axes[2].images[0]
    assert diff.get_clim()[1] == np.abs(diff.get_array()).max() < fig.axes[1].images[0].get_clim()[1]
    plt.close(fig)


def test_lambda0_vs_angle_marks_the_angle_or_explains_the_error():
    fig = plots.lambda0_vs_angle(6, 3, 10.0)
    assert len(fig.axes[0].lines) == 2
    plt.close(fig)
    fig = plots.lambda0_vs_angle(6, 3, 0.0)
    assert "parallel" in fig.axes[0].texts[0].get_text()
    plt.close(fig)
