"""Tests of overparam.generalization (Chapter 15): Arora et al.'s quantity, digits, labels."""

import math

import pytest
import torch

from overparam.data import check_inputs, sphere_data
from overparam.generalization import (arora_complexity, digits_two_class, label_noise_run,
                                      randomize_labels)
from overparam.kernels import h_infinity


def test_arora_complexity_matches_eigen_decomposition():
    X, y = sphere_data(15, 5, seed=1)
    evals, V = torch.linalg.eigh(h_infinity(X))
    expected = math.sqrt(float(((V.T @ y) ** 2 / evals).sum()) / 15)   # sum (v_i^T y)^2 / l_i
    assert math.isclose(arora_complexity(X, y), expected, rel_tol=1e-8)


def test_arora_complexity_of_top_eigenvector_labels():
    X, _ = sphere_data(12, 4, seed=2)
    evals, V = torch.linalg.eigh(h_infinity(X))
    for k in (0, 11):                     # y = v_k gives sqrt(1/(n lambda_k))
        assert math.isclose(arora_complexity(X, V[:, k]), math.sqrt(1 / (12 * float(evals[k]))),
                            rel_tol=1e-8)


def test_randomize_labels_fraction():
    y = torch.ones(400, dtype=torch.float64)
    assert torch.equal(randomize_labels(y, 0.0), y)
    z = randomize_labels(y, 1.0, seed=3)
    assert set(z.tolist()) == {-1.0, 1.0}
    changed = float((randomize_labels(y, 0.5, seed=3) != y).double().mean())
    assert 0.15 < changed < 0.35          # half replaced, about half of those change sign
    with pytest.raises(ValueError):
        randomize_labels(y, 1.5)


def test_digits_are_unit_norm_two_classes_without_duplicates():
    X, y, Xt, yt = digits_two_class((3, 5), n_train=100, n_test=50, seed=0)
    assert X.shape == (100, 64) and Xt.shape == (50, 64)
    check_inputs(torch.cat([X, Xt]))      # unit norm, no two parallel rows
    assert set(y.tolist()) | set(yt.tolist()) == {-1.0, 1.0}
    with pytest.raises(ValueError):
        digits_two_class((3, 3))


def test_random_labels_raise_the_quantity_and_the_test_error():
    X, y, Xt, yt = digits_two_class((3, 5), n_train=80, n_test=80, seed=0)
    true = label_noise_run(X, y, Xt, yt, fraction=0.0, m=100, steps=100)
    rand = label_noise_run(X, y, Xt, yt, fraction=1.0, m=100, steps=100)
    assert rand.complexity > 2 * true.complexity
    assert rand.test_error > true.test_error + 0.1


def test_arora_complexity_refuses_singular_gram_matrix():
    # three opposite pairs whose x_i (e1, e2, (e1 + e2)/sqrt 2) are linearly dependent: lambda_0 = 0
    # exactly (Chapter 3), so (H^infty)^{-1} does not exist and the quantity must not be computed
    s = 1 / math.sqrt(2)
    X = torch.tensor([[1, 0], [-1, 0], [0, 1], [0, -1], [s, s], [-s, -s]], dtype=torch.float64)
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="numerically zero"):
        arora_complexity(X, torch.ones(6, dtype=torch.float64))
