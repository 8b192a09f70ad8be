"""Tests of overparam.deep (Chapters 10-12), of DeepReLU's init_variance option and of
theory.allen_zhu_deep. Small sizes; every expected value comes from an independent formula,
a limit or a property, not from the code's own output."""

import math

import numpy as np
import pytest
import torch

from overparam import deep
from overparam.kernels import empirical_ntk
from overparam.models import DeepReLU
from overparam.theory import allen_zhu_deep
from overparam.train import suggested_lr, train


def az(m=64, depth=3, d=6, seed=0, **kw):
    return DeepReLU(d, m, depth, parameterization="allen_zhu", seed=seed, device="cpu", **kw)


def test_azls_data_has_unit_norm_and_bias_coordinate():
    X, y = deep.azls_data(7, 5, seed=1)
    assert X.shape == (7, 5) and y.shape == (7,)
    torch.testing.assert_close(X.norm(dim=1), torch.ones(7, dtype=X.dtype))
    torch.testing.assert_close(X[:, -1], torch.full((7,), 2 ** -0.5, dtype=X.dtype))
    with pytest.raises(ValueError, match="d must be"):
        deep.azls_data(3, 2)


def test_init_variance_rescales_the_same_draws_and_keeps_the_output_layer():
    ref, new = az(m=32), az(m=32, init_variance=1.0 / 32)
    for name in ["A", "W1", "W2", "W3"]:
        torch.testing.assert_close(getattr(new, name), getattr(ref, name) * math.sqrt(0.5))
    torch.testing.assert_close(new.B, ref.B)
    with pytest.raises(ValueError, match="init_variance"):
        DeepReLU(4, 8, 2, parameterization="ntk", init_variance=1.0, device="cpu")
    with pytest.raises(ValueError, match="positive"):
        az(init_variance=-1.0)


def test_hidden_norms_stay_near_one_at_he_init_and_are_exact_on_a_hand_example():
    X, _ = deep.azls_data(5, 6, seed=0)
    N = deep.hidden_norms(az(m=2048, depth=6), X)
    assert N.shape == (7, 5)
    assert float((N - 1).abs().max()) < 0.2          # deviation ~ sqrt(L/m) ~ 0.05
    net = az(m=3, depth=1, d=2)                      # h_0 = relu(A x), h_1 = relu(W_1 h_0)
    x = torch.tensor([[0.6, 0.8]], dtype=torch.float64)
    h0 = torch.relu(x @ net.A.T)
    h1 = torch.relu(h0 @ net.W1.T)
    torch.testing.assert_close(deep.hidden_norms(net, x)[:, 0],
                               torch.stack([h0.norm(), h1.norm()]))


def test_norm_growth_is_exact_on_a_geometric_profile_and_near_c_over_2_at_init():
    r = 1.3
    norms = torch.tensor([[r ** l, 2 * r ** l] for l in range(6)], dtype=torch.float64)
    assert deep.norm_growth(norms) == pytest.approx(r * r)
    X, _ = deep.azls_data(8, 6, seed=0)
    for c in (1.0, 3.0):
        N = deep.hidden_norms(az(m=2048, depth=8, init_variance=c / 2048), X)
        assert deep.norm_growth(N) == pytest.approx(c / 2, rel=0.05)


def test_layer_gradients_match_autograd_of_the_half_sum_loss():
    X, y = deep.azls_data(6, 5, seed=2)
    net = az(m=16, depth=2, d=5)
    F, g = deep.layer_gradients(net, X, y)
    loss = 0.5 * ((net(X) - y) ** 2).sum()
    grads = torch.autograd.grad(loss, [net.W1, net.W2])
    assert F == pytest.approx(float(loss.detach()))
    np.testing.assert_allclose(g, [float(t.norm()) for t in grads], rtol=1e-10)


