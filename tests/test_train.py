import math

import numpy as np
import pytest
import torch

from overparam.data import sphere_data
from overparam.kernels import gram_matrix, h_infinity, lambda_max, lambda_min
from overparam.models import DeepReLU, TwoLayerReLU
from overparam.train import RECORDS, train


def _plain_autograd_gd(net, X, y, lr, steps):
    """GD written independently: autograd on Du's 1/2-sum loss and torch.optim.SGD."""
    opt = torch.optim.SGD([p for p in net.parameters()], lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = 0.5 * ((net(X) - y) ** 2).sum()
        losses.append(float(loss))
        loss.backward()
        opt.step()
    return losses


@pytest.mark.parametrize("train_output", [False, True])
def test_fast_two_layer_path_equals_autograd_gd(train_output):
    X, y = sphere_data(15, 6, seed=0)
    fast = TwoLayerReLU(6, 64, seed=3, train_output=train_output, device="cpu")
    ref = TwoLayerReLU(6, 64, seed=3, train_output=train_output, device="cpu")
    hist = train(fast, X, y, lr=0.2, steps=25)
    losses = _plain_autograd_gd(ref, X, y, lr=0.2, steps=25)
    np.testing.assert_allclose(hist.loss[:-1], losses, rtol=1e-10)
    assert torch.allclose(fast.W, ref.W, atol=1e-10)
    if train_output:
        assert torch.allclose(fast.a, ref.a, atol=1e-10)


def test_deep_model_gd_equals_autograd_gd():
    X, y = sphere_data(10, 4, seed=1)
    a = DeepReLU(4, 32, 2, parameterization="allen_zhu", seed=0, device="cpu")
    b = DeepReLU(4, 32, 2, parameterization="allen_zhu", seed=0, device="cpu")
    hist = train(a, X, y, lr=0.01, steps=10)
    np.testing.assert_allclose(hist.loss[:-1], _plain_autograd_gd(b, X, y, 0.01, 10), rtol=1e-10)


def test_gd_at_large_width_meets_theorem_4_1_rate_and_narrow_net_does_not_reach_zero():
    # Du et al. Thm 4.1: ||y - u(k)||^2 <= (1 - eta lambda0 / 2)^k ||y - u(0)||^2.
    X, y = sphere_data(16, 8, seed=0)
    H = h_infinity(X)
    lam0, eta = lambda_min(H), 1.0 / lambda_max(H)
    hist = train(TwoLayerReLU(8, 16384, seed=0, device="cpu"), X, y, lr=eta, steps=300,
                 record_every=10)
    bound = (1 - eta * lam0 / 2) ** hist.steps * hist.loss[0]
    assert np.all(hist.loss <= bound * (1 + 1e-9)), (hist.loss / bound).max()
    narrow = train(TwoLayerReLU(8, 2, seed=0, device="cpu"), X, y, lr=eta, steps=300)
    assert narrow.loss[-1] > 0.05 * narrow.loss[0]


def test_records_agree_with_independent_computations():
    X, y = sphere_data(12, 5, seed=2)
    net = TwoLayerReLU(5, 200, seed=1, device="cpu")
    W0 = net.W.detach().clone()
    H0 = gram_matrix(net, X)
    hist = train(net, X, y, lr=0.5, steps=40, record=RECORDS[:-1], record_every=20)
    assert list(hist.steps) == [0, 20, 40]
    assert hist.radius[0] == 0 and hist.flips[0] == 0 and hist.kernel_drift[0] == 0
    assert math.isclose(hist.radius[-1], float((net.W - W0).norm(dim=1).max()), rel_tol=1e-12)
    flips = float(((X @ net.W.T >= 0) != (X @ W0.T >= 0)).double().mean())
    assert math.isclose(hist.flips[-1], flips, rel_tol=1e-12)
    assert math.isclose(hist.lambda_min[0], lambda_min(H0), rel_tol=1e-10)
    H = gram_matrix(net, X)
    assert math.isclose(hist.kernel_drift[-1], float(torch.linalg.matrix_norm(H - H0, 2)), rel_tol=1e-9)
    assert np.allclose(hist.outputs[-1], net(X).detach().numpy())
    with torch.enable_grad():
        loss = 0.5 * ((net(X) - y) ** 2).sum()
        g, = torch.autograd.grad(loss, [net.W])
    assert math.isclose(hist.grad_norm[-1], float(g.norm()), rel_tol=1e-9)
    with pytest.raises(AttributeError, match="record="):
        hist.error


def test_deep_records_are_per_layer():
    X, y = sphere_data(10, 4, seed=0)
    net = DeepReLU(4, 32, 3, parameterization="allen_zhu", device="cpu")
    hist = train(net, X, y, lr=0.01, steps=5, record=("radius", "flips", "grad_norm"))
    assert hist.radius.shape == (6, 3) and hist.flips.shape == (6, 4)
    assert np.all(hist.radius[0] == 0) and np.all(hist.radius[-1] > 0)


def test_sgd_reaches_zero_training_error_on_separable_data():
    X, y = sphere_data(40, 10, seed=0, labels="sign")
    net = DeepReLU(10, 256, 2, parameterization="zou", seed=0, device="cpu")
    hist = train(net, X, y, lr=0.5, steps=400, batch_size=8, loss="logistic",
                 record=("loss", "error"), record_every=50)
    assert hist.error[0] > 0.1
    assert hist.error[-1] == 0.0
    assert hist.loss[-1] < hist.loss[0]


def test_same_seed_gives_identical_history_and_another_seed_differs():
    X, y = sphere_data(20, 5, seed=0)

    def run(seed):
        return train(TwoLayerReLU(5, 64, seed=0, device="cpu"), X, y, lr=0.3, steps=30,
                     batch_size=4, seed=seed, record=("loss", "flips"))

    a, b, c = run(1), run(1), run(2)
    assert np.array_equal(a.loss, b.loss) and np.array_equal(a.flips, b.flips)
    assert not np.array_equal(a.loss, c.loss)


def test_diverging_run_stops_with_a_suggested_step_size():
    X, y = sphere_data(20, 5, seed=0)
    with pytest.raises(ValueError, match=r"diverged.*lr=50.*stable.*Theorem 4.1"):
        train(TwoLayerReLU(5, 64, device="cpu"), X, y, lr=50.0, steps=200)
    with pytest.raises(ValueError, match="diverged"):
        train(DeepReLU(5, 64, 2, device="cpu"), X, y, lr=10.0, steps=200)


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=-1.0, steps=1), "lr must"), (dict(lr=float("nan"), steps=1), "lr must"),
    (dict(lr=0.1, steps=-1), "steps must"), (dict(lr=0.1, steps=1, batch_size=0), "batch_size"),
    (dict(lr=0.1, steps=1, batch_size=99), "batch_size"), (dict(lr=0.1, steps=1, loss="hinge"), "loss"),
    (dict(lr=0.1, steps=1, record=("loss", "speed")), "unknown record"),
    (dict(lr=0.1, steps=1, record_every=0), "record_every"),
    (dict(lr=0.1, steps=1, loss="logistic"), r"\{-1, \+1\}"),
])
def test_bad_arguments_raise_value_error(kwargs, match):
    X, y = sphere_data(10, 4)
    with pytest.raises(ValueError, match=match):
        train(TwoLayerReLU(4, 8, device="cpu"), X, y, **kwargs)


