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


def test_park_and_push_parks_s_below_zero_and_pushes_it_across():
    from overparam.diagrams import park_and_push_positions

    z = np.random.default_rng(2).uniform(-1.5, 1.5, 400)
    omega, r, eps = 0.4, 0.2, 0.05
    pos = park_and_push_positions(z, omega, r, eps=eps, seed=3)
    S = pos["S"]
    assert np.array_equal(S, (z < 0) & (z > -omega)) and S.sum() > 20     # off, within omega of 0
    assert ((pos["parked"][S] > -eps) & (pos["parked"][S] < 0)).all()     # parked: still off
    assert ((pos["pushed"][S] > 0) & (pos["pushed"][S] <= r)).all()       # pushed across 0
    assert np.array_equal(pos["parked"][~S], z[~S]) and np.array_equal(pos["pushed"][~S], z[~S])
    assert np.array_equal(np.argsort(pos["parked"][S]), np.argsort(z[S]))  # parking keeps order
    move = pos["random"] - z
    assert np.abs(move).max() <= r and (move > 0).any() and (move < 0).any()
    flip = np.sign(pos["random"]) != np.sign(z)
    assert flip.any() and (np.abs(z[flip]) < r).all()     # flips only units within r of 0
    assert flip.sum() < S.sum()                            # fewer than the adversary's S


@pytest.mark.parametrize("omega, r, eps, phrase", [(0.3, 0.4, None, "omega"),
                                                   (0.3, 0.0, None, "omega"),
                                                   (0.3, 0.2, 0.2, "cross 0")])
def test_park_and_push_refuses_a_move_semi_smoothness_does_not_take(omega, r, eps, phrase):
    from overparam.diagrams import park_and_push, park_and_push_positions

    with pytest.raises(ValueError, match=phrase):
        park_and_push_positions(np.zeros(3) - 0.1, omega, r, eps=eps)
    with pytest.raises(ValueError, match="two units"):
        park_and_push(n_units=1)


def test_park_and_push_draws_the_three_steps_and_the_random_move():
    import matplotlib.pyplot as plt

    from overparam.diagrams import park_and_push

    fig = park_and_push()
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert [t.split(":")[0] for t in ticks[:3]] == ["1. Choose", "2. Park", "3. Push"]
    assert ticks[3].startswith("random $W'$")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("the set $S$" in t for t in labels) and any("flips" in t for t in labels)
    assert len(labels) == len(set(labels)) == 6
    rows = {}                        # each row's filled points: (x, their face colours), by y
    for c in ax.collections:
        face = c.get_facecolors()
        if len(c.get_offsets()) and len(face) and face[0][3] > 0:
            rows[float(c.get_offsets()[0][1])] = (np.asarray(c.get_offsets())[:, 0], face)
    assert sorted(rows) == [0.0, 1.0, 2.0, 3.0] and all(len(x) == 12 for x, _ in rows.values())
    red = {y: x[face[:, 0] > 0.7] for y, (x, face) in rows.items()}    # C3 (S) or C1 (flipped)
    s_park, s_push = red[2.0], red[1.0]                               # the units of S
    assert len(s_park) >= 2 and (s_park < 0).all() and (s_park > -0.15).all()   # eps = r / 2
    assert len(s_push) == len(s_park) and (s_push > 0).all()
    assert 1 <= len(red[0.0]) <= len(s_park) and (np.abs(red[0.0]) < 0.3).all()   # flips, r = 0.3
    plt.close(fig)