def test_spectral_norm_agrees_with_the_svd():
    g = torch.Generator().manual_seed(0)
    for D in (torch.randn(40, 40, generator=g, dtype=torch.float64),
              torch.randn(30, 2, generator=g, dtype=torch.float64)
              @ torch.randn(2, 30, generator=g, dtype=torch.float64)):
        assert deep.spectral_norm(D) == pytest.approx(float(torch.linalg.svdvals(D)[0]), rel=1e-3)
    assert deep.spectral_norm(torch.zeros(3, 3, dtype=torch.float64)) == 0.0


def test_perturbations_have_the_asked_spectral_norm_and_flip_signs():
    X, _ = deep.azls_data(4, 6, seed=0)
    net = az(m=128, depth=3)
    assert np.all(deep.sign_changes(net, net, X) == 0)
    D = deep.random_perturbation(net, 0.5, seed=1)
    for W in D.values():
        assert float(torch.linalg.svdvals(W)[0]) == pytest.approx(0.5, rel=2e-3)
    omega = 0.2
    adv = deep.adversarial_perturbation(net, X, omega, layer=2, example=0)
    (name, Wp), = adv.items()
    assert name == "W2" and float(torch.linalg.svdvals(Wp)[0]) <= omega * (1 + 1e-9)
    moved = deep.perturbed(net, adv)
    z0 = net.preactivations(X)[2][0]
    z1 = moved.preactivations(X)[2][0]
    flipped = int(((z0 >= 0) != (z1 >= 0)).sum())
    # the k smallest |z_r| are pushed across zero, with k the largest affordable count
    h = torch.relu(net.preactivations(X)[1][0])
    cost = 1.01 * torch.sqrt(torch.cumsum(torch.sort(z0.abs())[0] ** 2, 0)) / h.norm()
    assert flipped == int((cost <= omega).sum()) > 0
    assert deep.sign_changes(moved, net, X)[1] >= flipped
    assert deep.sign_changes(moved, net, X)[0] == 0          # layer 1 is untouched


def test_semismoothness_gap_is_second_order_when_no_sign_flips():
    X, y = deep.azls_data(5, 6, seed=0)
    net = az(m=64, depth=2)
    gaps = deep.semismoothness_gap(net, X, y, [1e-6, 1e-5], directions=1)
    assert gaps[1] / gaps[0] == pytest.approx(100, rel=0.05)   # Taylor: gap ~ r^2


def test_trajectory_follows_train_and_starts_at_zero_distance():
    X, y = deep.azls_data(5, 6, seed=0)
    a, b = az(m=32, depth=2), az(m=32, depth=2)
    tr = deep.trajectory(a, X, y, lr=0.01, steps=6, every=3)
    hist = train(b, X, y, lr=0.01, steps=6, record=("loss", "grad_norm"), record_every=3)
    np.testing.assert_allclose(tr["step"], [0, 3, 6])
    np.testing.assert_allclose(tr["loss"], hist.loss, rtol=1e-10)
    np.testing.assert_allclose(tr["ratio"], hist.grad_norm ** 2 / hist.loss, rtol=1e-8)
    assert np.all(tr["distance"][0] == 0) and np.all(tr["distance"][-1] > 0)
    assert tr["flips"].shape == (3, 2)


def test_azls_ntk_diagonal_is_depth_and_is_the_limit_of_the_empirical_ntk():
    X, _ = deep.azls_data(5, 6, seed=3)
    K = deep.azls_ntk(X, depth=2)
    # unit inputs: every trained layer contributes Sigma^{k-1}(x,x) prod dot Sigma = 1
    torch.testing.assert_close(torch.diagonal(K), torch.full((5,), 2.0, dtype=K.dtype))
    errs = []
    for m in (256, 2048):
        E = empirical_ntk(az(m=m, depth=2, seed=1), X) / (m / 2)
        errs.append(float((E - K).norm() / K.norm()))
    assert errs[1] < 0.15 and errs[1] < errs[0]


