"""Tests of deep.depth_runs and of batch_size_runs' sampling (Chapter 12b: SGD as the theorems
analyse it, and the depth picture). Small sizes; every expected value is recomputed
independently (the step from the kernel's eigenvalues, the iteration count from a run of
``train``), not read back from the function."""

import math

import numpy as np
import pytest
import torch

from overparam import deep
from overparam.kernels import empirical_ntk
from overparam.models import DeepReLU
from overparam.train import train


def test_depth_runs_step_is_one_over_lambda_max_and_iterations_reach_the_target():
    X, y = deep.azls_data(5, 6, seed=0)
    r = deep.depth_runs(X, y, depths=[1, 3], widths=[32], seeds=[0, 1], steps=400, target=1e-2)
    assert r["lr"].shape == r["iterations"].shape == r["trained"].shape == (2, 1, 2)
    for a, L in enumerate([1, 3]):
        for c, s in enumerate([0, 1]):
            net = DeepReLU(6, 32, L, parameterization="allen_zhu", seed=s, device="cpu")
            lam = float(torch.linalg.eigvalsh(empirical_ntk(net, X)).max())
            assert r["lr"][a, 0, c] == pytest.approx(1 / lam, rel=1e-9)
            if r["trained"][a, 0, c]:                   # rerun by hand: the first step below
                F0 = float(0.5 * ((net(X) - y) ** 2).sum().detach())
                h = train(net, X, y, lr=1 / lam, steps=int(r["iterations"][a, 0, c]))
                assert h.loss[-1] <= 1e-2 * F0 < min(h.loss[:-1])
    assert r["trained"].any()


def test_depth_runs_first_success_gives_the_first_width_that_trains():
    X, y = deep.azls_data(5, 6, seed=1)
    widths = [2, 4, 8, 64]
    r = deep.depth_runs(X, y, depths=[2], widths=widths, seeds=[0, 1, 2], steps=200,
                        target=1e-2, first_success=True)
    full = deep.depth_runs(X, y, depths=[2], widths=widths, seeds=[0, 1, 2], steps=200,
                           target=1e-2)
    for c in range(3):
        ok = full["trained"][0, :, c]
        expected = widths[int(np.argmax(ok))] if ok.any() else math.inf
        assert r["smallest_width"][0, c] == expected
        k = widths.index(expected) if ok.any() else len(widths)
        assert np.all(np.isnan(r["iterations"][0, k + 1:, c]))      # skipped after success
    with pytest.raises(ValueError, match="increase"):
        deep.depth_runs(X, y, depths=[1], widths=[64, 8], seeds=[0], steps=5, first_success=True)
    with pytest.raises(ValueError, match="target"):
        deep.depth_runs(X, y, depths=[1], widths=[8], seeds=[0], steps=5, target=2.0)


def test_batch_size_runs_sampling_is_trains_and_gd_does_not_sample():
    X, y = deep.azls_data(4, 6, seed=0)
    kw = dict(m=32, depth=2, seeds=[0], lr_full=0.01, target=0.3, max_steps=3000)
    uni = deep.batch_size_runs(X, y, batches=[1, 4], sampling="uniform", **kw)
    epo = deep.batch_size_runs(X, y, batches=[1, 4], sampling="epoch", **kw)
    assert uni["iterations"][1, 0] == epo["iterations"][1, 0]          # b = n: GD either way
    net = DeepReLU(6, 32, 2, parameterization="allen_zhu", seed=0, device="cpu")
    F0 = float(0.5 * ((net(X) - y) ** 2).sum().detach())
    h = train(net, X, y, lr=0.01 / 4, steps=3000, batch_size=1, sampling="uniform",
              record=("loss",), until={"loss": 0.3 * F0}, seed=0)
    assert uni["iterations"][0, 0] == h.steps[-1]                     # the same uniform batches
    with pytest.raises(ValueError, match="sampling"):
        deep.batch_size_runs(X, y, batches=[1], sampling="shuffle", **kw)
