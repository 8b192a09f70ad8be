import math

import pytest
import torch

from overparam.data import check_inputs, close_pair_data, sphere_data
from overparam.kernels import h_infinity, lambda_min


@pytest.mark.parametrize("angle", [1e-3, 0.3, math.pi / 2, math.pi])
def test_close_pair_data_puts_the_pair_at_the_angle(angle):
    X, y = close_pair_data(30, 6, angle, seed=2)
    assert torch.allclose(X.norm(dim=1), torch.ones(30, dtype=X.dtype), atol=1e-12)
    got = math.acos(max(-1.0, min(1.0, float(X[0] @ X[1]))))
    assert got == pytest.approx(angle, abs=1e-7)
    X0, y0 = sphere_data(30, 6, seed=2)
    assert torch.equal(X[0], X0[0]) and torch.equal(X[2:], X0[2:]) and torch.equal(y, y0)


def test_lambda0_vanishes_as_the_pair_becomes_parallel():
    lams = [lambda_min(h_infinity(close_pair_data(20, 5, t, seed=0)[0])) for t in (0.5, 0.05, 0.005)]
    assert lams[0] > lams[1] > lams[2] > 0
    assert lams[2] < 0.05 * lams[0]


def test_close_pair_data_at_angle_zero_is_rejected_by_check_inputs():
    X, _ = close_pair_data(5, 3, 0.0)
    with pytest.raises(ValueError, match="parallel"):
        check_inputs(X)
    with pytest.raises(ValueError):
        close_pair_data(5, 3, -0.1)
    with pytest.raises(ValueError):
        close_pair_data(1, 3, 0.1)