def test_allen_zhu_deep_polynomials():
    X, y = deep.azls_data(6, 5, seed=0)
    b = allen_zhu_deep(X, y, depth=3, eps=1e-2)
    n, L, d = 6, 3, b.delta
    sep = float(torch.cdist(X, X).add(torch.eye(6) * 9).min())
    assert b.separation == pytest.approx(sep)
    assert sep > 1 / 3 and d == pytest.approx(1 / 3)    # delta <= 1/L: lowered to 1/L
    assert allen_zhu_deep(X, y, depth=1).delta == pytest.approx(sep)   # already <= 1/L: kept
    # the smallest m with m >= n^24 L^12 log^5 m / delta^8: equality at the fixed point
    assert b.width == pytest.approx(n**24 * L**12 * math.log(b.width) ** 5 / d**8, rel=1e-9)
    assert b.lr == pytest.approx(d / (n**4 * L**2 * b.width))
    assert b.lr_at(1e4) == pytest.approx(d / (n**4 * L**2 * 1e4))
    assert b.iterations == pytest.approx(n**6 * L**2 / d**2 * math.log(100))
    # T = n^6 L^2 / delta^2 log(1/eps) with delta = 1/L: T grows like L^4 once 1/L < separation
    assert allen_zhu_deep(X, y, depth=6, eps=1e-2).iterations == pytest.approx(16 * b.iterations)
    with pytest.raises(ValueError):
        allen_zhu_deep(X, y, depth=0)


def test_chapter_10_12_plots_draw_what_they_compute():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from overparam import plots

    fig = plots.norm_profile(depth=4, gain=3.0, m=64, n=3)
    lines = fig.axes[0].lines
    assert len(lines) == 4                                   # 3 inputs + the prediction
    # l + 1 ReLU layers up to h_l (A is rescaled too): (gain/2)^{(l+1)/2}
    np.testing.assert_allclose(lines[-1].get_ydata(), 1.5 ** ((np.arange(5) + 1) / 2))
    fig = plots.sign_changes_per_layer(omega=0.1, depth=2, m=32, n=3)
    assert len(fig.axes[0].patches) == 4                     # 2 layers x (random, adversarial)
    plt.close("all")


# --- Chapter 12: the skeleton of the proof, separation, depth, batch size --------------------
def test_skeleton_formulas_and_their_crossing():
    X, y = deep.azls_data(6, 5, seed=0)
    b = allen_zhu_deep(X, y, depth=3, eps=1e-2)
    n, L, d = 6, 3, b.delta
    m = 1e6
    assert b.path_bound(m) == pytest.approx(n**3 * math.log(m) / (d * 1e3))
    assert b.validity_radius(m) == pytest.approx(d**1.5 / (n**4.5 * L**6 * math.log(m) ** 3))
    mc = b.crossing_width()
    # at the crossing both bounds agree, and m = n^15 L^12 log^8 m / delta^5 holds
    assert b.path_bound(mc) == pytest.approx(b.validity_radius(mc), rel=1e-9)
    assert mc == pytest.approx(n**15 * L**12 * math.log(mc) ** 8 / d**5, rel=1e-9)
    # the path bound is outside the ball below the crossing and inside beyond it
    assert b.path_bound(mc / 10) > b.validity_radius(mc / 10)
    assert b.path_bound(mc * 10) < b.validity_radius(mc * 10)
    # the ball hardly depends on m (log^3), the path shrinks like 1/sqrt(m) (up to log m)
    assert b.validity_radius(1e8) / b.validity_radius(1e4) == pytest.approx(0.125)
    assert b.path_bound(1e8) / b.path_bound(1e4) == pytest.approx(2 / 100)
    assert mc < b.width                          # the theorem's width has other conditions too
    with pytest.raises(ValueError, match="width"):
        b.path_bound(1.0)


