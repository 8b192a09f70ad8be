"""The figures that only the lessons exercised draw what their docstrings say: loss curves
(Chapter 12), the 1-D linearization slice (8), the lazy panels (9), the label-noise figure (15),
the gradient bound and the implied constant (13), the path against the region (14) and the
depth figures of Chapter 12. Each test feeds tiny inputs (by hand, or through the helpers the
lessons use) and compares the drawn data with an independent computation."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from overparam import plots  # noqa: E402
from overparam.train import History  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def band_at(ax, k, x):
    """(len(x), 2): the lowest and highest y of the k-th shaded band of ``ax`` at each x."""
    v = ax.collections[k].get_paths()[0].vertices
    return np.array([[v[np.isclose(v[:, 0], xi), 1].min(), v[np.isclose(v[:, 0], xi), 1].max()]
                     for xi in x])


def line_labelled(ax, words):
    """The one line of ``ax`` whose label contains ``words``."""
    found = [ln for ln in ax.lines if words in ln.get_label()]
    assert len(found) == 1, [ln.get_label() for ln in ax.lines]
    return found[0]


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


# --- loss_curves (Chapter 12) ------------------------------------------------------------------
def test_loss_curves_draws_each_history_record_against_its_steps():
    from overparam.deep import azls_data
    from overparam.models import DeepReLU
    from overparam.train import suggested_lr, train

    X, y = azls_data(6, 8, seed=0)
    hists, labels = [], []
    for m in (16, 32):                         # as the lesson: allen_zhu nets, loss and radius
        net = DeepReLU(8, m, 2, parameterization="allen_zhu", seed=0, device="cpu")
        lr = suggested_lr(net, X)["stable"]
        hists.append(train(net, X, y, lr=lr, steps=10, record=("loss", "radius"),
                           record_every=5))
        labels.append(f"L = 2, m = {m}")
    fig = plots.loss_curves(hists, labels, title="GD on the AZLS network")
    ax = fig.axes[0]
    assert len(ax.lines) == 2
    for line, h in zip(ax.lines, hists):
        np.testing.assert_array_equal(line.get_xdata(), [0, 5, 10])
        np.testing.assert_allclose(line.get_ydata(), h.loss)
    assert ax.get_yscale() == "log"
    assert ax.get_ylabel() == "loss" and "step" in ax.get_xlabel()
    assert legend_texts(ax) == labels
    assert ax.get_title() == "GD on the AZLS network"


def test_loss_curves_other_record_on_given_axes_linear_and_without_legend():
    hists = [History([0, 2, 4], {"train_error": np.array([0.5, 0.25, 0.0]) + k},
                     lr=0.1, batch_size=None, loss="square", n=4) for k in (0.0, 1.0)]
    fig0, ax0 = plt.subplots()
    fig = plots.loss_curves(hists, ax=ax0, record="train_error", logy=False)
    assert fig is fig0 and len(fig.axes) == 1
    assert [list(ln.get_ydata()) for ln in ax0.lines] == [[0.5, 0.25, 0.0], [1.5, 1.25, 1.0]]
    assert ax0.get_yscale() == "linear"
    assert ax0.get_ylabel() == "train error"          # the record name, "_" -> " "
    assert ax0.get_legend() is None and ax0.get_title() == ""


# --- linearization_slice (Chapter 8) -----------------------------------------------------------
def _kernel_gd(K, K_test, u0, u0_test, y, lr, steps):
    """GD in function space with a fixed kernel, 1/2-sum loss: the test outputs after ``steps``."""
    u, ut = u0.copy(), u0_test.copy()
    for _ in range(steps):
        r = u - y
        u, ut = u - lr * K @ r, ut - lr * K_test @ r
    return ut


def test_linearization_slice_draws_network_linearization_and_kernel_model():
    from overparam.kernels import deep_ntk, empirical_ntk, lambda_max
    from overparam.linearize import circle_points
    from overparam.models import DeepReLU

    X, t_train = circle_points(5, offset=0.1)                 # the lesson's slice, smaller
    y = torch.sin(2 * t_train) + 0.5 * torch.cos(t_train)
    X_test, t_test = circle_points(24, offset=0.05)
    m, steps = 16, 20
    lr = 1.0 / lambda_max(deep_ntk(X, depth=1))
    fig = plots.linearization_slice(m, X, y, X_test, t_test, t_train=t_train, lr=lr,
                                    steps=steps)
    ax = fig.axes[0]
    init, network, linearized, kernel, points = ax.lines
    for line in (init, network, linearized, kernel):
        np.testing.assert_allclose(line.get_xdata(), t_test.numpy())

    # independently: the same init, plain autograd GD on the 1/2-sum loss, and GD in function
    # space with the empirical NTK at init (the linearized model) and with Theta^1 (m = inf)
    net = DeepReLU(2, m, 1, parameterization="ntk", seed=0, device="cpu")
    yn = y.numpy()
    with torch.no_grad():
        u0, u0_test = net(X).numpy(), net(X_test).numpy()
    np.testing.assert_allclose(init.get_ydata(), u0_test, atol=1e-12)
    f_lin = _kernel_gd(empirical_ntk(net, X).numpy(), empirical_ntk(net, X_test, X).numpy(),
                       u0, u0_test, yn, lr, steps)
    f_inf = _kernel_gd(deep_ntk(X, depth=1).numpy(), deep_ntk(X_test, X, depth=1).numpy(),
                       u0, u0_test, yn, lr, steps)
    params = [getattr(net, k) for k in net.trained_layers()]
    for _ in range(steps):
        loss = 0.5 * ((net(X) - y) ** 2).sum()
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= lr * g
    with torch.no_grad():
        f_net = net(X_test).numpy()
    np.testing.assert_allclose(network.get_ydata(), f_net, atol=1e-8)
    np.testing.assert_allclose(linearized.get_ydata(), f_lin, atol=1e-8)
    np.testing.assert_allclose(kernel.get_ydata(), f_inf, atol=1e-8)
    assert np.abs(f_net - u0_test).max() > 1e-3               # training moved the outputs
    np.testing.assert_allclose(points.get_xdata(), t_train.numpy())
    np.testing.assert_allclose(points.get_ydata(), yn)
    assert f"= {np.abs(f_net - f_lin).max():.2g}" in ax.get_title()
    assert f"= {m}" in ax.get_title()


def test_linearization_slice_without_training_points():
    from overparam.linearize import circle_points

    X, t_train = circle_points(3, offset=0.1)
    X_test, t_test = circle_points(8)
    fig = plots.linearization_slice(4, X, torch.cos(t_train), X_test, t_test, lr=0.1, steps=2)
    assert len(fig.axes[0].lines) == 4
    assert "training points" not in legend_texts(fig.axes[0])


# --- gradient_bound_trajectories and implied_constant_plot (Chapter 13) ------------------------
def test_gradient_bound_trajectories_three_curves_per_seed_and_the_bound():
    from overparam.classification import RunTracker, phi_separated_data, run_classifier

    n, width, phi = 8, 16, 0.4
    X, y = phi_separated_data(n, 5, phi, kind="xor", seed=0, mu=0.5)
    tracks = []
    for s in (0, 1):                                            # as the lesson, two seeds
        tracker = RunTracker(X, y, iters=5)
        run_classifier(X, y, width=width, depth=2, steps=20, seed=s, record=("loss",),
                       record_every=5, callback=tracker)
        tracks.append(tracker.result())
    fig = plots.gradient_bound_trajectories(tracks, n=n, width=width, phi=phi)
    ax = fig.axes[0]
    assert len(ax.lines) == 3 * len(tracks)
    for s, r in enumerate(tracks):
        total, last, bound = ax.lines[3 * s: 3 * s + 3]
        for line in (total, last, bound):
            np.testing.assert_allclose(line.get_xdata(), r["loss"])
        np.testing.assert_allclose(total.get_ydata(), r["all"])
        np.testing.assert_allclose(last.get_ydata(), r["last"])
        # Theorem 5.3(vii) at C1 = 1: (m phi / n^5) (sum_i l')^2
        np.testing.assert_allclose(bound.get_ydata(),
                                   width * phi * r["dloss_sum"] ** 2 / n ** 5, rtol=1e-12)
        assert bound.get_linestyle() == "--"
        assert np.all(r["last"] <= r["all"] * (1 + 1e-12))
    assert ax.get_xscale() == ax.get_yscale() == "log"
    labels = legend_texts(ax)                                   # one entry per quantity
    assert len(labels) == 3
    assert "all layers" in labels[0] and "last hidden layer" in labels[1]
    assert "C_1 = 1" in labels[2]


def test_implied_constant_plot_draws_kappa_n3_over_phi_with_seed_bands():
    rng = np.random.default_rng(0)
    phis, ns, n, phi, width = [0.1, 0.2, 0.4], [8, 16, 32], 16, 0.2, 64
    kappa_phi = np.exp(rng.normal(-6.0, 1.0, (4, 3)))          # (seeds, len(phis))
    kappa_n = np.exp(rng.normal(-6.0, 1.0, (4, 3)))            # (seeds, len(ns))
    fig = plots.implied_constant_plot(phis, kappa_phi, ns, kappa_n, width=width, n=n, phi=phi)
    a1, a2 = fig.axes
    C_phi = kappa_phi * n ** 3 / np.array(phis)                 # C1 = kappa n^3 / phi
    C_n = kappa_n * np.array(ns, float) ** 3 / phi
    for ax, x, C in ((a1, phis, C_phi), (a2, ns, C_n)):
        line, = ax.lines
        np.testing.assert_allclose(line.get_xdata(), x)
        np.testing.assert_allclose(line.get_ydata(), np.median(C, axis=0), rtol=1e-12)
        np.testing.assert_allclose(band_at(ax, 0, x), np.stack([C.min(0), C.max(0)], 1),
                                   rtol=1e-12)
        assert ax.get_xscale() == ax.get_yscale() == "log"
        np.testing.assert_allclose(ax.get_xticks(), x)
        lo, hi = ax.get_ylim()
        assert lo <= C.min() and C.max() <= hi                 # the band is in view
        assert "C_1" in ax.get_ylabel()
    assert "phi" in a1.get_xlabel() and "n" in a2.get_xlabel()
    assert f"m = {width}" in a1.get_title() and f"n = {n}" in a1.get_title()
    assert f"\\phi = {phi:g}" in a2.get_title()


def test_implied_constant_plot_labels_two_y_ticks_even_in_a_narrow_range():
    # every implied C1 between 1.1 and 1.8: no 1, 2, 3, 5, 7 x 10^k lies in the data's range,
    # so the axis is widened to the two nearest and both are labelled
    kappa = np.array([[1.1, 1.3, 1.5], [1.4, 1.6, 1.8]]) * 0.2 / 16 ** 3     # C1 = kappa n^3/phi
    fig = plots.implied_constant_plot([0.2] * 3, kappa, [16] * 3, kappa, width=64, n=16, phi=0.2)
    for ax in fig.axes:
        lo, hi = ax.get_ylim()
        shown = [t for t in ax.get_yticks() if lo <= t <= hi]
        assert len(shown) >= 2 and all(t.get_text() for t in ax.get_yticklabels())
        assert lo <= 1.1 * 0.2 / 0.2 and 1.8 <= hi                 # the data stay in view


# --- path_vs_region (Chapter 14) ---------------------------------------------------------------
def test_path_vs_region_draws_the_bounds_and_the_measured_band():
    from overparam.classification import perturbation_level, theorem_path_bound

    n, depth, phi = 8, 2, 0.2
    tw = np.logspace(1, 60, 40)
    tau_l = [perturbation_level(n, depth, phi, width=w).lemmas for w in tw]
    tau_p = [perturbation_level(n, depth, phi, width=w).proofs for w in tw]
    bound = theorem_path_bound(n, depth, phi, width=tw, eps=0.05, loss0=float(np.log(2)))
    widths = [16, 32, 64]
    rng = np.random.default_rng(1)
    measured = np.exp(rng.normal(0.0, 0.3, (3, 3)))             # (seeds, len(widths))
    own = measured * 5.0
    fig = plots.path_vs_region(widths, measured, theory_widths=tw, tau_lemmas=tau_l,
                               tau_proofs=tau_p, path_bound=bound, run_bound=own)
    ax = fig.axes[0]
    assert len(ax.lines) == 5 and len(ax.collections) == 2
    for words, values in (("path-length bound", bound), ("Theorem 5.3", tau_l),
                          ("(proofs)", tau_p)):
        line = line_labelled(ax, words)
        np.testing.assert_allclose(line.get_xdata(), tw)
        np.testing.assert_allclose(line.get_ydata(), values)
    # the label's formula, constants 1: tau = n^-9 L^-17 phi^3
    np.testing.assert_allclose(line_labelled(ax, "(proofs)").get_ydata(),
                               n ** -9.0 * depth ** -17.0 * phi ** 3, rtol=1e-12)
    meas = line_labelled(ax, "measured")
    np.testing.assert_allclose(meas.get_xdata(), widths)
    np.testing.assert_allclose(meas.get_ydata(), np.median(measured, axis=0))
    run = line_labelled(ax, "Lemma 5.5")
    np.testing.assert_allclose(run.get_ydata(), np.median(own, axis=0))
    bands = [band_at(ax, k, widths) for k in (0, 1)]            # run_bound first, then measured
    np.testing.assert_allclose(bands[0], np.stack([own.min(0), own.max(0)], 1))
    np.testing.assert_allclose(bands[1], np.stack([measured.min(0), measured.max(0)], 1))
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert "width" in ax.get_xlabel()


def test_path_vs_region_without_run_bound():
    tw = np.array([10.0, 100.0, 1000.0])
    fig = plots.path_vs_region([10, 100], np.ones((2, 2)), theory_widths=tw,
                               tau_lemmas=[1e-3] * 3, tau_proofs=[1e-9] * 3,
                               path_bound=[10.0, 3.0, 1.0])
    ax = fig.axes[0]
    assert len(ax.lines) == 4 and len(ax.collections) == 1
    assert not any("Lemma 5.5" in t for t in legend_texts(ax))


# --- Chapter 12: depth kernel, depth generalization ------------------
@pytest.fixture(scope="module")
def azls():
    from overparam.deep import azls_data
    return azls_data(6, 8, seed=0)


def test_depth_kernel_plot_draws_the_summary_and_its_limits(azls):
    from overparam.deep import depth_kernel_summary

    X, _ = azls
    n, depths = X.shape[0], [1, 4, 16, 64]
    summ = depth_kernel_summary(X, depths)
    fig = plots.depth_kernel_plot(depths, summ, n)
    left, right = fig.axes
    np.testing.assert_allclose(band_at(left, 0, depths),
                               np.stack([summ["off_min"], summ["off_max"]], 1))
    quarter, = left.lines
    assert list(quarter.get_ydata()) == [0.25, 0.25]
    assert left.get_xscale() == "log"
    data = right.lines[:3]
    for line, key in zip(data, ("lam_min", "lam_max", "cond")):
        np.testing.assert_allclose(line.get_xdata(), depths)
        np.testing.assert_allclose(line.get_ydata(), summ[key])
    # the dashed limits 3/4, 3/4 + n/4, 1 + n/3, each in the colour of its own curve
    limits = right.lines[3:]
    assert [ln.get_ydata()[0] for ln in limits] == pytest.approx([0.75, 0.75 + n / 4, 1 + n / 3])
    assert all(ln.get_linestyle() == "--" for ln in limits)
    for line, lim in zip(data, limits):
        assert matplotlib.colors.same_color(line.get_color(), lim.get_color())
    assert right.get_xscale() == right.get_yscale() == "log"
    # the limit of the condition number is the ratio of the two eigenvalue limits
    assert (0.75 + n / 4) / 0.75 == pytest.approx(1 + n / 3)
    assert "depth" in left.get_xlabel() and "depth" in right.get_xlabel()


def test_depth_generalization_plot_draws_medians_bands_and_the_constant():
    from overparam.deep import azls_data, depth_regression

    depths = [1, 4, 16]
    res = [depth_regression(Xg[:16], yg[:16], Xg[16:], yg[16:], depths)
           for Xg, yg in (azls_data(24, 6, seed=s, labels="teacher") for s in range(3))]
    mse = np.array([r["mse"] for r in res]).T                  # (depths, data sets)
    spread = np.array([r["std"] for r in res]).T
    const = np.array([r["constant"] for r in res])
    fig = plots.depth_generalization_plot(depths, mse, const, spread)
    ax = fig.axes[0]
    err, std, constant = ax.lines
    for k, (line, A) in enumerate(((err, mse), (std, spread))):
        np.testing.assert_allclose(line.get_xdata(), depths)
        np.testing.assert_allclose(line.get_ydata(), np.median(A, axis=1))
        np.testing.assert_allclose(band_at(ax, k, depths), np.stack([A.min(1), A.max(1)], 1))
    assert list(constant.get_ydata()) == pytest.approx([np.median(const)] * 2)
    assert "constant" in constant.get_label() and "test error" in err.get_label()
    assert ax.get_xscale() == "log"

