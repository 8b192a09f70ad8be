"""Chapter 13: classification.logistic_constants against the closed form of Exercise 13.1."""
import math

import pytest

from overparam.classification import logistic_constants


@pytest.mark.parametrize("b", [0.5, 1.0, 2.0])
def test_logistic_constants_match_the_closed_form(b):
    alpha0, alpha1 = logistic_constants(b, 1.0)
    assert alpha0 == pytest.approx(1 - math.exp(-b), rel=1e-4)   # the grid of z has spacing 4e-4
    assert alpha1 == pytest.approx((1 - math.exp(-b)) / b, rel=1e-4)   # the grid of z has spacing 4e-4


def test_logistic_constants_vanish_for_p_below_one():
    # l^{1/2} decays like e^{-z/2}, more slowly than -l' ~ e^{-z}: no positive alpha_1
    assert logistic_constants(1.0, 0.5)[1] < 1e-6