def test_sgd_theorem_shape_in_the_batch_size():
    X, y = deep.azls_data(8, 5, seed=1)
    b = allen_zhu_deep(X, y, depth=2, eps=1e-3)
    n, L, d, m = 8, 2, b.delta, 1e5
    assert b.sgd_lr_at(m, 4) == pytest.approx(4 * d / (n**5 * L**2 * m * math.log(m) ** 2))
    assert b.sgd_lr_at(m, 8) == pytest.approx(2 * b.sgd_lr_at(m, 4))          # eta ~ b
    assert b.sgd_iterations(2) == pytest.approx(n**7 * L**2 / (2 * d**2) * math.log(1e3))
    assert b.sgd_iterations(1) * 1 == pytest.approx(b.sgd_iterations(8) * 8)   # T b constant
    for bad in (0, 9, 2.0, True):
        with pytest.raises(ValueError, match="batch size"):
            b.sgd_iterations(bad)


def test_representation_distances_by_hand_and_against_the_kernel_limit():
    net = az(m=3, depth=1, d=2)
    X = torch.tensor([[0.6, 0.8], [0.8, 0.6]], dtype=torch.float64)
    h0 = torch.relu(X @ net.A.T)
    h1 = torch.relu(h0 @ net.W1.T)
    D = deep.representation_distances(net, X)
    assert D.shape == (2, 2, 2)
    for layer, h in enumerate((h0, h1)):
        u = h / h.norm(dim=1, keepdim=True)
        assert float(D[layer, 0, 1]) == pytest.approx(float((u[0] - u[1]).norm().detach()))
    # infinite width: one ReLU layer maps the cosine rho to kappa_1(rho) (written out here)
    Xs, _ = deep.azls_data(5, 6, seed=2)
    rho = (Xs @ Xs.T).clamp(-1, 1)
    k1 = (torch.sqrt(1 - rho**2) + (math.pi - torch.arccos(rho)) * rho) / math.pi
    P = deep.predicted_distances(Xs, 3)
    off = ~torch.eye(5, dtype=torch.bool)
    torch.testing.assert_close(P[0][off], torch.sqrt(2 - 2 * k1)[off])
    assert np.all(np.diff(deep.min_offdiagonal(P)) < 0)      # the closest pair gets closer
    M = deep.representation_distances(az(m=4096, depth=2, seed=3), Xs)
    assert float((M - P)[:, off].abs().max()) < 0.05
    with pytest.raises(ValueError, match="layers"):
        deep.predicted_distances(Xs, 0)


def test_separation_decay_is_the_small_distance_law_of_kappa1():
    # two unit vectors at distance D0: iterate the cosine through kappa_1 and compare
    from overparam.kernels import kappa1
    for D0 in (0.02, 0.1):
        rho = torch.tensor(1 - D0**2 / 2, dtype=torch.float64)
        exact = []
        for _ in range(30):
            rho = kappa1(rho)
            exact.append(math.sqrt(2 - 2 * float(rho)))
        approx = deep.separation_decay(D0, np.arange(1, 31))
        np.testing.assert_allclose(approx, exact, rtol=5 * D0)   # error O(D0) relative
    assert deep.separation_decay(0.1, 3 * math.pi / 0.1) == pytest.approx(0.05)
    np.testing.assert_allclose(deep.min_offdiagonal(torch.tensor([[[0.0, 2.0], [3.0, 0.0]]])), [2.0])


def test_path_lengths_bound_the_distance_and_one_step_is_lr_times_gradient():
    X, y = deep.azls_data(5, 6, seed=0)
    r = deep.path_lengths(X, y, widths=[32, 64], depth=2, seeds=[0, 1], steps=20)
    assert r["arc"].shape == (2, 2)
    assert np.all(r["arc"] >= r["distance"] * (1 - 1e-9))   # triangle inequality
    assert np.all(r["loss_ratio"] < 1)
    one = deep.path_lengths(X, y, widths=[32], depth=2, seeds=[0], steps=1)
    net = az(m=32, depth=2, d=6, seed=0)
    _, g = deep.layer_gradients(net, X, y)
    assert one["arc"][0, 0] == pytest.approx(one["lr"][0, 0] * float(np.sqrt((g**2).sum())))
    assert one["distance"][0, 0] == pytest.approx(one["arc"][0, 0] * float(g.max() / np.sqrt((g**2).sum())))


