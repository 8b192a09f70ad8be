import copy
import math

import numpy as np
import pytest
import torch

from overparam import plots
from overparam.classification import (RunTracker, crossing_width, distance_travelled,
                                      gradient_lower_bound, implied_c1, last_layer_gradient,
                                      logistic_alpha0, path_length_bound, perturbation_level,
                                      perturbation_radius, phi_separated_data, run_classifier,
                                      spectral_distances, steps_to_error, steps_to_stable_error,
                                      theorem_lr_steps, theorem_path_bound, zero_error_grid)
from overparam.deep import snapshot
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


def test_distance_travelled_is_the_largest_layer_distance_reached():
    X, y = _toy()
    net = DeepReLU(5, 32, 2, parameterization="zou", seed=0, device="cpu")
    init = copy.deepcopy(net)
    h = train(net, X, y, lr=0.2, steps=30, loss="logistic", record=("radius",))
    direct = max(float((getattr(net, k) - getattr(init, k)).detach().norm())
                 for k in ("W1", "W2"))
    path = distance_travelled(h, per_step=True)
    assert path[-1] == pytest.approx(distance_travelled(h))
    assert np.all(np.diff(path) >= 0)
    assert distance_travelled(h) >= direct - 1e-12
    assert perturbation_radius is distance_travelled          # the former name
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


def test_zero_error_grid_counts_iterations_epochs_and_uses_independent_batch_orders():
    X, y = _toy(n=16, phi=0.4)
    g = zero_error_grid(X, y, widths=[32], batch_sizes=[None, 4], seeds=[0, 1], steps=300)
    assert g.stable.shape == (1, 2, 2)
    assert np.all(np.isfinite(g.stable[0, 0]))
    np.testing.assert_array_equal(g.epochs[0, 0], g.stable[0, 0])
    np.testing.assert_allclose(g.epochs[0, 1], g.stable[0, 1] * 4 / 16)
    assert np.all(g.first <= g.stable) or np.isnan(g.stable).any()
    _, h = run_classifier(X, y, width=32, seed=1, steps=300, record=("loss", "error"))
    assert g.first[0, 0, 1] == steps_to_error(h)
    assert g.stable[0, 0, 1] == steps_to_stable_error(h)
    # the distance at the end, against an independent computation from the two weight sets
    net, _ = run_classifier(X, y, width=32, seed=1, steps=300, record=("loss",))
    init = DeepReLU(5, 32, 2, parameterization="zou", seed=1, device="cpu")
    d = max(float((getattr(net, k) - getattr(init, k)).detach().norm()) for k in ("W1", "W2"))
    assert g.distance[0, 0, 1] == pytest.approx(d, rel=1e-10)
    # seeds 0 and 1 of the SGD column: different inits and different batch orders; the batch
    # orders of two runs with the same init also differ (no order shared across the grid)
    h0, h1 = g.histories[(32, 4, 0)], g.histories[(32, 4, 1)]
    assert not np.allclose(h0.loss, h1.loss)
    a = run_classifier(X, y, width=32, batch_size=4, seed=0, shuffle_seed=5, steps=20,
                       record=("loss",))[1]
    b = run_classifier(X, y, width=32, batch_size=4, seed=0, shuffle_seed=6, steps=20,
                       record=("loss",))[1]
    assert a.loss[0] == b.loss[0] and not np.allclose(a.loss[1:], b.loss[1:])


def test_steps_to_stable_error_ignores_a_touch_that_does_not_last():
    h = History([0, 5, 10, 15, 20], {"error": [0.5, 0.0, 0.1, 0.0, 0.0]}, lr=1.0,
                batch_size=1, loss="logistic", n=10)
    assert steps_to_error(h) == 5
    assert steps_to_stable_error(h) == 15
    h2 = History([0, 5], {"error": [0.0, 0.1]}, lr=1.0, batch_size=1, loss="logistic", n=10)
    assert steps_to_stable_error(h2) is None
    h3 = History([0, 5], {"error": [0.0, 0.0]}, lr=1.0, batch_size=1, loss="logistic", n=10)
    assert steps_to_stable_error(h3) == 0


