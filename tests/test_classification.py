import copy
import math

import numpy as np
import pytest
import torch

from overparam import plots
from overparam.classification import (gradient_lower_bound, logistic_alpha0,
                                      perturbation_radius, phi_separated_data, run_classifier,
                                      steps_to_error, zero_error_grid)
from overparam.data import check_inputs, separation
from overparam.models import DeepReLU
from overparam.train import History, train


@pytest.mark.parametrize("kind", ["linear", "xor"])
@pytest.mark.parametrize("phi", [0.03, 0.3, 1.2])
def test_phi_separated_data_has_exactly_the_requested_phi(kind, phi):
    X, y = phi_separated_data(40, 6, phi, kind=kind, seed=1)
    check_inputs(X, y)                                   # unit norm, no parallel rows
    assert set(y.tolist()) == {-1.0, 1.0}
    # independent brute force over all pairs with different labels
    dists = [float((X[i] - X[j]).norm()) for i in range(40) for j in range(40) if y[i] != y[j]]
    assert min(dists) == pytest.approx(phi, rel=1e-9)
    assert separation(X, y) == pytest.approx(phi, rel=1e-9)
    rule = torch.sign(X[:, 0]) if kind == "linear" else torch.sign(X[:, 0] * X[:, 1])
    assert torch.equal(rule, y)
    k = 1 if kind == "linear" else 2
    assert float(X[:, :k].abs().min()) >= phi / 2 - 1e-12


def test_phi_separated_data_rejects_impossible_phi():
    with pytest.raises(ValueError, match="phi"):
        phi_separated_data(10, 5, 1.6, kind="xor")
    with pytest.raises(ValueError, match="phi"):
        phi_separated_data(10, 5, 0.0)
    with pytest.raises(ValueError, match="kind"):
        phi_separated_data(10, 5, 0.5, kind="circle")


@pytest.mark.parametrize("alpha1", [0.5, 1.0, 2.0])
def test_logistic_alpha0_matches_closed_form(alpha1):
    # -l'(z) / l(z) increases with z, so the infimum sits where l(z) = alpha1:
    # e^{-z} = e^{alpha1} - 1, -l'(z) = 1 - e^{-alpha1}, alpha0 = (1 - e^{-alpha1}) / alpha1.
    assert logistic_alpha0(alpha1, 1.0) == pytest.approx((1 - math.exp(-alpha1)) / alpha1,
                                                          rel=1e-4)


def test_logistic_loss_is_not_in_the_family_with_p_below_one():
    assert logistic_alpha0(1.0, 0.5) < 1e-6


def _toy(n=24, d=5, phi=0.3, seed=0):
    return phi_separated_data(n, d, phi, kind="xor", seed=seed)


def test_perturbation_radius_is_the_largest_layer_distance_reached():
    X, y = _toy()
    net = DeepReLU(5, 32, 2, parameterization="zou", seed=0, device="cpu")
    init = copy.deepcopy(net)
    h = train(net, X, y, lr=0.2, steps=30, loss="logistic", record=("radius",))
    direct = max(float((getattr(net, k) - getattr(init, k)).detach().norm())
                 for k in ("W1", "W2"))
    path = perturbation_radius(h, per_step=True)
    assert path[-1] == pytest.approx(perturbation_radius(h))
    assert np.all(np.diff(path) >= 0)
    assert perturbation_radius(h) >= direct - 1e-12
    assert path[0] == 0.0


def test_steps_to_error_reads_the_first_hit():
    h = History([0, 5, 10, 15], {"error": [0.5, 0.1, 0.0, 0.0]}, lr=1.0, batch_size=None,
                loss="logistic", n=10)
    assert steps_to_error(h) == 10
    assert steps_to_error(h, target=0.2) == 5
    h2 = History([0, 5], {"error": [0.5, 0.1]}, lr=1.0, batch_size=None, loss="logistic", n=10)
    assert steps_to_error(h2) is None