def test_path_lengths_until_a_target_stop_at_the_first_step_below_it():
    X, y = deep.azls_data(5, 6, seed=0)
    r = deep.path_lengths(X, y, widths=[32], depth=2, seeds=[0, 1], steps=500, target=1e-2)
    assert np.all(r["loss_ratio"] <= 1e-2) and np.all(r["steps"] < 500)
    net = az(m=32, depth=2, d=6, seed=1)
    lr = suggested_lr(net, X)["stable"]
    h = train(net, X, y, lr=lr, steps=500, record=("loss", "grad_norm"))
    T = int(np.argmax(h.loss <= 1e-2 * h.loss[0]))          # the first step at the target
    assert r["steps"][0, 1] == T
    assert r["arc"][0, 1] == pytest.approx(lr * float(np.sum(h.grad_norm[:T])))
    with pytest.raises(ValueError, match="target"):
        deep.path_lengths(X, y, widths=[32], depth=2, seeds=[0], steps=5, target=2.0)


def test_bootstrap_slopes_of_independent_seeds():
    x = np.array([1.0, np.e])
    Y = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]) * np.exp(-0.5 * np.log(x))[:, None]
    s = deep.bootstrap_slopes(x, Y, reps=4000, seed=1)
    # two widths: slope = log(median at e) - log(median at 1) = -1/2 + log(c2/c1), c in {1,2,3}
    assert np.all(s >= -0.5 - np.log(3) - 1e-12) and np.all(s <= -0.5 + np.log(3) + 1e-12)
    assert np.median(s) == pytest.approx(-0.5, abs=1e-12)   # symmetric: c1, c2 i.i.d.
    # the median of 3 draws from {1, 2, 3} is 1 or 3 with prob. 7/27 each, 2 with prob. 13/27
    assert np.mean(np.abs(s + 0.5) < 1e-12) == pytest.approx((2 * 7**2 + 13**2) / 27**2, abs=0.03)
    # seeds that agree exactly: every resample gives the exact exponent
    xs = np.array([64.0, 256, 1024])
    np.testing.assert_allclose(deep.bootstrap_slopes(xs, np.outer(xs**-0.5, np.ones(4)),
                                                     reps=50), -0.5)
    with pytest.raises(ValueError, match="shape"):
        deep.bootstrap_slopes(xs, np.ones((2, 4)))
    with pytest.raises(ValueError, match="positive"):
        deep.bootstrap_slopes(xs, -np.ones((3, 4)))


def test_path_length_barely_depends_on_the_step_size():
    # GD with small steps follows the gradient-flow path: halving the step (twice the steps)
    # changes the length little, while the length itself is far from zero
    X, y = deep.azls_data(5, 6, seed=0)
    full = deep.path_lengths(X, y, widths=[64], depth=2, seeds=[0], steps=150)
    half = deep.path_lengths(X, y, widths=[64], depth=2, seeds=[0], steps=300, lr_scale=0.5)
    assert half["lr"][0, 0] == pytest.approx(full["lr"][0, 0] / 2)
    assert half["arc"][0, 0] == pytest.approx(full["arc"][0, 0], rel=0.1)
    assert full["loss_ratio"][0, 0] < 1e-2


