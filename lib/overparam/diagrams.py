"""Schematic figures: pictures of an argument of a lesson, not measurements."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def half_circle_overlap(theta: float) -> tuple[float, float]:
    """Chapter 3, the arc-cosine lemma (Du et al. 2019a, closed form of H^infty_ij): in the plane of
    x_i = (1, 0) and x_j = (cos theta, sin theta), the directions g = (cos phi, sin phi) with
    g^T x_i >= 0 form the half-circle phi in [-pi/2, pi/2], those with g^T x_j >= 0 the
    half-circle [theta - pi/2, theta + pi/2]; both hold on the arc [theta - pi/2, pi/2], of length
    pi - theta. Returns the two ends of that arc (radians), for 0 <= theta <= pi."""
    if not 0.0 <= theta <= np.pi:
        raise ValueError(f"theta = {theta} is not an angle between unit vectors (0 <= theta <= pi)")
    return theta - np.pi / 2, np.pi / 2


def _arc(ax, start, end, radius, **kwargs):
    phi = np.linspace(start, end, 200)
    return ax.plot(radius * np.cos(phi), radius * np.sin(phi), solid_capstyle="butt", **kwargs)


def half_circles(theta: float, ax=None):
    """Chapter 3: the picture of the arc-cosine lemma. Draws x_i and x_j at angle ``theta``, the
    half-circle of directions on which each pattern is 1 (``half_circle_overlap``), and their
    overlap, of length pi - theta, so that Pr[both patterns are 1] = (pi - theta) / (2 pi)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.6, 4.0), layout="constrained")
    else:
        fig = ax.figure
    start, end = half_circle_overlap(theta)
    _arc(ax, 0, 2 * np.pi, 1.0, color="0.85", lw=1)
    _arc(ax, -np.pi / 2, np.pi / 2, 1.12, color="C0", lw=4, label=r"$w^\top x_i \geq 0$")
    _arc(ax, theta - np.pi / 2, theta + np.pi / 2, 1.27, color="C1", lw=4,
         label=r"$w^\top x_j \geq 0$")
    _arc(ax, start, end, 1.42, color="C3", lw=5, label=r"both: an arc of length $\pi - \theta$")
    for (x, y), name in (((1, 0), "$x_i$"), ((np.cos(theta), np.sin(theta)), "$x_j$")):
        ax.annotate("", (0.8 * x, 0.8 * y), (0, 0), arrowprops=dict(arrowstyle="->", lw=1.5))
        ax.text(0.93 * x, 0.93 * y, name, ha="center", va="center")
    _arc(ax, 0, theta, 0.3, color="k", lw=1)
    ax.text(0.4 * np.cos(theta / 2), 0.4 * np.sin(theta / 2), r"$\theta$", ha="center",
            va="center")
    ax.set(xlim=(-1.6, 1.6), ylim=(-2.1, 1.6), aspect="equal")
    ax.axis("off")
    ax.legend(loc="lower center", fontsize="small", ncol=1, frameon=False)
    return fig


def may_flip(W0, x, radius: float):
    """Chapter 4, Lemma 3.2 (Du et al. 2019a): for each row w_r(0) of ``W0``, whether some w with
    ||w - w_r(0)|| <= radius lies on the other side of the hyperplane {w : w^T x = 0}, that is
    whether the ball meets it: |w_r(0)^T x| <= radius ||x|| (r in S_i^perp for a unit x = x_i)."""
    W0, x = np.asarray(W0, float), np.asarray(x, float)
    return np.abs(W0 @ x) <= radius * np.linalg.norm(x)


