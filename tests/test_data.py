import math
import warnings

import numpy as np
import pytest
import torch

from overparam.data import (
    OppositeInputsWarning,
    check_inputs,
    normalize_rows,
    opposite_pairs,
    separation,
    sphere_data,
)


def test_sphere_data_unit_norm_shapes_dtype_and_seed():
    X, y = sphere_data(50, 7, seed=3)
    assert X.shape == (50, 7) and y.shape == (50,) and X.dtype == torch.float64
    assert torch.allclose(X.norm(dim=1), torch.ones(50, dtype=torch.float64), atol=1e-12)
    X2, y2 = sphere_data(50, 7, seed=3)
    assert torch.equal(X, X2) and torch.equal(y, y2)
    X3, _ = sphere_data(50, 7, seed=4)
    assert not torch.equal(X, X3)


def test_sphere_data_is_uniform_on_the_sphere():
    # mean ~ 0 and second moment E[x x^T] = I/d for the uniform distribution
    X, _ = sphere_data(20000, 4, seed=0)
    assert float(X.mean(0).abs().max()) < 0.02
    assert torch.allclose(X.T @ X / X.shape[0], torch.eye(4, dtype=torch.float64) / 4, atol=0.01)


def test_label_kinds():
    _, y = sphere_data(400, 5, labels="gaussian")
    assert abs(float(y.mean())) < 0.2 and abs(float(y.std()) - 1) < 0.15
    _, y = sphere_data(400, 5, labels="sign")
    assert set(y.tolist()) == {-1.0, 1.0} and abs(float(y.sum())) <= 2
    _, y = sphere_data(400, 5, labels="teacher")
    assert abs(float(y.mean())) < 1e-10 and abs(float(y.std()) - 1) < 1e-10
    with pytest.raises(ValueError, match="labels"):
        sphere_data(10, 3, labels="random")
    with pytest.raises(ValueError, match="d must be"):
        sphere_data(10, 1)


def test_check_inputs_accepts_good_data_and_numpy():
    X, y = sphere_data(20, 4)
    assert check_inputs(X.numpy(), y.numpy()).shape == (20, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # good data: no warning either
        check_inputs(X)


def test_check_inputs_warns_on_opposite_inputs_and_lists_them():
    # x_j = -x_i is parallel in the sense of Du et al.'s Theorem 3.1 (x_i != +-x_j): it passes
    # the data check (H^infty may still be non-singular) but with a warning naming the rows
    X, _ = sphere_data(20, 4)
    Xo = torch.cat([X, -X[3:4]])
    with pytest.warns(OppositeInputsWarning, match="rows 3 and 20"):
        check_inputs(Xo)
    assert opposite_pairs(Xo) == [(3, 20)]
    assert opposite_pairs(X) == []
    # a nearly opposite pair (angle 1e-3 from -x_3) satisfies the hypothesis: no warning
    v = torch.randn(4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    v = v - (v @ X[3]) * X[3]
    near = -math.cos(1e-3) * X[3] + math.sin(1e-3) * v / v.norm()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_inputs(torch.cat([X, near[None]]))


@pytest.mark.parametrize("bad, match", [
    (lambda X: X * 2, "norm"),
    (lambda X: torch.cat([X, X[3:4]]), "parallel"),
    (lambda X: X[0], "2-D"),
    (lambda X: torch.where(torch.arange(4) == 0, float("nan"), X), "NaN"),
])
def test_check_inputs_rejects_bad_inputs_with_advice(bad, match):
    X, _ = sphere_data(10, 4)
    with pytest.raises(ValueError, match=match):
        check_inputs(bad(X))


def test_check_inputs_message_says_how_to_fix():
    X, _ = sphere_data(10, 4)
    with pytest.raises(ValueError, match="normalize_rows"):
        check_inputs(3 * X)
    with pytest.raises(ValueError, match="one label per row"):
        check_inputs(X, torch.zeros(9))
    with pytest.raises(ValueError, match="NaN"):
        check_inputs(X, torch.full((10,), float("inf")))


def test_normalize_rows():
    Z = torch.tensor([[3.0, 4.0], [0.0, 2.0]])
    assert torch.allclose(normalize_rows(Z), torch.tensor([[0.6, 0.8], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="zero row"):
        normalize_rows(torch.zeros(1, 2))


def test_separation_delta_and_phi_against_brute_force():
    X, y = sphere_data(25, 3, seed=1, labels="sign")
    Xn, yn = X.numpy(), y.numpy()
    pairs = [(i, j) for i in range(25) for j in range(25) if i != j]
    delta = min(np.linalg.norm(Xn[i] - Xn[j]) for i, j in pairs)
    phi = min(np.linalg.norm(Xn[i] - Xn[j]) for i, j in pairs if yn[i] != yn[j])
    assert math.isclose(separation(X), delta, rel_tol=1e-9)
    assert math.isclose(separation(X, y), phi, rel_tol=1e-9)
    assert phi >= delta
    with pytest.raises(ValueError, match="two classes"):
        separation(X, torch.ones(25))
