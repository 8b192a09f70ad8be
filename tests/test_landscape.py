import math

import numpy as np
import pytest
import torch

from overparam.data import separation, sphere_data
from overparam.deep import azls_data, layer_gradients, perturbed, sign_changes
from overparam.landscape import (azls_pair_data, gd_step_prediction, gradient_ratio_range,
                                 interpolate, kink_flip, kink_point, loss_along_path,
                                 permute_neurons, taylor_remainder)
from overparam.models import DeepReLU, TwoLayerReLU
from overparam.train import train


def _f(W, a, X):
    """Du et al. eq. (1), written out independently of the library."""
    return torch.relu(X @ W.T) @ a / math.sqrt(W.shape[0])


def test_permute_neurons_keeps_the_function_and_the_output_layer():
    X, _ = sphere_data(15, 4, seed=1)
    net = TwoLayerReLU(4, 64, seed=2, device="cpu")
    other = permute_neurons(net, seed=3)
    assert torch.equal(other.a, net.a)
    assert not torch.equal(other.W, net.W)
    # the rows of W are the same set, only relabelled
    assert torch.equal(torch.sort(other.W[:, 0]).values, torch.sort(net.W[:, 0]).values)
    assert torch.allclose(other(X), _f(net.W.detach(), net.a, X), atol=1e-12)


def test_interpolate_ends_and_midpoint():
    a = TwoLayerReLU(3, 8, seed=0, device="cpu")
    b = TwoLayerReLU(3, 8, seed=1, device="cpu")
    assert torch.equal(interpolate(a, b, 0.0).W, a.W)
    assert torch.allclose(interpolate(a, b, 1.0).W, b.W)
    mid = interpolate(a, b, 0.5)
    assert torch.allclose(mid.W, (a.W + b.W) / 2) and torch.allclose(mid.a, (a.a + b.a) / 2)
    with pytest.raises(ValueError, match="same architecture"):
        interpolate(a, TwoLayerReLU(3, 9, seed=0, device="cpu"), 0.5)
    with pytest.raises(TypeError):
        interpolate(a, torch.nn.Linear(3, 1), 0.5)


def test_loss_along_path_matches_an_independent_computation():
    X, y = sphere_data(12, 5, seed=4)
    a = TwoLayerReLU(5, 16, seed=0, device="cpu")
    b = TwoLayerReLU(5, 16, seed=1, device="cpu")
    ts = np.array([0.0, 0.3, 1.0])
    L = loss_along_path(a, b, X, y, ts)
    for t, value in zip(ts, L):
        W = (1 - t) * a.W.detach() + t * b.W.detach()
        aa = (1 - t) * a.a + t * b.a
        assert value == pytest.approx(0.5 * float(((_f(W, aa, X) - y) ** 2).sum()), rel=1e-12)


def test_loss_along_path_works_for_deep_nets():
    X, y = sphere_data(6, 3, seed=0)
    a = DeepReLU(3, 8, depth=2, seed=0, device="cpu")
    b = DeepReLU(3, 8, depth=2, seed=1, device="cpu")
    L = loss_along_path(a, b, X, y, [0.0, 1.0])
    assert L[0] == pytest.approx(0.5 * float(((a(X).detach() - y) ** 2).sum()))
    assert L[1] == pytest.approx(0.5 * float(((b(X).detach() - y) ** 2).sum()))


def test_two_global_minima_are_joined_by_a_path_of_higher_loss():
    # the non-convexity of Chapter 1: a trained net and its relabelled copy are both minima
    X, y = sphere_data(20, 5, seed=0)
    net = TwoLayerReLU(5, 128, seed=0, device="cpu")
    train(net, X, y, lr=0.5, steps=1500, progress=False)
    other = permute_neurons(net, seed=1)
    L = loss_along_path(net, other, X, y)
    assert L[0] < 1e-3 and L[-1] < 1e-3
    assert L.max() > 100 * max(L[0], L[-1])


def test_gd_step_prediction_is_exact_without_flips_and_degrades_with_the_step():
    X, y = sphere_data(10, 4, seed=0)
    net = TwoLayerReLU(4, 50, seed=0, device="cpu")
    W0 = net.W.detach().clone()
    actual, predicted, flips = gd_step_prediction(net, X, y, 1e-6)
    assert torch.equal(net.W, W0)                     # the model is left as it was
    assert flips == 0.0
    assert float((actual - predicted).norm() / predicted.norm()) < 1e-6
    # independent check of the actual change: one step with autograd on eq. (1)
    W = W0.clone().requires_grad_(True)
    loss = 0.5 * ((_f(W, net.a, X) - y) ** 2).sum()
    (g,) = torch.autograd.grad(loss, W)
    change = _f(W0 - 1e-6 * g, net.a, X) - _f(W0, net.a, X)
    assert torch.allclose(actual, change, rtol=1e-6, atol=1e-15)
    big_actual, big_pred, big_flips = gd_step_prediction(net, X, y, 1.0)
    assert big_flips > 0
    assert float((big_actual - big_pred).norm() / big_pred.norm()) > 1e-4


