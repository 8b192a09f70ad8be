"""Every curve and band that a figure of overparam.plots draws is named in its legend (all
chapters). A figure whose second curve lost its legend entry still draws, so only a test of the
legend catches it: lessons 9 and 15 picked band_fit's entries by position, and when band_fit
began to list the median before the band, their second curve's label fell out of the legend.

The rule, for every public drawing function: on every axes that shows two or more curves or
bands, each Line2D and each filled band (PolyCollection) has a label that appears in a legend
of the figure (one legend may serve several panels), and no legend lists a label twice. A lone
curve on an axes is named by the axis label instead."""
import inspect
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from overparam import plots  # noqa: E402
from overparam.train import History  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


RNG = np.random.default_rng(0)
X4 = np.array([1.0, 2.0, 4.0, 8.0])
Y = X4[:, None] ** -0.5 * np.exp(RNG.normal(0.0, 0.2, (4, 5)))        # (len(x), seeds)


def _history(loss, error):
    return History([0, 1, 2], {"loss": loss, "error": error}, lr=0.1, batch_size=None,
                   loss="logistic", n=4)


H1, H2 = _history([1.0, 0.5, 0.2], [0.5, 0.2, 0.0]), _history([1.0, 0.6, 0.3], [0.5, 0.0, 0.0])


def _sphere():
    from overparam.data import sphere_data
    return sphere_data(6, 3, seed=0)


def _sweep_result():
    return SimpleNamespace(widths=[2, 8], seeds=[0, 1, 2], steps=np.arange(4),
                           loss=np.exp(RNG.normal(0.0, 0.3, (2, 3, 4))))


def _figure1_result():
    ones = np.exp(RNG.normal(0.0, 0.1, (2, 3)))
    return SimpleNamespace(widths=[10, 100], steps=np.arange(3), lambda_min_steps=np.arange(3),
                           lambda0=0.5, loss=ones, flips=ones, radius=ones, lambda_min=ones)


def _tracks():
    return [dict(loss=np.array([1.0, 0.5, 0.2]), all=np.array([1.0, 0.5, 0.3]) * s,
                 last=np.array([0.5, 0.2, 0.1]) * s, dloss_sum=np.array([-1.0, -0.5, -0.2]))
            for s in (1.0, 1.5)]


def _two_band_fits():
    fig, ax = plt.subplots()
    plots.band_fit(X4, Y, ax=ax, fit=False, label="first")
    plots.band_fit(X4, 2 * Y, ax=ax, fit=False, label="second", color="C1")
    return fig


def _linearization_slice():
    from overparam.linearize import circle_points
    X, t = circle_points(3, offset=0.1)
    X_test, t_test = circle_points(8)
    return plots.linearization_slice(4, X, torch.cos(t), X_test, t_test, t_train=t, lr=0.1,
                                     steps=2)


TW = np.logspace(1, 6, 6)
SKELETON = SimpleNamespace(crossing_width=lambda: 1e4, path_bound=lambda m: 1 / np.sqrt(m),
                           validity_radius=lambda m: 1e-3 + 0 * m)
DEPTH_SUMMARY = dict(off_min=[0.2] * 3, off_max=[0.3] * 3, lam_min=[1.0] * 3,
                     lam_max=[2.0] * 3, cond=[2.0] * 3)

# One call per public drawing function (several where an option adds curves). Small inputs:
# the legend does not depend on the numbers.
CALLS = {
    "loss_curves": lambda: plots.loss_curves([H1, H2], ["GD", "SGD"]),
    "sweep_loss_curves": lambda: plots.sweep_loss_curves(_sweep_result()),
    "path_loss": lambda: plots.path_loss([0.0, 0.5, 1.0], [1.0, 3.0, 2.0]),
    "gd_step_check": lambda: plots.gd_step_check(
        __import__("overparam.models", fromlist=["TwoLayerReLU"]).TwoLayerReLU(
            3, 20, seed=0, device="cpu"), *_sphere(), 1e-2),
    "lambda0_vs_angle": lambda: plots.lambda0_vs_angle(6, 3, 10.0),
    "loss_and_error": lambda: plots.loss_and_error([H1, H2], ["GD", "SGD"]),
    "figure1": lambda: plots.figure1(_figure1_result()),
    "figure1 (loss and lambda_min panels)": lambda: plots.figure1(
        _figure1_result(), panels=("loss", "lambda_min")),
    "step_size_demo": lambda: plots.step_size_demo(*_sphere(), lr_scale=0.5, width=50, steps=5),
    "both_layers_demo": lambda: plots.both_layers_demo(*_sphere(), width=50, lr=0.1, steps=5),
    "linearization_slice": _linearization_slice,
    "norm_profile": lambda: plots.norm_profile(3, m=16, n=3),
    "sign_changes_per_layer": lambda: plots.sign_changes_per_layer(0.1, 2, m=16, n=3),
    "band_fit": lambda: plots.band_fit(X4, Y)[0],
    "band_fit (two on one axes)": _two_band_fits,
    "loss_error_band": lambda: plots.loss_error_band({"GD": [H1, H2], "SGD": [H2, H1]}),
    "gradient_bound_trajectories": lambda: plots.gradient_bound_trajectories(
        _tracks(), n=4, width=8, phi=0.1),
    "implied_constant_plot": lambda: plots.implied_constant_plot(
        [0.1, 0.2, 0.4, 0.8], Y.T, [8, 16, 32, 64], Y.T, width=8, n=8, phi=0.2),
    "path_vs_region": lambda: plots.path_vs_region(
        [10, 100, 1000, 10000], Y.T, theory_widths=TW, tau_lemmas=TW, tau_proofs=TW,
        path_bound=TW, run_bound=2 * Y.T),
    "skeleton_plot": lambda: plots.skeleton_plot(SKELETON, [10, 100, 1000, 10000], Y),
    "depth_kernel_plot": lambda: plots.depth_kernel_plot([1, 2, 4], DEPTH_SUMMARY, 4),
    "depth_generalization_plot": lambda: plots.depth_generalization_plot(
        [1, 2, 4, 8], Y, [1.0, 1.1], 2 * Y),
    "batch_size_plot": lambda: plots.batch_size_plot(
        [1, 2, 4, 8], dict(iterations=10 * Y, distance=Y)),
}