def test_bad_data_raise_value_error():
    X, y = sphere_data(10, 4)
    net = TwoLayerReLU(4, 8, device="cpu")
    with pytest.raises(ValueError, match="norm"):
        train(net, 2 * X, y, lr=0.1, steps=1)
    with pytest.raises(ValueError, match="parallel"):
        train(net, torch.cat([X, X[:1]]), torch.cat([y, y[:1]]), lr=0.1, steps=1)
    with pytest.raises(ValueError, match="one label per row"):
        train(net, X, y[:5], lr=0.1, steps=1)
    with pytest.raises(TypeError, match="overparam.models"):
        train(torch.nn.Linear(4, 1), X, y, lr=0.1, steps=1)


def test_callback_sees_the_model_at_every_recorded_step():
    X, y = sphere_data(10, 4, seed=0)
    net = TwoLayerReLU(4, 32, seed=0, device="cpu")
    seen = []
    hist = train(net, X, y, lr=0.3, steps=9, record_every=4,
                 callback=lambda k, model: seen.append((k, float(0.5 * ((model(X) - y) ** 2).sum()))))
    assert [k for k, _ in seen] == list(hist.steps) == [0, 4, 8, 9]
    np.testing.assert_allclose([v for _, v in seen], hist.loss, rtol=1e-12)


@pytest.mark.parametrize("loss", ["square", "logistic"])
@pytest.mark.parametrize("model_kind", ["two_layer", "deep"])
def test_one_sgd_step_follows_the_unbiased_minibatch_loss(loss, model_kind):
    # One SGD step, recomputed independently: the batch is the first b indices of the seeded
    # permutation; its loss is (n/b) x 1/2-sum (square) or the batch mean (logistic).
    n, b, lr = 24, 6, 0.3
    X, y = sphere_data(n, 5, seed=1, labels="sign")

    def make():
        if model_kind == "two_layer":
            return TwoLayerReLU(5, 40, seed=2, train_output=True, device="cpu")
        return DeepReLU(5, 40, 2, parameterization="zou", seed=2, device="cpu")

    net, ref = make(), make()
    train(net, X, y, lr=lr, steps=1, batch_size=b, loss=loss, seed=7)
    idx = torch.randperm(n, generator=torch.Generator().manual_seed(7))[:b]
    f, yb = ref(X[idx]), y[idx]
    if loss == "square":
        value = (n / b) * 0.5 * ((f - yb) ** 2).sum()
    else:
        value = torch.log1p(torch.exp(-yb * f)).mean()
    value.backward()
    with torch.no_grad():
        for p in ref.parameters():
            p -= lr * p.grad
    for p, q in zip(net.parameters(), ref.parameters()):
        assert torch.allclose(p, q, atol=1e-12)