def test_steps_to_stable_error_min_tail_refuses_a_zero_only_at_the_end():
    # error zero only over the last 2 of 20 recorded intervals: settled with min_tail = 0,
    # but not if zero error must hold over the last 20% of the run
    steps = list(range(0, 101, 5))
    err = [0.2] * 19 + [0.0, 0.0]
    h = History(steps, {"error": err}, lr=1.0, batch_size=1, loss="logistic", n=10)
    assert steps_to_stable_error(h) == 95
    assert steps_to_stable_error(h, min_tail=0.2) is None
    assert steps_to_stable_error(h, min_tail=0.05) == 95       # 100 - 95 >= 0.05 * 100
    err2 = [0.2] * 10 + [0.0] * 11                             # zero from step 50 on
    h2 = History(steps, {"error": err2}, lr=1.0, batch_size=1, loss="logistic", n=10)
    assert steps_to_stable_error(h2, min_tail=0.5) == 50
    assert steps_to_stable_error(h2, min_tail=0.51) is None
    diverged = History([0, 5, 10], {"error": [0.2, 0.0, float("nan")]}, lr=1.0, batch_size=1,
                       loss="logistic", n=10)
    assert steps_to_stable_error(diverged) is None             # NaN is not a settled zero
    empty = History([], {"error": []}, lr=1.0, batch_size=1, loss="logistic", n=10)
    assert steps_to_stable_error(empty) is None
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match="min_tail"):
            steps_to_stable_error(h, min_tail=bad)


def test_zero_error_grid_with_an_epoch_budget_gives_every_batch_size_the_same_examples():
    X, y = _toy(n=16, phi=0.4)
    g = zero_error_grid(X, y, widths=[32], batch_sizes=[None, 4, 1], seeds=[0], epochs=6,
                        min_tail=0.25)
    assert g.budget == [6, 24, 96]                  # ceil(6 * 16 / b): 6 epochs each
    for j, b in enumerate([None, 4, 1]):
        h = g.histories[(32, b, 0)]
        assert h.steps[-1] == g.budget[j]
        k = steps_to_stable_error(h, min_tail=0.25)
        assert (np.isnan(g.stable[0, j, 0]) if k is None else g.stable[0, j, 0] == k)
    with pytest.raises(ValueError, match="epochs"):
        zero_error_grid(X, y, widths=[32], batch_sizes=[None], epochs=0)


def test_phi_separated_data_with_a_fixed_last_coordinate():
    X, y = phi_separated_data(30, 7, 0.25, kind="xor", seed=3, mu=0.4)
    assert torch.allclose(X[:, -1], torch.full((30,), 0.4, dtype=X.dtype))
    assert torch.allclose(X.norm(dim=1), torch.ones(30, dtype=X.dtype))
    dists = [float((X[i] - X[j]).norm()) for i in range(30) for j in range(30) if y[i] != y[j]]
    assert min(dists) == pytest.approx(0.25, rel=1e-9)
    with pytest.raises(ValueError, match="mu"):
        phi_separated_data(10, 5, 0.2, mu=1.0)


def test_perturbation_level_is_the_papers_formula_and_depends_on_no_run():
    # Zou et al. Thm 5.3: tau <= [L^-11 (log M)^-3/2] ^ [phi^1.5 n^-3 L^-2]; proofs: n^-9 L^-17 phi^3
    t = perturbation_level(40, 2, 0.5, width=1000)
    assert t.lemmas == pytest.approx(0.5 ** 1.5 / 40 ** 3 / 4, rel=1e-12, abs=0)   # the phi, n term
    assert t.proofs == pytest.approx(40.0 ** -9 * 2.0 ** -17 * 0.125, rel=1e-12, abs=0)
    # depth-limited regime: for n = 1, phi = 1 the L^-11 term is the smaller one at L = 3
    t1 = perturbation_level(1, 3, 1.0, width=100)
    assert t1.lemmas == pytest.approx(3.0 ** -11 * math.log(100) ** -1.5, rel=1e-12, abs=0)
    assert perturbation_level(80, 2, 0.5, width=1000).lemmas < t.lemmas
    assert perturbation_level(40, 2, 0.25, width=1000).lemmas < t.lemmas
    assert perturbation_level(40, 2, 0.5, width=10 ** 6).lemmas == t.lemmas   # not on m here
    with pytest.raises(ValueError, match="phi"):
        perturbation_level(10, 2, 0.0, width=100)