# --- Chapter 11: the landscape of a deep network near initialization ---------------------------
def _azls(m=32, depth=2, d=6, seed=0):
    return DeepReLU(d, m, depth, parameterization="allen_zhu", seed=seed, device="cpu")


def _azls_forward(net, X, delta=None):
    """f = B relu(W_L ... relu(W_1 relu(A x))) written out from the matrices, with the trained
    matrices replaced by W_l + delta[W_l] (an independent implementation for the tests)."""
    delta = delta or {}
    h = torch.relu(X @ net.A.T)
    for k in net.trained_layers():
        W = getattr(net, k).detach() + delta.get(k, 0.0)
        h = torch.relu(h @ W.T)
    return (h @ net.B.T)[:, 0]


def test_azls_pair_data_puts_two_inputs_at_distance_delta():
    X, y = azls_pair_data(7, 6, 0.03, seed=2)
    assert torch.allclose(X.norm(dim=1), torch.ones(7, dtype=X.dtype), atol=1e-12)
    assert torch.allclose(X[:, -1], torch.full((7,), 2 ** -0.5, dtype=X.dtype))
    assert float((X[0] - X[1]).norm()) == pytest.approx(0.03, rel=1e-10)
    assert separation(X) == pytest.approx(0.03, rel=1e-10)
    for bad in (0.0, 1.5, "0.1"):
        with pytest.raises(ValueError, match="delta"):
            azls_pair_data(7, 6, bad)


def test_gradient_ratio_range_brackets_every_residual_and_is_attained():
    # ||grad_{W_l} F||^2 / F = 2 e^T K_l e / ||e||^2 lies in [2 lam_min(K_l), 2 lam_max(K_l)]
    X, _ = azls_data(6, 6, seed=1)
    net = _azls(m=24, depth=3)
    b = gradient_ratio_range(net, X)
    with torch.no_grad():
        f = net(X)
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        y = f - torch.randn(6, generator=g, dtype=f.dtype)     # residual e = f - y random
        F, grads = layer_gradients(net, X, y)
        ratio = grads ** 2 / F
        assert np.all(ratio >= b["layer_min"] * (1 - 1e-9))
        assert np.all(ratio <= b["layer_max"] * (1 + 1e-9))
        total = (grads ** 2).sum() / F
        assert b["total_min"] * (1 - 1e-9) <= total <= b["total_max"] * (1 + 1e-9)
    # the upper end is attained: residual along the top eigenvector of layer 2's kernel
    from overparam.kernels import empirical_ntk
    K2 = empirical_ntk(net, X, per_layer=True)[1]
    v = torch.linalg.eigh(K2)[1][:, -1]
    F, grads = layer_gradients(net, X, f - v)
    assert grads[1] ** 2 / F == pytest.approx(b["layer_max"][1], rel=1e-8)
    # and so is the lower end, and the total's, along the bottom eigenvectors
    K1 = empirical_ntk(net, X, per_layer=True)[0]
    F, grads = layer_gradients(net, X, f - torch.linalg.eigh(K1)[1][:, 0])
    assert grads[0] ** 2 / F == pytest.approx(b["layer_min"][0], rel=1e-6)
    K = sum(empirical_ntk(net, X, per_layer=True))
    F, grads = layer_gradients(net, X, f - torch.linalg.eigh(K)[1][:, 0])
    assert (grads ** 2).sum() / F == pytest.approx(b["total_min"], rel=1e-6)


def test_taylor_remainder_is_the_exact_quadratic_when_no_sign_flips():
    # with one trained layer and no sign change, f is linear in W_1, so F(W + W') - F(W) -
    # <grad F, W'> = 1/2 sum_i <grad f_i, W'>^2 = 1/2 sum_i (f_i(W + W') - f_i(W))^2 exactly
    X, y = azls_data(5, 6, seed=3)
    net = _azls(m=20, depth=1)
    D = {"W1": 1e-7 * torch.randn(20, 20, generator=torch.Generator().manual_seed(1),
                                  dtype=torch.float64)}
    assert sign_changes(perturbed(net, D), net, X).max() == 0
    R = taylor_remainder(net, X, y, [D])[0]
    with torch.no_grad():
        df = _azls_forward(net, X, D) - _azls_forward(net, X)
    assert R == pytest.approx(0.5 * float((df ** 2).sum()), rel=1e-4)
    with pytest.raises(ValueError, match="trained layers"):
        taylor_remainder(net, X, y, [{"A": D["W1"]}])


