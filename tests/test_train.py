import math

import numpy as np
import pytest
import torch

from overparam.data import sphere_data
from overparam.kernels import gram_matrix, h_infinity, lambda_max, lambda_min
from overparam.models import DeepReLU, TwoLayerReLU
from overparam.train import RECORDS, SAMPLINGS, batch_indices, suggested_lr, train


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


# --- SGD's sampling: epochs (default) or an independent uniform batch per step -----------------
def _epoch_batches_by_hand(n, b, steps, seed):
    """The default batches, written out: a fresh torch.randperm(n) of one seeded generator at
    the start of each epoch, cut into its n // b full batches (the last n mod b examples of a
    permutation are not used)."""
    gen, out = torch.Generator().manual_seed(seed), []
    while len(out) < steps:
        perm = torch.randperm(n, generator=gen)
        out += [perm[k * b:(k + 1) * b] for k in range(n // b)]
    return out[:steps]


def _sgd_by_hand(net, X, y, lr, batches, n):
    """Plain autograd SGD on the unbiased square loss (n/b) 1/2 sum_batch (f - y)^2."""
    for idx in batches:
        net.zero_grad()
        f = net(X[idx])
        ((n / len(idx)) * 0.5 * ((f - y[idx]) ** 2).sum()).backward()
        with torch.no_grad():
            for p in net.parameters():
                if p.requires_grad:
                    p -= lr * p.grad


@pytest.mark.parametrize("n, b", [(12, 3), (10, 4)])
def test_default_sampling_is_the_epoch_permutation_unchanged(n, b):
    # Not a stored expectation: train() without the argument, train(sampling="epoch") and SGD
    # by hand on the permutations written out above must agree (b | n and b not dividing n).
    X, y = sphere_data(n, 5, seed=3)
    steps, seed = 3 * (n // b) + 1, 11                   # into a fourth epoch
    for got, want in zip(batch_indices(n, b, steps, seed=seed),
                         _epoch_batches_by_hand(n, b, steps, seed)):
        assert torch.equal(got, want)
    assert len(list(batch_indices(n, b, steps, seed=seed))) == steps
    kw = dict(lr=0.2, steps=steps, batch_size=b, seed=seed, record=("loss", "flips"))
    a, c = TwoLayerReLU(5, 48, seed=1, device="cpu"), TwoLayerReLU(5, 48, seed=1, device="cpu")
    ha, hc = train(a, X, y, **kw), train(c, X, y, sampling="epoch", **kw)
    assert torch.equal(a.W, c.W) and np.array_equal(ha.loss, hc.loss)
    assert np.array_equal(ha.flips, hc.flips)
    assert ha.sampling == hc.sampling == "epoch"
    ref = TwoLayerReLU(5, 48, seed=1, device="cpu")
    _sgd_by_hand(ref, X, y, 0.2, _epoch_batches_by_hand(n, b, steps, seed), n)
    assert torch.allclose(a.W, ref.W, atol=1e-12)


@pytest.mark.parametrize("sampling", SAMPLINGS)
def test_same_seed_gives_the_same_sgd_run_for_each_sampling(sampling):
    X, y = sphere_data(16, 4, seed=0)

    def run(seed):
        net = DeepReLU(4, 32, 2, seed=0, device="cpu")
        h = train(net, X, y, lr=0.05, steps=20, batch_size=4, sampling=sampling, seed=seed,
                  record=("loss", "radius"))
        return net, h

    (n1, a), (n2, b), (_, c) = run(5), run(5), run(6)
    assert np.array_equal(a.loss, b.loss) and np.array_equal(a.radius, b.radius)
    assert all(torch.equal(p, q) for p, q in zip(n1.parameters(), n2.parameters()))
    assert not np.array_equal(a.loss, c.loss)
    assert a.sampling == sampling and f"sampling={sampling!r}" in repr(a)


def test_uniform_sgd_takes_its_batches_from_batch_indices():
    n, b, steps, seed = 12, 3, 10, 4
    X, y = sphere_data(n, 5, seed=3)
    net, ref = TwoLayerReLU(5, 48, seed=1, device="cpu"), TwoLayerReLU(5, 48, seed=1, device="cpu")
    train(net, X, y, lr=0.2, steps=steps, batch_size=b, sampling="uniform", seed=seed)
    _sgd_by_hand(ref, X, y, 0.2, batch_indices(n, b, steps, sampling="uniform", seed=seed), n)
    assert torch.allclose(net.W, ref.W, atol=1e-12)
    epoch = TwoLayerReLU(5, 48, seed=1, device="cpu")
    train(epoch, X, y, lr=0.2, steps=steps, batch_size=b, seed=seed)
    assert not torch.allclose(net.W, epoch.W)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_epoch_sampling_visits_each_example_once_per_epoch_and_uniform_does_not(seed):
    n, b, epochs = 12, 3, 5
    per_epoch = n // b
    ep = torch.stack(list(batch_indices(n, b, epochs * per_epoch, seed=seed)))
    for e in range(epochs):
        counts = torch.bincount(ep[e * per_epoch:(e + 1) * per_epoch].flatten(), minlength=n)
        assert counts.tolist() == [1] * n
    un = torch.stack(list(batch_indices(n, b, epochs * per_epoch, sampling="uniform",
                                        seed=seed)))
    counts = torch.bincount(un.flatten(), minlength=n)
    assert int(counts.sum()) == epochs * n and int(counts.max()) > int(counts.min())
    # with replacement across steps: some window of one epoch's length repeats an example
    assert any(int(torch.bincount(un[e * per_epoch:(e + 1) * per_epoch].flatten(),
                                  minlength=n).max()) > 1 for e in range(epochs))


def test_uniform_sampling_includes_each_example_with_probability_b_over_n():
    # Zou et al. (2020), Lemma D.2: every step's batch is a uniform b-subset, independent of
    # the past. Each example's count over T steps is Binomial(T, b/n); a pair's joint count is
    # Binomial(T, b(b-1)/(n(n-1))); consecutive batches overlap with probability
    # 1 - C(n-b, b)/C(n, b). Each is checked within 5 standard deviations.
    n, b, T = 10, 3, 20000
    B = torch.stack(list(batch_indices(n, b, T, sampling="uniform", seed=123)))
    assert B.shape == (T, b) and B.dtype == torch.long
    assert bool((B >= 0).all() and (B < n).all())
    srt = B.sort(dim=1).values
    assert bool((srt[:, 1:] != srt[:, :-1]).all())          # distinct within every batch

    def within(count, p):
        assert abs(count - T * p) < 5 * math.sqrt(T * p * (1 - p)), (count, T * p)

    for c in torch.bincount(B.flatten(), minlength=n).tolist():
        within(c, b / n)
    member = torch.zeros(T, n, dtype=torch.bool).scatter_(1, B, True)
    for i, j in [(0, 1), (2, 7), (5, 9)]:
        within(int((member[:, i] & member[:, j]).sum()), b * (b - 1) / (n * (n - 1)))
    overlap = (member[1:] & member[:-1]).any(dim=1)
    p = 1 - math.comb(n - b, b) / math.comb(n, b)
    assert abs(int(overlap.sum()) - (T - 1) * p) < 5 * math.sqrt((T - 1) * p * (1 - p))
    # epochs never repeat an example in the next batch of the same epoch: the contrast
    E = torch.stack(list(batch_indices(n, 5, 2, seed=123)))
    assert not bool(torch.isin(E[0], E[1]).any())


def test_sampling_is_checked_and_full_batch_gd_ignores_it():
    X, y = sphere_data(10, 4)
    for bad in ("Uniform", "random", None, 1):
        with pytest.raises(ValueError, match=r"sampling must be one of \('epoch', 'uniform'\)"):
            train(TwoLayerReLU(4, 8, device="cpu"), X, y, lr=0.1, steps=1, batch_size=2,
                  sampling=bad)
        with pytest.raises(ValueError, match="sampling must be one of"):
            train(TwoLayerReLU(4, 8, device="cpu"), X, y, lr=0.1, steps=1, sampling=bad)
    a, c = TwoLayerReLU(4, 8, device="cpu"), TwoLayerReLU(4, 8, device="cpu")
    ha = train(a, X, y, lr=0.1, steps=5)
    hc = train(c, X, y, lr=0.1, steps=5, sampling="uniform")
    assert torch.equal(a.W, c.W) and np.array_equal(ha.loss, hc.loss)
    assert ha.sampling is None and hc.sampling is None and "sampling=None" in repr(hc)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=0, batch_size=1, steps=1), "n must"), (dict(n=5, batch_size=0, steps=1), "batch_size"),
    (dict(n=5, batch_size=6, steps=1), "at most n = 5"), (dict(n=5, batch_size=2, steps=-1), "steps"),
    (dict(n=5, batch_size=2, steps=1, sampling="shuffle"), "sampling must be one of"),
])
def test_batch_indices_rejects_bad_arguments_when_called(kwargs, match):
    with pytest.raises(ValueError, match=match):
        batch_indices(**kwargs)