# Public functions of plots that are not figures with a legend of their own, and why.
NOT_FIGURES = {
    "new_axes": "makes axes, draws nothing",
    "legend": "the legend helper itself (tested below)",
    "seed_slopes": "computes slopes, draws nothing",
    "gram_vs_limit": "heatmaps, no curves",
    "seed_band": "a building block whose caller draws the legend (tested below)",
    "median_band": "a building block whose caller draws the legend (tested below)",
}


def _unnamed(fig):
    """(axes index, artist type, label) of every curve or band not named in a legend."""
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    legends += list(fig.legends)
    named = {t.get_text() for lg in legends for t in lg.get_texts()}
    out = []
    for k, ax in enumerate(fig.axes):
        drawn = list(ax.lines) + [c for c in ax.collections if isinstance(c, PolyCollection)]
        if len(drawn) < 2:
            continue
        for a in drawn:
            label = a.get_label()
            if not label or label.startswith("_") or label not in named:
                out.append((k, type(a).__name__, label))
    return out


def test_every_public_drawing_function_is_checked():
    public = {name for name, f in inspect.getmembers(plots, inspect.isfunction)
              if not name.startswith("_") and f.__module__ == plots.__name__}
    checked = {name.split(" (")[0] for name in CALLS}
    assert public - checked - set(NOT_FIGURES) == set(), "add the new figure to CALLS"
    assert (checked | set(NOT_FIGURES)) - public == set(), "a listed function no longer exists"


@pytest.mark.parametrize("name", list(CALLS))
def test_every_curve_and_band_is_named_in_the_legend(name):
    fig = CALLS[name]()
    assert _unnamed(fig) == []
    for ax in fig.axes:
        if ax.get_legend() is not None:
            texts = [t.get_text() for t in ax.get_legend().get_texts()]
            assert len(texts) == len(set(texts)), texts


def test_two_band_fits_on_one_axes_keep_both_medians_in_the_legend():
    # Lessons 9 (cell 7) and 15 (cell 9) draw two band_fit curves on one axes and keep one
    # "min-max" entry by picking the legend handles (0, 1, 3): the band must come before its
    # median, or the second curve's label is the one left out.
    fig = _two_band_fits()
    ax = fig.axes[0]
    handles, names = ax.get_legend_handles_labels()
    assert names == ["min-max over 5 seeds", "first", "min-max over 5 seeds", "second"]
    assert isinstance(handles[0], PolyCollection) and isinstance(handles[1], Line2D)
    assert [names[i] for i in (0, 1, 3)] == ["min-max over 5 seeds", "first", "second"]
    # band_fit's own legend lists the band once and both medians
    assert [t.get_text() for t in ax.get_legend().get_texts()] == names[:2] + ["second"]
    # each band has its median's colour, the second curve's its own
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    for band, line in zip(bands, ax.lines):
        assert matplotlib.colors.same_color(band.get_facecolor()[0][:3], line.get_color())
    assert not matplotlib.colors.same_color(ax.lines[0].get_color(), ax.lines[1].get_color())


def test_seed_band_names_its_band_only_when_asked_and_takes_the_next_colour():
    fig, ax = plt.subplots()
    first = plots.seed_band(ax, X4, Y.T, label="a")                     # colour from the cycle
    second = plots.seed_band(ax, X4, 2 * Y.T, label="b", band_label="b")
    assert first.get_color() != second.get_color()
    b1, b2 = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert b1.get_label().startswith("_") and b2.get_label() == "b"
    assert matplotlib.colors.same_color(b1.get_facecolor()[0][:3], first.get_color())
    assert matplotlib.colors.same_color(b2.get_facecolor()[0][:3], second.get_color())
    lg = plots.legend(ax)
    assert [t.get_text() for t in lg.get_texts()] == ["a", "b"]
    # "b" is one entry drawing the band and the line together
    assert len(lg.legend_handles) == 2


def test_median_band_leaves_the_legend_to_the_lesson():
    # lessons 10 and 11 call median_band for several curves, then ax.legend(): one entry each
    fig, ax = plt.subplots()
    plots.median_band(X4, Y.T, ax=ax, label="random")
    plots.median_band(X4, 2 * Y.T, ax=ax, label="adversarial")
    ax.legend()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["random", "adversarial"]


def test_legend_merges_repeated_labels_and_skips_unlabelled_axes():
    fig, ax = plt.subplots()
    assert plots.legend(ax) is None
    for s in range(3):
        ax.plot([0, 1], [s, s + 1], color="C0", label="m = 8")
    ax.plot([0, 1], [1, 0], color="C1", label="m = 16")
    ax.plot([0, 1], [0, 0], color="k", label="_reference")
    lg = plots.legend(ax, fontsize="small")
    assert [t.get_text() for t in lg.get_texts()] == ["m = 8", "m = 16"]