def test_path_bounds_follow_lemma_5_5_and_cross_tau_where_the_closed_form_says():
    n, L, phi, loss0, eps = 8, 2, 0.3, 0.7, 0.05
    assert path_length_bound(n, L, phi, lr_steps=2.0, loss0=loss0) == pytest.approx(
        math.sqrt(2 * 2.0 * L ** 4 * n ** 3 * loss0 / phi), rel=1e-12, abs=0)
    ke = theorem_lr_steps(n, phi, width=100, eps=eps)
    assert ke == pytest.approx((n ** 5 + n ** 3 / eps) / (100 * phi), rel=1e-12, abs=0)
    b = theorem_path_bound(n, L, phi, width=np.array([1e2, 1e4]), eps=eps, loss0=loss0)
    assert b[0] / b[1] == pytest.approx(10.0, rel=1e-12, abs=0)          # falls like m^{-1/2}
    # proofs' tau does not depend on m: the crossing width has a closed form
    tau = perturbation_level(n, L, phi, width=100).proofs
    m_star = 2 * L ** 4 * n ** 3 * loss0 * (n ** 5 + n ** 3 / eps) / (phi ** 2 * tau ** 2)
    assert crossing_width(n, L, phi, eps=eps, loss0=loss0, level="proofs") == pytest.approx(
        m_star, rel=1e-6, abs=0)
    m1 = crossing_width(n, L, phi, eps=eps, loss0=loss0)
    assert theorem_path_bound(n, L, phi, width=m1, eps=eps, loss0=loss0) == pytest.approx(
        perturbation_level(n, L, phi, width=m1).lemmas, rel=1e-6, abs=0)


def test_measured_spectral_distance_is_below_the_path_length_of_lemma_5_5s_proof():
    # ||W_l(k) - W_l(0)||_2 <= eta sum_t ||grad_l(t)||_2 <= eta sqrt(k sum_t ||grad_l(t)||_2^2)
    X, y = _toy()
    net = DeepReLU(5, 24, 2, parameterization="zou", seed=1, device="cpu")
    init, lr, k = snapshot(net), 0.3, 25
    path, sq = np.zeros(2), np.zeros(2)
    for _ in range(k):
        loss = torch.nn.functional.softplus(-y * net(X)).mean()
        grads = torch.autograd.grad(loss, [net.W1, net.W2])
        with torch.no_grad():
            for q, g in enumerate(grads):
                s2 = float(torch.linalg.matrix_norm(g, ord=2))
                path[q] += lr * s2
                sq[q] += s2 ** 2
                getattr(net, f"W{q + 1}").sub_(lr * g)
    dist = spectral_distances(net, init, iters=300)
    exact = [float(torch.linalg.matrix_norm(getattr(net, f"W{q + 1}").detach() - init[f"W{q + 1}"],
                                            ord=2)) for q in range(2)]
    np.testing.assert_allclose(dist, exact, rtol=1e-6)
    assert np.all(dist <= path + 1e-12) and np.all(path <= lr * np.sqrt(k * sq) + 1e-12)