def test_kink_point_stays_in_the_ball_next_to_the_kink_and_keeps_the_output():
    X, y = azls_data(8, 6, seed=0)
    net = _azls(m=128, depth=2)
    omega = 0.05
    Wk, S, i = kink_point(net, X, y, omega)
    assert S.numel() >= 1
    D = (Wk.W1 - net.W1).detach()
    assert float(torch.linalg.matrix_norm(D, ord=2)) <= omega * (1 + 1e-9)
    z0, z1 = net.preactivations(X)[1][i], Wk.preactivations(X)[1][i]   # [0] is A's layer
    assert bool((z0[S] < 0).all())
    assert torch.allclose(z1[S], 1e-9 * z0[S], rtol=1e-5, atol=1e-16)   # next to zero, same sign
    with torch.no_grad():
        assert float(Wk(X)[i]) == pytest.approx(float(net(X)[i]), abs=1e-12)
    with pytest.raises(ValueError, match="omega"):
        kink_point(net, X, y, -1.0)


def test_kink_flip_remainder_is_first_order_with_the_predicted_coefficient():
    # predicted coefficient ||h|| ||c_S||, c_r = (f_i - y_i) d f_i / d relu(z_r), computed here
    # from the matrices with autograd on an independent forward pass
    X, y = azls_data(8, 6, seed=0)
    net = _azls(m=128, depth=2)
    Wk, S, i = kink_point(net, X, y, 0.1)
    with torch.no_grad():
        h0 = torch.relu(X[i] @ Wk.A.T)
    post = torch.relu(h0 @ Wk.W1.detach().T).requires_grad_(True)
    f_i = torch.relu(post @ Wk.W2.detach().T) @ Wk.B[0]
    (g,) = torch.autograd.grad(f_i, post)
    c = (float(f_i.detach()) - float(y[i])) * g
    cS = c[S][c[S] > 0]
    predicted = float(h0.norm() * cS.norm())
    radii = [1e-6, 1e-5]
    R = taylor_remainder(Wk, X, y, [kink_flip(Wk, X, y, r, S, example=i) for r in radii])
    assert R[0] / radii[0] == pytest.approx(predicted, rel=1e-2)
    assert R[1] / radii[1] == pytest.approx(predicted, rel=1e-2)
    D = kink_flip(Wk, X, y, 1e-3, S, example=i)["W1"]
    assert float(torch.linalg.matrix_norm(D, ord=2)) == pytest.approx(1e-3, rel=1e-9)
    with pytest.raises(ValueError, match="support"):
        kink_flip(Wk, X, y, 1e-3, torch.tensor([], dtype=torch.long), example=i)


def test_median_band_slopes_are_per_seed_and_exact_on_power_laws():
    import matplotlib.pyplot as plt

    from overparam.plots import median_band
    x = np.array([1.0, 2.0, 4.0, 8.0])
    Y = np.array([3 * x ** -0.5, 2 * x ** -0.7, 5 * x ** -0.3])
    fig, slopes = median_band(x, Y)
    assert np.allclose(slopes, [-0.5, -0.7, -0.3])
    _, s2 = median_band(x, Y, ax=fig.axes[0], fit_range=(2.0, 8.0))
    assert np.allclose(s2, [-0.5, -0.7, -0.3])
    with pytest.raises(ValueError, match="shape"):
        median_band(x, Y[:, :3])
    with pytest.raises(ValueError, match="positive"):
        median_band(x, -Y)
    plt.close("all")


def test_norm_profile_prediction_counts_the_layer_of_A():
    """Chapter 10: init_variance rescales A too, so E||h_l||^2 = (c/2)^{l+1}; the dashed line of
    plots.norm_profile must sit on the measured norms already at l = 0 (sqrt(c/2), not 1)."""
    import matplotlib.pyplot as plt

    from overparam.plots import norm_profile

    c, m = 3.0, 2048
    fig = norm_profile(depth=4, gain=c, m=m, n=4, seed=1)
    lines = fig.axes[0].get_lines()
    dashed = [ln for ln in lines if ln.get_linestyle() == "--"][0]
    measured = np.array([ln.get_ydata() for ln in lines if ln.get_linestyle() != "--"])
    layers = np.arange(measured.shape[1])
    assert np.allclose(dashed.get_ydata(), (c / 2) ** ((layers + 1) / 2))
    # independent of the plot code: a mean over m = 2048 ReLUs is within a few % of its mean
    ratio = np.exp(np.log(measured).mean(axis=0)) / np.sqrt(c / 2) ** (layers + 1)
    assert np.all(np.abs(ratio - 1) < 0.15), ratio
    plt.close(fig)


def test_median_band_labels_a_short_sweep_with_plain_numbers():
    """Chapters 10-11: widths such as 1024 and budgets such as 0.01 are labelled as written,
    not in exponent notation ('1.02e+03')."""
    import matplotlib.pyplot as plt

    from overparam.plots import median_band

    for x in ([256, 512, 1024, 2048], [0.01, 0.02, 0.05, 0.1]):
        fig, _ = median_band(x, np.ones((5, len(x))) * np.asarray(x, float))
        labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
        assert labels == [f"{v}" for v in x], labels
        plt.close(fig)
