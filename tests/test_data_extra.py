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


# --- check_model_input: a model's weights and its data share one dtype ---------------------------
def test_check_model_input_refuses_data_of_another_dtype_and_says_how_to_fix():
    import numpy as np

    from overparam.data import check_model_input, model_dtype
    from overparam.kernels import empirical_ntk, gram_matrix
    from overparam.models import DeepReLU, TwoLayerReLU

    X, _ = sphere_data(6, 4, seed=0)                                  # float64
    net32 = TwoLayerReLU(4, 8, dtype=torch.float32, device="cpu")
    deep32 = DeepReLU(4, 8, 2, dtype=torch.float32, device="cpu")
    assert model_dtype(net32) == model_dtype(deep32) == torch.float32
    for call in (lambda: check_model_input(net32, X), lambda: gram_matrix(net32, X),
                 lambda: gram_matrix(deep32, X), lambda: empirical_ntk(deep32, X),
                 lambda: empirical_ntk(deep32, X.float(), X)):
        with pytest.raises(TypeError, match=r"torch\.float64 but the model's weights are "
                                             r"torch\.float32.*\.to\(torch\.float32\).*"
                                             r"dtype=torch\.float64"):
            call()
    with pytest.raises(TypeError, match=r"^Y is torch\.float64"):
        check_model_input(net32, X, name="Y")
    with pytest.raises(TypeError, match=r"X\.astype\(np\.float32\)"):          # numpy data
        check_model_input(net32, X.numpy())
    net64 = TwoLayerReLU(4, 8, device="cpu")
    with pytest.raises(TypeError, match=r"X is torch\.float32 but .* torch\.float64"):
        gram_matrix(net64, X.float())
    seq = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 1))
    assert model_dtype(seq) == torch.float32                           # any nn.Module
    with pytest.raises(TypeError, match="float64 but the model's weights are torch.float32"):
        empirical_ntk(seq, X)
    # matching dtypes pass, and so do data that carry no dtype of their own
    check_model_input(net32, X.float())
    check_model_input(net32, X.float().numpy())
    check_model_input(net64, X.tolist())
    assert gram_matrix(net32, X.float()).dtype == torch.float32
    assert empirical_ntk(seq.double(), X).dtype == torch.float64
    assert np.isfinite(empirical_ntk(deep32, X.float()).numpy()).all()