def test_last_layer_gradient_matches_the_papers_formula():
    # Zou et al. Sec. 3.4: grad_{W_L} L_S = (1/n) sum_i l'(y_i f_i) y_i x_{L-1,i} v^T Sigma_{L,i}
    X, y = _toy(n=12)
    net = DeepReLU(5, 16, 2, parameterization="zou", seed=4, device="cpu")
    with torch.no_grad():
        h1 = torch.relu(X @ net.W1.T)                # x_{1,i} (rows)
        pre = h1 @ net.W2.T
        f = torch.relu(pre) @ net.v
        dl = -torch.sigmoid(-y * f)                  # l'(z) = -1 / (1 + e^z)
        G = sum(dl[i] * y[i] * torch.outer(net.v * (pre[i] > 0), h1[i]) for i in range(12)) / 12
        G_all_sq = float((G ** 2).sum())
    g = last_layer_gradient(net, X, y)
    assert g["last"] == pytest.approx(G_all_sq, rel=1e-10)
    with torch.no_grad():                             # callers inside no_grad get the same
        assert last_layer_gradient(net, X, y)["last"] == pytest.approx(g["last"], rel=1e-12)
    with pytest.raises(ValueError, match="built for d = 5"):
        last_layer_gradient(net, X[:, :4], y)
    assert g["dloss_sum"] == pytest.approx(float(dl.sum()), rel=1e-12)
    assert g["all"] > g["last"]
    c = implied_c1(g["last"], g["dloss_sum"], n=12, width=16, phi=0.3)
    assert c == pytest.approx(G_all_sq * 12 ** 5 / (16 * 0.3 * float(dl.sum()) ** 2), rel=1e-10)


def test_run_tracker_needs_the_initialization_first():
    X, y = _toy()
    net = DeepReLU(5, 8, 2, parameterization="zou", seed=0, device="cpu")
    tr = RunTracker(X, y)
    with pytest.raises(ValueError, match="step 0"):
        tr(3, net)
    tr2 = RunTracker(X, y)
    _, h = run_classifier(X, y, width=8, steps=10, record=("loss",), record_every=5,
                          callback=tr2)
    r = tr2.result()
    np.testing.assert_array_equal(r["step"], h.steps)
    assert r["distance"].shape == (3, 2) and r["distance"][0].max() == 0.0
    np.testing.assert_allclose(r["loss"], h.loss, rtol=1e-10)


def test_chapter_13_14_plots_return_figures():
    import matplotlib.pyplot as plt
    X, y = _toy(n=16, phi=0.4)
    hs = [run_classifier(X, y, width=16, seed=s, steps=10, record=("loss", "error"))[1]
          for s in range(2)]
    figs = [plots.loss_error_band({"GD": hs})]
    assert all(isinstance(f, plt.Figure) for f in figs)
    plt.close("all")


def test_zero_error_grid_records_once_per_epoch_on_the_same_trajectory():
    # record_every="epoch": every batch size is checked at the same numbers of examples seen
    # (Chapter 14); the records are those of the every-step run at multiples of n / b.
    X, y = _toy(n=16, phi=0.4)
    kw = dict(widths=[32], batch_sizes=[None, 4, 1], seeds=[0], epochs=5)
    g_ep = zero_error_grid(X, y, record_every="epoch", **kw)
    g_1 = zero_error_grid(X, y, record_every=1, **kw)
    for j, b in enumerate([None, 4, 1]):
        per = 1 if b is None else 16 // b
        h_ep, h_1 = g_ep.histories[(32, b, 0)], g_1.histories[(32, b, 0)]
        assert list(h_ep.steps) == list(range(0, g_ep.budget[j] + 1, per))
        np.testing.assert_allclose(h_ep.error, np.asarray(h_1.error)[::per])
        np.testing.assert_allclose(h_ep.loss, np.asarray(h_1.loss)[::per], rtol=1e-12)
        if np.isfinite(g_ep.first[0, j, 0]):
            assert g_ep.first[0, j, 0] % per == 0
            assert g_ep.first[0, j, 0] >= g_1.first[0, j, 0]
    with pytest.raises(ValueError, match="record_every"):
        zero_error_grid(X, y, record_every="step", **kw)


def test_zero_error_grid_quadratic_batch_lr_scales_the_gd_step_by_b_over_n_squared():
    # Zou et al.'s proof of Theorem 4.5 takes eta proportional to B^2 (Chapter 14)
    X, y = _toy(n=16, phi=0.4)
    kw = dict(widths=[32], batch_sizes=[None, 4], seeds=[0], steps=5)
    g_q = zero_error_grid(X, y, batch_lr="quadratic", **kw)
    g_s = zero_error_grid(X, y, batch_lr="same", **kw)
    assert g_q.lr[0, 0, 0] == pytest.approx(g_s.lr[0, 0, 0], rel=1e-12)
    assert g_q.lr[0, 1, 0] == pytest.approx(g_s.lr[0, 1, 0] / 16, rel=1e-12)
    with pytest.raises(ValueError, match="batch_lr"):
        zero_error_grid(X, y, batch_lr="cubic", **kw)


