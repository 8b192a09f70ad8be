import math

import pytest
import torch

from overparam.data import sphere_data
from overparam.models import DeepReLU, TwoLayerReLU


def test_two_layer_matches_du_formula_and_init_distribution():
    X, _ = sphere_data(5, 6, seed=0)
    net = TwoLayerReLU(6, 20000, seed=1, device="cpu")
    expected = (torch.relu(X @ net.W.T) * net.a).sum(1) / math.sqrt(20000)
    assert torch.allclose(net(X), expected, atol=1e-12)
    assert set(net.a.tolist()) == {-1.0, 1.0}
    W = net.W.detach()
    assert abs(float(W.mean())) < 0.01 and abs(float(W.std()) - 1) < 0.01
    assert abs(float(net.a.mean())) < 0.03


def test_only_w_trains_unless_train_output():
    net = TwoLayerReLU(3, 10, device="cpu")
    assert [n for n, _ in net.named_parameters()] == ["W"]
    assert "a" in dict(net.named_buffers())
    net2 = TwoLayerReLU(3, 10, train_output=True, device="cpu")
    assert [n for n, _ in net2.named_parameters()] == ["W", "a"]


def test_same_seed_same_weights_different_seed_different():
    a, b, c = (TwoLayerReLU(4, 8, seed=s, device="cpu") for s in (0, 0, 1))
    assert torch.equal(a.W, b.W) and not torch.equal(a.W, c.W)
    d1 = DeepReLU(4, 8, 2, seed=5, device="cpu")
    d2 = DeepReLU(4, 8, 2, seed=5, device="cpu")
    assert all(torch.equal(p, q) for p, q in zip(d1.parameters(), d2.parameters()))


def test_deep_parameterizations_train_the_right_layers():
    ntk = DeepReLU(5, 16, 3, parameterization="ntk", device="cpu")
    assert ntk.trained_layers() == ["W1", "W2", "W3", "W4"]
    az = DeepReLU(5, 16, 3, parameterization="allen_zhu", device="cpu")
    assert az.trained_layers() == ["W1", "W2", "W3"]
    assert {"A", "B"} <= set(dict(az.named_buffers()))
    zou = DeepReLU(5, 16, 2, parameterization="zou", device="cpu")
    assert zou.trained_layers() == ["W1", "W2"]
    assert sorted(zou.v.tolist()) == [-1.0] * 8 + [1.0] * 8


def test_deep_forward_against_explicit_formulas():
    X, _ = sphere_data(4, 5, seed=0)
    m = 32
    ntk = DeepReLU(5, m, 2, parameterization="ntk", device="cpu")
    c = math.sqrt(2 / m)
    h = X @ ntk.W1.T
    h = (c * torch.relu(h)) @ ntk.W2.T
    assert torch.allclose(ntk(X), ((c * torch.relu(h)) @ ntk.W3.T)[:, 0], atol=1e-12)
    az = DeepReLU(5, m, 2, parameterization="allen_zhu", device="cpu")
    h = torch.relu(X @ az.A.T)
    h = torch.relu(torch.relu(h @ az.W1.T) @ az.W2.T)
    assert torch.allclose(az(X), (h @ az.B.T)[:, 0], atol=1e-12)
    zou = DeepReLU(5, m, 2, parameterization="zou", device="cpu")
    h = torch.relu(torch.relu(X @ zou.W1.T) @ zou.W2.T)
    assert torch.allclose(zou(X), h @ zou.v, atol=1e-12)


def test_deep_init_variances():
    az = DeepReLU(50, 1000, 1, parameterization="allen_zhu", device="cpu")
    assert abs(float(az.W1.detach().var()) * 1000 / 2 - 1) < 0.02
    assert abs(float(az.A.var()) * 1000 / 2 - 1) < 0.05
    ntk = DeepReLU(50, 1000, 1, parameterization="ntk", device="cpu")
    assert abs(float(ntk.W1.detach().var()) - 1) < 0.02


def test_preactivations_and_patterns():
    X, _ = sphere_data(6, 4)
    net = DeepReLU(4, 16, 3, parameterization="allen_zhu", device="cpu")
    pats = net.activation_patterns(X)
    assert len(pats) == 4 and all(p.shape == (6, 16) and p.dtype == torch.bool for p in pats)


@pytest.mark.parametrize("kwargs, match", [
    (dict(d=0, m=3), "d must"), (dict(d=3, m=0), "m must"), (dict(d=3, m=2.5), "m must"),
])
def test_bad_sizes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TwoLayerReLU(**kwargs, device="cpu")


def test_bad_parameterization_and_input_shape():
    with pytest.raises(ValueError, match="parameterization"):
        DeepReLU(3, 4, 2, parameterization="standard", device="cpu")
    with pytest.raises(ValueError, match="depth"):
        DeepReLU(3, 4, 0, device="cpu")
    net = TwoLayerReLU(3, 4, device="cpu")
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        net(torch.zeros(2, 5, dtype=torch.float64))


def test_float32_models_and_numpy_inputs():
    X, _ = sphere_data(3, 4)
    net = TwoLayerReLU(4, 8, dtype=torch.float32, device="cpu")
    assert net(X.numpy()).dtype == torch.float32