# --- dtypes: a model and its data must agree ----------------------------------------------------
@pytest.mark.parametrize("model_dtype, data_dtype", [(torch.float32, torch.float64),
                                                     (torch.float64, torch.float32)])
def test_model_and_data_of_different_dtypes_are_refused_with_the_fix(model_dtype, data_dtype):
    X, y = sphere_data(10, 4, seed=0)
    Xd, yd = X.to(data_dtype), y.to(data_dtype)
    for net in (TwoLayerReLU(4, 8, dtype=model_dtype, device="cpu"),
                DeepReLU(4, 8, 2, dtype=model_dtype, device="cpu")):
        W0 = [p.detach().clone() for p in net.parameters()]
        want = (rf"X is {data_dtype}.*model's weights are {model_dtype}.*X\.to\({model_dtype}\)"
                rf".*dtype={data_dtype}")
        with pytest.raises(TypeError, match=want):
            train(net, Xd, yd, lr=0.1, steps=3)
        with pytest.raises(TypeError, match=want):
            train(net, Xd, yd, lr=0.1, steps=3, batch_size=2)
        with pytest.raises(TypeError, match=want):
            suggested_lr(net, Xd)
        assert all(torch.equal(p, q) for p, q in zip(net.parameters(), W0))   # untouched
        train(net, Xd.to(model_dtype), yd, lr=0.1, steps=3)    # the fix works (y is cast)
        train(net.to(data_dtype), Xd, yd, lr=0.1, steps=3)     # and so does the other one


def test_a_float32_model_trains_on_float32_data():
    X, y = sphere_data(10, 4, seed=0, dtype=torch.float32)
    net = TwoLayerReLU(4, 64, dtype=torch.float32, device="cpu")
    h = train(net, X, y, lr=0.3, steps=20, record=("loss", "lambda_min"))
    assert net.W.dtype == torch.float32 and h.loss[-1] < h.loss[0]
    assert suggested_lr(net, X)["stable"] > 0