def test_zero_error_grid_seeds_a_runs_batches_from_the_run_not_its_place_in_the_grid():
    # Chapter 14 compares runs across grids (the linear and the proof's step, one (m, B, seed)):
    # the same run must draw the same batches in a 2-width grid and in a 1-width grid.
    X, y = _toy(n=16, phi=0.4)
    kw = dict(batch_sizes=[None, 4], seeds=[0, 1], steps=60, sampling="uniform",
              batch_lr="linear", min_tail=0.2)
    g2 = zero_error_grid(X, y, widths=[16, 32], **kw)
    g1 = zero_error_grid(X, y, widths=[32], **kw)
    np.testing.assert_array_equal(g2.first[1], g1.first[0])
    np.testing.assert_array_equal(g2.stable[1], g1.stable[0])
    for b in (None, 4):
        for s in (0, 1):
            h2, h1 = g2.histories[(32, b, s)], g1.histories[(32, b, s)]
            np.testing.assert_array_equal(h2.loss, h1.loss)
            np.testing.assert_array_equal(h2.error, h1.error)
    # the identity is the run's own batches, not one fixed order: the same run (same width,
    # initialization and batch size) with another batch_seed draws other batches
    g1b = zero_error_grid(X, y, widths=[32], batch_seed=1, **kw)
    assert not np.array_equal(g1b.histories[(32, 4, 0)].loss, g1.histories[(32, 4, 0)].loss)


def test_zero_error_grid_batch_seeds_are_the_runs_own_and_ignore_batch_lr(monkeypatch):
    import overparam.classification as cl
    X, y = _toy(n=16, phi=0.4)
    seen = {}
    real = cl.run_classifier

    def spy(X, y, **kw):
        seen.setdefault((kw["width"], kw["batch_size"], kw["seed"]), []).append(
            kw["shuffle_seed"])
        return real(X, y, **kw)

    monkeypatch.setattr(cl, "run_classifier", spy)
    kw = dict(widths=[16, 32], batch_sizes=[None, 4, 1], seeds=[0, 1], steps=2)
    for rule in ("linear", "quadratic"):
        cl.zero_error_grid(X, y, batch_lr=rule, **kw)
    cl.zero_error_grid(X, y, widths=[32], batch_sizes=[1], seeds=[1], steps=2)   # another grid
    assert all(len(set(v)) == 1 for v in seen.values())       # any rule, any grid: one seed
    firsts = [v[0] for v in seen.values()]
    assert len(set(firsts)) == len(firsts) == 12                # distinct runs, distinct seeds
    assert cl.batch_order_seed(32, 4, 0, 1) != cl.batch_order_seed(32, 4, 0, 0)
    assert cl.batch_order_seed(32, 4, 0) == seen[(32, 4, 0)][0]


def test_zero_error_grid_batch_seed_draws_other_batches_and_leaves_gd_alone():
    X, y = _toy(n=16, phi=0.4)
    kw = dict(widths=[32], batch_sizes=[None, 4], seeds=[0, 1], steps=40, sampling="uniform",
              batch_lr="linear")
    g0 = zero_error_grid(X, y, **kw)
    g0_again = zero_error_grid(X, y, batch_seed=0, **kw)
    g3 = zero_error_grid(X, y, batch_seed=3, **kw)
    for s in (0, 1):
        np.testing.assert_array_equal(g0.histories[(32, None, s)].loss,
                                      g3.histories[(32, None, s)].loss)
        np.testing.assert_array_equal(g0.histories[(32, 4, s)].loss,
                                      g0_again.histories[(32, 4, s)].loss)
    assert any(not np.array_equal(g0.histories[(32, 4, s)].loss, g3.histories[(32, 4, s)].loss)
               for s in (0, 1))
    for bad in (-1, 1.5, "0", True, None):
        with pytest.raises(ValueError, match="batch_seed"):
            zero_error_grid(X, y, batch_seed=bad, **kw)