def test_gradient_lower_bound_quantities_match_autograd():
    X, y = _toy()
    net = DeepReLU(5, 16, 2, parameterization="zou", seed=2, device="cpu")
    f = net(X)
    loss = torch.nn.functional.softplus(-y * f).mean()
    grads = torch.autograd.grad(loss, list(net.parameters()))
    u = f.detach().requires_grad_(True)
    dldu = torch.autograd.grad(torch.nn.functional.softplus(-y * u).mean(), u)[0]
    h = train(net, X, y, lr=0.1, steps=0, loss="logistic",
              record=("loss", "grad_norm", "outputs"))
    g = gradient_lower_bound(h, y)
    assert g["mean_neg_dloss"][0] == pytest.approx(float(dldu.abs().sum()), rel=1e-10)
    assert g["grad_norm"][0] == pytest.approx(
        float(torch.sqrt(sum((q ** 2).sum() for q in grads))), rel=1e-10)
    assert g["ratio"][0] == pytest.approx(g["grad_norm"][0] / g["mean_neg_dloss"][0])


def test_train_until_stops_at_the_first_zero_error_record():
    X, y = _toy()
    full = train(DeepReLU(5, 64, 2, parameterization="zou", seed=0, device="cpu"), X, y,
                 lr=0.1, steps=200, loss="logistic", record=("loss", "error"))
    k = steps_to_error(full)
    assert k is not None and 0 < k < 200
    stop = train(DeepReLU(5, 64, 2, parameterization="zou", seed=0, device="cpu"), X, y,
                 lr=0.1, steps=200, loss="logistic", record=("loss", "error"),
                 until={"error": 0.0})
    assert int(stop.steps[-1]) == k
    np.testing.assert_allclose(stop.loss, full.loss[:k + 1], rtol=1e-12)
    # the default (until=None) runs every step
    assert int(full.steps[-1]) == 200


def test_train_until_validates_its_argument():
    X, y = _toy()
    net = DeepReLU(5, 8, 1, parameterization="zou", seed=0, device="cpu")
    with pytest.raises(ValueError, match="record"):
        train(net, X, y, lr=0.1, steps=2, loss="logistic", until={"error": 0.0})
    with pytest.raises(ValueError, match="scalar"):
        train(net, X, y, lr=0.1, steps=2, loss="logistic", record=("radius",),
              until={"radius": 1.0})


def test_gd_reaches_zero_error_and_wider_nets_move_less():
    X, y = _toy(n=32, phi=0.2)
    taus = []
    for m in (32, 512):
        _, h = run_classifier(X, y, width=m, steps=2000, until={"loss": 0.1},
                              record=("loss", "error", "radius"))
        assert h.error[-1] == 0.0 and h.loss[-1] <= 0.1
        taus.append(perturbation_radius(h))
    assert taus[1] < 0.7 * taus[0]


def test_zero_error_grid_counts_iterations_and_epochs():
    X, y = _toy(n=16, phi=0.4)
    g = zero_error_grid(X, y, widths=[32], batch_sizes=[None, 4], max_steps=3000)
    assert np.all(np.isfinite(g.iterations))
    assert g.epochs[0, 0] == g.iterations[0, 0]
    assert g.epochs[0, 1] == pytest.approx(g.iterations[0, 1] * 4 / 16)
    _, h = run_classifier(X, y, width=32, steps=3000, record=("loss", "error"),
                          until={"error": 0.0})
    assert g.iterations[0, 0] == steps_to_error(h)
    assert g.histories[(32, 4)].batch_size == 4


def test_chapter_13_14_plots_return_figures():
    import matplotlib.pyplot as plt
    X, y = _toy(n=16, phi=0.4)
    figs = [plots.separation_demo(0.5, width=16, n=16, d=5, steps=20),
            plots.gd_vs_sgd(4, 16, X=X, y=y, steps=10)]
    g = zero_error_grid(X, y, widths=[16], batch_sizes=[None, 8], max_steps=500)
    figs.append(plots.zero_error_grid_plot(g))
    assert all(isinstance(f, plt.Figure) for f in figs)
    plt.close("all")