def test_batch_size_runs_at_b_equal_n_is_gd_and_counts_examples():
    X, y = deep.azls_data(4, 6, seed=0)
    r = deep.batch_size_runs(X, y, m=32, depth=2, batches=[1, 4], seeds=[0, 1], lr_full=0.01,
                             target=0.3, max_steps=3000)
    net = az(m=32, depth=2, d=6, seed=1)
    F0 = float(0.5 * ((net(X) - y) ** 2).sum().detach())
    h = train(net, X, y, lr=0.01, steps=3000, record=("loss",), until={"loss": 0.3 * F0})
    assert r["iterations"][1, 1] == h.steps[-1] and h.loss[-1] <= 0.3 * F0 < h.loss[-2]
    np.testing.assert_allclose(r["examples"], r["iterations"] * np.array([[1], [4]]))
    net = az(m=32, depth=2, d=6, seed=0)                 # b = 1: step lr_full / n, seeded batches
    F0 = float(0.5 * ((net(X) - y) ** 2).sum().detach())
    h = train(net, X, y, lr=0.01 / 4, steps=3000, batch_size=1, record=("loss",),
              until={"loss": 0.3 * F0}, seed=0)
    assert r["iterations"][0, 0] == h.steps[-1]
    assert np.all(r["distance"] > 0)
    with pytest.raises(ValueError, match="batch sizes"):
        deep.batch_size_runs(X, y, m=8, depth=1, batches=[5], seeds=[0], lr_full=0.01)


def test_depth_kernel_summary_at_depth_one_and_its_deep_limit():
    from overparam.kernels import two_layer_ntk
    X, _ = deep.azls_data(6, 5, seed=4)
    s = deep.depth_kernel_summary(X, [1, 2048])
    K1 = 2 * two_layer_ntk(X) / 2                      # Theta^1 = 2 (H + G), divided by L + 1
    ev = torch.linalg.eigvalsh(K1)
    assert s["lam_min"][0] == pytest.approx(float(ev[0]))
    assert s["cond"][0] == pytest.approx(float(ev[-1] / ev[0]))
    # Theta^L/(L+1) -> (3/4) I + (1/4) 1 1^T: eigenvalues 3/4 and 3/4 + n/4
    assert abs(s["off_min"][1] - 0.25) < 0.01 and abs(s["off_max"][1] - 0.25) < 0.01
    assert s["lam_min"][1] == pytest.approx(0.75, abs=0.01)
    assert s["lam_max"][1] == pytest.approx(0.75 + 6 / 4, abs=0.05)


def test_ntk_fluctuation_shrinks_with_the_width():
    X, _ = deep.azls_data(4, 5, seed=0)
    f = deep.ntk_fluctuation(X, depths=[2], widths=[16, 1024], seeds=range(3))
    assert f.shape == (2, 1, 3)
    assert np.median(f[1]) < np.median(f[0]) / 3           # 1/sqrt(m): a factor 8 expected


def test_chapter_12_plots_draw_what_they_compute():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from overparam import plots

    X, y = deep.azls_data(5, 6, seed=0)
    b = allen_zhu_deep(X, y, depth=2)
    arc = np.array([[1.0, 2.0], [0.5, 1.0]])
    fig = plots.skeleton_plot(b, [10, 40], arc)
    lines = {ln.get_label(): ln for ln in fig.axes[0].lines}
    ln = [v for k, v in lines.items() if k.startswith("path bound")][0]
    m0 = ln.get_xdata()[0]
    assert ln.get_ydata()[0] == pytest.approx(b.path_bound(m0))
    np.testing.assert_allclose(lines["measured path length"].get_ydata(), [1.5, 0.75])
    fig = plots.batch_size_plot([1, 2, 4], {"iterations": np.array([[40.0], [20], [10]]),
                                            "distance": np.ones((3, 1))})
    ref = fig.axes[0].lines[1].get_ydata()
    np.testing.assert_allclose(ref, [40, 20, 10])
    plt.close("all")


def test_depth_regression_interpolates_and_flattens_with_depth():
    X, y = deep.azls_data(30, 6, seed=3, labels="teacher")
    r = deep.depth_regression(X[:10], y[:10], X[:10], y[:10], [1, 64])
    np.testing.assert_allclose(r["mse"], 0.0, atol=1e-12)          # kernel regression interpolates
    assert r["constant"] == pytest.approx(float(((y[:10] - y[:10].mean()) ** 2).mean()))
    r = deep.depth_regression(X[:10], y[:10], X[10:], y[10:], [1, 1024])
    assert r["std"][1] < r["std"][0] / 10                           # deep: nearly constant
    assert r["mse"][1] > r["mse"][0]
