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


def park_and_push_positions(z, s, omega: float, r: float, eps: float | None = None,
                            seed: int = 0):
    """Chapter 11, the semi-smoothness adversary on a number line: the pre-activations ``z`` of one
    layer's units at one input, with sensitivities ``s`` (s_j > 0: the unit's activation would
    raise F). With ||h|| = 1 a change of W of spectral norm t moves the whole vector z by at most
    t: the squares of the units' moves add up to at most t^2 (as in ``landscape.kink_point`` and
    ``kink_flip``).

    Choose: S, the off units (z < 0) with s_j > 0 nearest 0, as many as omega can park together:
    kept in order of |z_j| while sqrt(sum of their z_j^2) <= omega. Park: W-breve moves each unit
    of S to eps z_j / max_S |z|, in [-eps, 0), just below 0 (the chapter's 10^-9 z_j): still
    off, in the same order; the moves together have size at most omega. Push: W' of size r
    moves unit j of S by r s_j / ||s_S|| (about r / sqrt|S|; together exactly r), across 0. A
    random W' of size r at W(0) instead moves every unit by about r / (2 sqrt n) in a random
    direction (n units; together r / 2, the chapter's Gaussian W' with entries of size
    r / (2 sqrt m)), so it flips only units about that close to 0. Returns a dict of numpy
    arrays: ``S`` (bool), ``parked``, ``push`` (each unit's push move), ``pushed``, ``random``,
    and the float ``t`` = r / (2 sqrt n)."""
    z, s = np.asarray(z, float), np.asarray(s, float)
    if z.shape != s.shape or z.ndim != 1:
        raise ValueError(f"z and s must be vectors of the same length, not {z.shape} and {s.shape}")
    if not 0 < r <= omega:
        raise ValueError(f"r = {r} must lie in (0, omega = {omega}]: semi-smoothness moves "
                         "||W'||_2 = r <= omega")
    idx = np.flatnonzero((z < 0) & (s > 0))
    idx = idx[np.argsort(-z[idx])]                                   # nearest 0 first
    cost = np.sqrt(np.cumsum(z[idx] ** 2))
    S = np.zeros(z.shape, bool)
    S[idx[: int((cost <= omega).sum())]] = True
    if not S.any():
        raise ValueError(f"no off unit with s_j > 0 lies within omega = {omega} of 0: S is empty")
    push = np.where(S, r * s / np.linalg.norm(s[S]), 0.0)
    eps = 0.8 * push[S].min() if eps is None else eps
    if not 0 < eps < push[S].min():
        raise ValueError(f"eps = {eps} must lie in (0, {push[S].min():.3g}), below the smallest "
                         "push move, for the push to cross 0")
    if eps >= np.abs(z[S]).max():
        raise ValueError(f"eps = {eps} must lie below max |z_S| = {np.abs(z[S]).max():.3g}: "
                         "parking moves S toward 0")
    parked = np.where(S, z * eps / np.abs(z[S]).max(), z)
    g = np.random.default_rng(seed).standard_normal(z.shape)
    t = r / (2 * np.sqrt(z.size))
    return {"S": S, "parked": parked, "push": push, "pushed": parked + push,
            "random": z + (r / 2) * g / np.linalg.norm(g), "t": t}


