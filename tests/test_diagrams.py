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

    rng = np.random.default_rng(2)
    z, s = rng.uniform(-1.5, 1.5, 400), rng.normal(size=400)
    omega, r = 0.4, 0.2
    pos = park_and_push_positions(z, s, omega, r, seed=3)
    S = pos["S"]
    assert 3 <= S.sum() and (z[S] < 0).all() and (s[S] > 0).all()        # off, s_j > 0
    assert np.sqrt(np.sum(z[S] ** 2)) <= omega                            # omega parks them all
    cand = (z < 0) & (s > 0)
    nearer = cand & (z > z[S].min())                                      # S: the nearest to 0
    assert np.array_equal(nearer | S, S)
    nxt = z[cand & ~S].max()                                              # the next candidate:
    assert np.sqrt(np.sum(z[S] ** 2) + nxt ** 2) > omega                  # over the budget
    assert (cand & ~S & (z > -omega)).any()         # not every candidate within omega of 0
    assert ((pos["parked"][S] < 0) & (pos["parked"][S] > z[S])).all()     # parked: still off
    assert np.linalg.norm(pos["parked"] - z) <= omega                     # park moves: <= omega
    push = pos["pushed"] - pos["parked"]
    assert np.isclose(np.linalg.norm(push), r) and np.linalg.norm(push) <= r + 1e-12
    assert np.allclose(push[S], r * s[S] / np.linalg.norm(s[S]))          # r s_j / ||s_S||
    assert ((pos["pushed"][S] > 0) & (push[S] < r)).all()                 # across 0, each < r
    assert np.array_equal(pos["parked"][~S], z[~S]) and np.array_equal(pos["pushed"][~S], z[~S])
    assert np.array_equal(np.argsort(pos["parked"][S]), np.argsort(z[S]))  # parking keeps order
    move = pos["random"] - z                                              # a random W' at W(0)
    assert np.isclose(np.linalg.norm(move), r / 2)                        # combined size r / 2
    assert np.isclose(pos["t"], r / (2 * np.sqrt(400)))
    assert 0.5 * pos["t"] < np.median(np.abs(move)) < 2 * pos["t"]        # each about r/(2 sqrt n)
    flip = np.sign(pos["random"]) != np.sign(z)
    assert (np.abs(z[flip]) < 5 * pos["t"]).all()             # flips only units near 0
    assert flip.sum() < S.sum()                                # fewer than the adversary's S


@pytest.mark.parametrize("omega, r, eps, phrase", [(0.3, 0.4, None, "omega"),
                                                   (0.3, 0.0, None, "omega"),
                                                   (0.3, 0.2, 0.2, "cross 0")])
def test_park_and_push_refuses_a_move_semi_smoothness_does_not_take(omega, r, eps, phrase):
    from overparam.diagrams import park_and_push_positions

    with pytest.raises(ValueError, match=phrase):
        park_and_push_positions(np.zeros(3) - 0.1, np.ones(3), omega, r, eps=eps)
    with pytest.raises(ValueError, match="toward 0"):
        park_and_push_positions(np.array([-0.01, -0.02, 0.5]), np.ones(3), 0.3, 0.3, eps=0.05)
    with pytest.raises(ValueError, match="S is empty"):
        park_and_push_positions(np.zeros(3) - 0.1, -np.ones(3), 0.3, 0.2)
    with pytest.raises(ValueError, match="same length"):
        park_and_push_positions(np.zeros(3) - 0.1, np.ones(2), 0.3, 0.2)


def test_park_and_push_draws_the_three_steps_and_the_random_move():
    import matplotlib.pyplot as plt

    from overparam.diagrams import park_and_push

    fig = park_and_push()
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert [t.split(":")[0] for t in ticks[:3]] == ["1. Choose", "2. Park", "3. Push"]
    assert ticks[3].startswith("random $W'$ at $W(0)$")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("$S$: the off units nearest 0 with $s_j > 0$ that $\\omega$ can park "
                            "together") for t in labels)
    assert any("$W(0)$ flips" in t for t in labels) and any("$s_j < 0$" in t for t in labels)
    assert len(labels) == len(set(labels)) == 7
    rows = {}                        # each row's filled points: (x, their face colours), by y
    for c in ax.collections:
        face = c.get_facecolors()
        if len(c.get_offsets()) and len(face) and face[0][3] > 0:
            rows[float(c.get_offsets()[0][1])] = (np.asarray(c.get_offsets())[:, 0], face)
    assert sorted(rows) == [0.0, 1.0, 2.0, 3.0] and all(len(x) == 16 for x, _ in rows.values())
    red = {y: x[face[:, 0] > 0.7] for y, (x, face) in rows.items()}    # C3 (S) or C1 (flipped)
    grey = {y: x[np.ptp(face[:, :3], axis=1) < 0.05] for y, (x, face) in rows.items()}   # C7
    s_park, s_push = red[2.0], red[1.0]                               # the units of S
    assert len(s_park) >= 4 and (s_park < 0).all() and (s_park > -0.25).all()
    assert len(s_push) == len(s_park) and (s_push > 0).all()
    assert len(grey[3.0]) >= 1 and (grey[3.0] > red[3.0].min()).any()   # an s_j < 0 unit left out
    assert np.linalg.norm(s_push - s_park) <= 0.5 + 1e-9               # the push: size <= r
    assert len(red[0.0]) < len(s_push)                       # pushed across: more than flipped
    assert len(red[0.0]) <= 1 and (np.abs(red[0.0]) < 0.0625).all()    # at most one, near 0
    x0, x3 = rows[0.0][0], rows[3.0][0]
    assert np.linalg.norm(x0 - x3) <= 0.5 / 2 + 1e-9                   # random moves: size r / 2
    plt.close(fig)
