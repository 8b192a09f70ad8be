"""landscape.gd_kernel_run (Chapter 11) takes GD steps of 1/lambda_max of the NTK at init:
its first step is checked against one step written out by hand with autograd."""
import copy

import numpy as np
import torch

from overparam.deep import azls_data
from overparam.landscape import gd_kernel_run
from overparam.models import DeepReLU


def _jacobian(net, X):
    params = [getattr(net, k) for k in net.trained_layers()]
    rows = []
    for i in range(X.shape[0]):
        g = torch.autograd.grad(net(X[i:i + 1]).sum(), params)
        rows.append(torch.cat([t.flatten() for t in g]))
    return torch.stack(rows), params


def test_first_step_is_one_over_lambda_max():
    X, y = azls_data(n=6, d=8, seed=2, labels="gaussian")
    net = DeepReLU(d=8, m=128, depth=2, parameterization="allen_zhu", seed=4, device="cpu")
    ref = copy.deepcopy(net)
    out = gd_kernel_run(net, X, y, steps=1, record_every=1)
    J, params = _jacobian(ref, X)
    lr = 1.0 / torch.linalg.eigvalsh(J @ J.T)[-1]          # the NTK is J J^T
    u = ref(X).flatten()
    grad = J.T @ (u - y)                                     # gradient of 1/2 ||u - y||^2
    with torch.no_grad():
        start = 0
        for p in params:
            p.sub_(lr * grad[start:start + p.numel()].view_as(p))
            start += p.numel()
        F1 = 0.5 * float(((ref(X).flatten() - y) ** 2).sum())
    assert out["rec"].shape == (2, 4)
    assert np.isclose(out["rec"][1, 1], F1, rtol=1e-8)
    assert abs(out["rec"][1, 1] - out["rec"][0, 1]) > 1e-3 * out["rec"][0, 1]   # it moved
