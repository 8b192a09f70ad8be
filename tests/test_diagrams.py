"""The schematic of chapter 3's arc-cosine lemma draws the arc the lemma integrates over."""

import math

import numpy as np
import pytest
import torch

from overparam.diagrams import half_circle_overlap, half_circles
from overparam.kernels import h_infinity


@pytest.mark.parametrize("theta", [0.0, 0.4, math.pi / 2, 2.5, math.pi])
def test_overlap_arc_is_where_both_patterns_are_one(theta):
    start, end = half_circle_overlap(theta)
    phi = np.random.default_rng(0).uniform(-math.pi, math.pi, 200_000)
    both = (np.cos(phi) >= 0) & (np.cos(phi - theta) >= 0)       # g^T x_i >= 0 and g^T x_j >= 0
    assert abs(both.mean() - (end - start) / (2 * math.pi)) < 0.005
    assert math.isclose(end - start, math.pi - theta)


@pytest.mark.parametrize("theta", [0.3, 1.2, 2.8])
def test_overlap_length_gives_h_infinity(theta):
    X = torch.tensor([[1.0, 0.0], [math.cos(theta), math.sin(theta)]], dtype=torch.float64)
    start, end = half_circle_overlap(theta)
    assert math.isclose(float(h_infinity(X)[0, 1]), math.cos(theta) * (end - start) / (2 * math.pi),
                        rel_tol=1e-12, abs_tol=1e-15)


def test_half_circles_draws_three_labelled_arcs_and_refuses_non_angles():
    fig = half_circles(1.0)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(labels) == 3 and "pi - \\theta" in labels[2]
    with pytest.raises(ValueError):
        half_circle_overlap(4.0)


def test_may_flip_is_where_the_ball_crosses_the_hyperplane():
    from overparam.diagrams import may_flip

    rng = np.random.default_rng(1)
    W0, x, radius = rng.normal(size=(300, 3)), rng.normal(size=3), 0.4
    u = rng.normal(size=(20_000, 3))
    ball = u / np.linalg.norm(u, axis=1, keepdims=True) * rng.uniform(0, 1, (20_000, 1)) ** (1 / 3)
    crosses = [bool((np.sign((w + radius * ball) @ x) != np.sign(w @ x)).any())
               for w in W0]                            # some point of the ball on the other side
    dist = np.abs(W0 @ x) / np.linalg.norm(x)           # distance of each centre to the hyperplane
    clear = np.abs(dist - radius) > 0.05                # leave out centres near the ball's edge
    assert np.array_equal(may_flip(W0, x, radius)[clear], np.array(crosses)[clear])


def test_flip_balls_draws_one_ball_per_neuron():
    from overparam.diagrams import flip_balls

    fig = flip_balls(radius=0.3, n_neurons=10)
    import matplotlib.patches as mpatches

    assert sum(isinstance(p, mpatches.Circle) for p in fig.axes[0].patches) == 10
    assert len(fig.axes[0].get_legend().get_texts()) == 4
