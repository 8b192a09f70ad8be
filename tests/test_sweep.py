import numpy as np
import pytest
import torch

from overparam.data import sphere_data
from overparam.models import TwoLayerReLU
from overparam.sweep import sweep
from overparam.train import train


def test_sweep_equals_separate_train_runs():
    X, y = sphere_data(20, 6, seed=0)
    widths, seeds = [16, 64, 200], [0, 3]
    res = sweep(widths, seeds, X, y, lr=0.4, steps=30, record=("loss", "radius", "flips"),
                record_every=10, device="cpu")
    assert res.loss.shape == (3, 2, 4) and list(res.steps) == [0, 10, 20, 30]
    for i, m in enumerate(widths):
        for j, s in enumerate(seeds):
            h = train(TwoLayerReLU(6, m, seed=s, device="cpu"), X, y, lr=0.4, steps=30,
                      record=("loss", "radius", "flips"), record_every=10)
            np.testing.assert_allclose(res.loss[i, j], h.loss, rtol=1e-9)
            np.testing.assert_allclose(res.radius[i, j], h.radius, rtol=1e-9, atol=1e-14)
            np.testing.assert_allclose(res.flips[i, j], h.flips, rtol=1e-9)


def test_wider_nets_move_less_and_flip_less():
    # Du et al. Fig. 1 (b), (c): both shrink as m grows.
    X, y = sphere_data(30, 10, seed=1)
    res = sweep([50, 5000], [0, 1], X, y, lr=0.3, steps=50, record=("radius", "flips"), device="cpu")
    assert res.radius[1, :, -1].mean() < 0.3 * res.radius[0, :, -1].mean()
    assert res.flips[1, :, -1].mean() < res.flips[0, :, -1].mean()


def test_sweep_errors():
    X, y = sphere_data(5, 3)
    with pytest.raises(ValueError, match="unknown"):
        sweep([4], [0], X, y, lr=0.1, steps=1, record=("lambda_min",))
    with pytest.raises(ValueError, match="non-empty"):
        sweep([], [0], X, y, lr=0.1, steps=1)
    with pytest.raises(ValueError, match="diverged"):
        sweep([8], [0], X, y, lr=1e6, steps=50, device="cpu")
    with pytest.raises(AttributeError, match="record"):
        sweep([8], [0], X, y, lr=0.1, steps=1, device="cpu").flips


@pytest.mark.parametrize("dtype, rtol", [(torch.float64, 1e-9), (torch.float32, 1e-4)])
def test_sweep_keeps_networks_apart_with_uneven_widths_and_seeds(dtype, rtol):
    # Each width is one batch of seeds: a width of 1, unsorted seeds and a last step that is not
    # a multiple of record_every must still give every network exactly its own run.
    X, y = sphere_data(15, 4, seed=2)
    widths, seeds = [1, 7, 33], [4, 0, 2]
    res = sweep(widths, seeds, X, y, lr=0.3, steps=10, record=("loss", "radius", "flips"),
                record_every=4, dtype=dtype, device="cpu")
    assert list(res.steps) == [0, 4, 8, 10]
    for i, m in enumerate(widths):
        for j, s in enumerate(seeds):
            h = train(TwoLayerReLU(4, m, seed=s, dtype=dtype, device="cpu"), X.to(dtype),
                      y.to(dtype), lr=0.3, steps=10, record=("loss", "radius", "flips"),
                      record_every=4)
            np.testing.assert_allclose(res.loss[i, j], h.loss, rtol=rtol)
            np.testing.assert_allclose(res.radius[i, j], h.radius, rtol=rtol, atol=1e-7)
            np.testing.assert_array_equal(res.flips[i, j], h.flips)