def park_and_push(omega: float = 1.0, r: float = 0.5, seed: int = 11, ax=None):
    """Chapter 11: the picture of the semi-smoothness adversary (Choose, Park, Push), with the
    positions of ``park_and_push_positions`` for sixteen units placed by hand (``seed`` draws the
    random move): one row per step, hollow circles where the units were before the step, and a
    last row for a random W' of the same size r at W(0), which moves each unit by only about
    r / (2 sqrt n) and flips at most the units about that close to 0."""
    z = np.array([-1.1, -0.95, -0.8, -0.66, -0.54, -0.48, -0.42, -0.3, -0.02,
                  0.35, 0.5, 0.62, 0.75, 0.88, 1.0, 1.1])
    s = np.array([1.0, -1.0, 1.0, 1.0, 1.0, -1.0, 1.0, 1.0, -1.0,
                  1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0]) * np.linspace(0.9, 1.1, 16)
    pos = park_and_push_positions(z, s, omega, r, seed=seed)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.6, 4.3), layout="constrained")
    else:
        fig = ax.figure
    S, flip = pos["S"], np.sign(pos["random"]) != np.sign(z)
    reach = z[S].min()                                     # the farthest unit of S
    left_out = (z < 0) & (s < 0) & (z > reach)             # off, nearer 0, but s_j < 0
    base = np.where(S, "C3", np.where(left_out, "C7", "C0"))
    rows = [(3, z, None), (2, pos["parked"], z), (1, pos["pushed"], pos["parked"]),
            (0, pos["random"], z)]
    for y, x, before in rows:
        color = base if y else np.where(flip, "C1", "C0")
        if before is not None:
            moved = np.abs(x - before) > 1e-9
            ax.scatter(before[moved], np.full(moved.sum(), y), facecolors="none",
                       edgecolors=list(color[moved]), s=22, lw=0.8, zorder=2)
            for x0, x1 in zip(before[moved], x[moved]):
                ax.annotate("", (x1, y + 0.06), (x0, y + 0.06), arrowprops=dict(
                    arrowstyle="->", color="0.4", lw=0.8, shrinkA=2, shrinkB=2,
                    connectionstyle="arc3,rad=-0.5"))
        ax.scatter(x, np.full_like(x, y), c=list(color), s=22, zorder=3)
    ax.add_patch(plt.Rectangle((reach - 0.04, 2.8), 0.04 - reach, 0.4, color="C3", alpha=0.15,
                               lw=0, label=r"$S$: the off units nearest 0 with $s_j > 0$ that "
                               r"$\omega$ can park together ($\sum_S z_j^2 \leq \omega^2$)"))
    t = pos["t"]
    ax.add_patch(plt.Rectangle((-t, -0.2), 2 * t, 0.4, color="C1", alpha=0.25, lw=0,
                               label=r"within about $r/(2\sqrt{m})$ of 0: where a random $W'$ "
                               r"at $W(0)$ flips its about $0.11\,mr$ units"))
    ax.axvline(0, color="k", lw=1.2)
    ax.text(-0.05, 3.45, "off", ha="right", fontsize="small")
    ax.text(0.05, 3.45, "on", ha="left", fontsize="small")
    notes = [(2, "$S$ just below 0, still off: unseen by the gradient at $\\breve W$;\n"
                 "the moves' squares add up to at most $\\omega^2$"),
             (1, "$S$ across 0, unit $j$ moved by $r s_j/\\|s_S\\|$ (about $r/\\sqrt{|S|}$):\n"
                 "each adds a first-order amount"),
             (0, r"every unit moves about $r/(2\sqrt{m})$, in a random direction")]
    for y, note in notes:
        ax.text(1.15, y - 0.22, note, ha="right", va="top", fontsize="x-small")
    ax.scatter([], [], c="C3", s=22, label=r"a unit of $S$ (off, $s_j > 0$)")
    ax.scatter([], [], c="C7", s=22,
               label=r"an off unit with $s_j < 0$ within $S$'s reach: skipped")
    ax.scatter([], [], c="C0", s=22, label="another unit")
    ax.scatter([], [], c="C1", s=22, label=r"a unit the random $W'$ flips")
    ax.scatter([], [], facecolors="none", edgecolors="0.4", s=22, label="before the step")
    ax.set_yticks([3, 2, 1, 0], [r"1. Choose: $W(0)$", "2. Park: $\\breve W$\n(spends $\\omega$)",
                                 "3. Push: $\\breve W + W'$\n($\\|W'\\|_2 = r$)",
                                 "random $W'$ at $W(0)$\n($\\|W'\\|_2 = r$)"])
    ax.set(xlim=(-1.2, 1.2), ylim=(-0.6, 3.75), xlabel="pre-activation $z_j$ of one input",
           xticks=[])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize="x-small",
              frameon=False)
    return fig