def flip_balls(radius: float = 0.3, n_neurons: int = 14, seed: int = 0, ax=None):
    """Chapter 4: the picture of Lemma 3.2's first step, in the plane. The hyperplane
    {w : w^T x_i = 0} for x_i = (1, 0), the slab |w^T x_i| <= R around it (S_i^perp) and the balls
    of radius R around random initial weights w_r(0) ~ N(0, I_2): a ball meets the hyperplane,
    and the pattern 1{w^T x_i >= 0} can flip inside it, exactly when its centre lies in the slab
    (``may_flip``)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.0, 3.6), layout="constrained")
    else:
        fig = ax.figure
    W0 = np.random.default_rng(seed).normal(size=(n_neurons, 2))
    flip = may_flip(W0, np.array([1.0, 0.0]), radius)
    ax.axvspan(-radius, radius, color="C3", alpha=0.15, lw=0,
               label=r"$|w^\top x_i| \leq R$: the neurons of $S_i^\perp$")
    ax.axvline(0, color="k", lw=1.2, label=r"hyperplane $w^\top x_i = 0$")
    for w, f in zip(W0, flip):
        color = "C3" if f else "C0"
        ax.add_patch(plt.Circle(w, radius, fill=False, color=color, lw=1.2))
        ax.plot(*w, "o", ms=3, color=color)
    ax.plot([], [], "o", color="C3", label="ball meets it: the pattern may flip")
    ax.plot([], [], "o", color="C0", label="ball misses it: the pattern cannot flip")
    lim = float(np.abs(W0).max()) + radius + 0.2
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xlabel=r"$w^\top x_i$",
           ylabel="another direction")
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize="small", frameon=False)
    return fig


def park_and_push_positions(z, omega: float, r: float, eps: float | None = None, seed: int = 0):
    """Chapter 11, the semi-smoothness adversary on a number line: the pre-activations ``z`` of one
    layer's units at one input. Choose: S, the inactive units within omega of 0 (-omega < z < 0).
    Park: W-breve, spending omega, moves each unit of S to just below 0, z * eps / omega in
    (-eps, 0), like the chapter's 10^-9 z_j: still off, so the gradient there sees none of them.
    Push: W' of size r lifts each by r, across 0, to (r - eps, r). A random W' of the same size
    instead moves every unit by a random amount in [-r, r], so it can flip only units within r of
    0. Returns a dict of numpy arrays: ``S`` (bool), ``parked``, ``pushed``, ``random``."""
    z = np.asarray(z, float)
    eps = r / 4 if eps is None else eps
    if not 0 < r <= omega:
        raise ValueError(f"r = {r} must lie in (0, omega = {omega}]: semi-smoothness moves "
                         "||W'||_2 = r <= omega")
    if not 0 < eps < r:
        raise ValueError(f"eps = {eps} must lie in (0, r = {r}) for the push to cross 0")
    S = (z > -omega) & (z < 0)
    parked = np.where(S, z * eps / omega, z)
    pushed = np.where(S, parked + r, parked)
    random = z + r * np.random.default_rng(seed).uniform(-1, 1, z.shape)
    return {"S": S, "parked": parked, "pushed": pushed, "random": random}


def park_and_push(omega: float = 0.5, r: float = 0.3, n_units: int = 12, seed: int = 44, ax=None):
    """Chapter 11: the picture of the semi-smoothness adversary (Choose, Park, Push), with the
    positions of ``park_and_push_positions``: one row per step, hollow circles where the units
    were before the step, and a last row for a random W' of the same size r, which flips only the
    few units already within r of 0."""
    if n_units < 2:
        raise ValueError(f"n_units = {n_units}: draw at least two units")
    rng = np.random.default_rng(seed)
    z = np.linspace(-1.4, 1.4, n_units) + rng.uniform(-0.3, 0.3, n_units) * 2.8 / n_units
    pos = park_and_push_positions(z, omega, r, eps=r / 2, seed=seed)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.6, 4.0), layout="constrained")
    else:
        fig = ax.figure
    S, flip = pos["S"], np.sign(pos["random"]) != np.sign(z)
    rows = [(3, z, None), (2, pos["parked"], z), (1, pos["pushed"], pos["parked"]),
            (0, pos["random"], z)]
    for y, x, before in rows:
        color = np.where(S, "C3", "C0") if y else np.where(flip, "C1", "C0")
        if before is not None:
            moved = np.abs(x - before) > 1e-9
            ax.scatter(before[moved], np.full(moved.sum(), y), facecolors="none",
                       edgecolors=list(color[moved]), s=28, lw=0.8, zorder=2)
            for x0, x1 in zip(before[moved], x[moved]):
                ax.annotate("", (x1, y + 0.06), (x0, y + 0.06), arrowprops=dict(
                    arrowstyle="->", color="0.4", lw=0.8, shrinkA=3, shrinkB=3,
                    connectionstyle="arc3,rad=-0.5"))
        ax.scatter(x, np.full_like(x, y), c=list(color), s=28, zorder=3)
    ax.add_patch(plt.Rectangle((-omega, 2.8), omega, 0.4, color="C3", alpha=0.15, lw=0,
                               label=r"within $\omega$ below 0: the set $S$"))
    ax.add_patch(plt.Rectangle((-r, -0.2), 2 * r, 0.4, color="C1", alpha=0.15, lw=0,
                               label=r"within $r$ of 0: all a random $W'$ can flip"))
    ax.axvline(0, color="k", lw=1.2)
    ax.text(-0.05, 3.45, "off", ha="right", fontsize="small")
    ax.text(0.05, 3.45, "on", ha="left", fontsize="small")
    notes = [(2, r"$S$ just below 0, still off: the gradient at $\breve W$ sees none of them"),
             (1, r"$S$ across 0: each adds a first-order amount"),
             (0, "every unit moves a little, in a random direction")]
    for y, note in notes:
        ax.text(1.6, y - 0.22, note, ha="right", va="top", fontsize="x-small")
    ax.scatter([], [], c="C3", s=28, label=r"a unit of $S$ (off, $s_j > 0$)")
    ax.scatter([], [], c="C0", s=28, label="another unit")
    ax.scatter([], [], c="C1", s=28, label=r"a unit the random $W'$ flips")
    ax.scatter([], [], facecolors="none", edgecolors="0.4", s=28, label="before the step")
    ax.set_yticks([3, 2, 1, 0], [r"1. Choose: $W(0)$", "2. Park: $\\breve W$\n(spends $\\omega$)",
                                 "3. Push: $\\breve W + W'$\n($\\|W'\\|_2 = r$)",
                                 "random $W'$\n($\\|W'\\|_2 = r$)"])
    ax.set(xlim=(-1.7, 1.7), ylim=(-0.6, 3.75), xlabel="pre-activation $z_j$ of one input",
           xticks=[])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize="x-small",
              frameon=False)
    return fig
