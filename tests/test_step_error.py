"""landscape.step_error (Chapter 2) against hand-made errors and a real flip-free step."""
import numpy as np
import torch

from overparam.data import sphere_data
from overparam.landscape import gd_step_prediction, step_error
from overparam.models import TwoLayerReLU


def test_step_error_matches_its_formulas_on_a_known_error():
    predicted = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
    u = torch.tensor([3.0, 4.0, 0.0, 0.0], dtype=torch.float64)          # ||u|| = 5
    actual = 0.9 * predicted                     # the step falls 10% short: e = -0.1 predicted
    rel, units, corr = step_error(actual, predicted, u)
    assert np.isclose(rel, 0.1)
    assert np.isclose(units, 0.1 * float(predicted.norm()) / (np.finfo(float).eps * 5.0))
    assert np.isclose(corr, -1.0)
    e = torch.tensor([0.3, 0.1, -0.2, 0.0], dtype=torch.float64)        # an arbitrary error
    rel, _, corr = step_error(predicted + e, predicted, u)
    assert np.isclose(rel, float(e.norm() / predicted.norm()))
    assert np.isclose(corr, np.corrcoef(e.numpy(), predicted.numpy())[0, 1])


def test_a_flip_free_step_is_at_the_rounding_level():
    X, y = sphere_data(20, 5, seed=0)
    net = TwoLayerReLU(5, 200, seed=0)
    actual, predicted, flips = gd_step_prediction(net, X, y, 1e-4)
    assert flips == 0
    _, units, _ = step_error(actual, predicted, net(X).detach())
    assert units < 100
    actual, predicted, flips = gd_step_prediction(net, X, y, 1.0)
    assert flips > 0
    rel, units, _ = step_error(actual, predicted, net(X).detach())
    assert units > 1e6 and rel > 1e-3
