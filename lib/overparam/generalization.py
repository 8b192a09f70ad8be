"""Generalization and the data-dependent quantity of Arora et al. (2019) (Chapter 15).

Arora, Du, Hu, Li & Wang (2019), Theorem 5.1, bound the population loss (for a 1-Lipschitz loss
with values in [0, 1]) of Du et al.'s two-layer net trained by GD (only W trains, a fixed),
initialized with w_r ~ N(0, kappa^2 I) for a small kappa = O(lambda_0 delta / n), by
    sqrt( 2 y^T (H^infty)^{-1} y / n ) + O( sqrt( log(n / (lambda_0 delta)) / n ) ),
with H^infty Du et al.'s Gram matrix (``kernels.h_infinity``). Labels aligned with the top
eigenvectors of H^infty keep it small; random labels make it large. This module computes
sqrt(y^T (H^infty)^{-1} y / n), loads a small real data set that ships with scikit-learn (8x8
handwritten digits), replaces a fraction of its labels by random ones, and measures the test
error of a trained net (with Du et al.'s initialization, kappa = 1: outside the theorem).

The bound is on the population loss of the distribution the training sample is drawn from. With
a fraction of the labels randomized that distribution has randomized labels too, so the error the
theorem bounds is the error on test labels corrupted in the same way (Arora et al., Appendix A,
corrupt training and test labels alike): ``LabelNoiseResult.test_error_corrupted``. The error on
the true test labels (``test_error``) is a different quantity, which the theorem does not bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .data import check_inputs, normalize_rows
from .device import DEFAULT_DTYPE, as_tensor
from .kernels import h_infinity, lambda_max
from .models import TwoLayerReLU
from .theory import lambda0
from .train import train


def arora_complexity(X, y) -> float:
    """Chapter 15, Arora et al. (2019): sqrt(y^T (H^infty)^{-1} y / n), the data-dependent
    quantity of their generalization bound, Theorem 5.1 (whose first term is sqrt(2) times it;
    H^infty = ``h_infinity(X)``,
    solved with a Cholesky factorization). The inputs must be unit-norm with lambda_0 > 0
    (Du et al.'s Assumption 3.1): ``theory.lambda0`` refuses inputs whose H^infty is numerically
    singular, with a ``ValueError`` naming the likely cause, before anything is inverted."""
    X = check_inputs(X, y)
    y = as_tensor(y).to(device=X.device, dtype=X.dtype)
    lambda0(X)                       # raises ValueError when lambda_0 cannot be told from 0
    H = h_infinity(X)
    L, info = torch.linalg.cholesky_ex(H)
    if int(info) != 0:
        raise ValueError("H^infty is not numerically positive definite for these inputs "
                         "(lambda_0 ~ 0): remove near-duplicate inputs")
    z = torch.linalg.solve_triangular(L, y[:, None], upper=False)
    return math.sqrt(float((z ** 2).sum()) / X.shape[0])


def _dedupe(X, y, min_angle=1e-6):
    """Drop every row that is parallel (angle < min_angle) to an earlier row."""
    G = (X @ X.T).clamp(-1, 1)
    close = torch.triu(G > math.cos(min_angle), diagonal=1)
    keep = ~close.any(dim=0)
    return X[keep], y[keep]


def digits_two_class(classes=(3, 5), *, n_train: int = 200, n_test: int = 150,
                     seed: int = 0, dtype: torch.dtype = DEFAULT_DTYPE):
    """Chapter 15: two classes of scikit-learn's 8x8 handwritten digits (``load_digits``,
    shipped inside the package, no download), rows of 64 pixels scaled to unit norm (the
    papers' ||x|| = 1), labels +1 for ``classes[0]`` and -1 for ``classes[1]``; duplicate images
    are dropped (parallel inputs would make lambda_0 = 0). A seeded random split into
    ``n_train`` and ``n_test`` points. Returns (X_train, y_train, X_test, y_test)."""
    from sklearn.datasets import load_digits

    a, b = classes
    if a == b:
        raise ValueError("classes must be two different digits")
    data = load_digits()
    mask = np.isin(data.target, [a, b])
    X = normalize_rows(torch.tensor(data.data[mask], dtype=torch.float64))
    y = torch.where(torch.tensor(data.target[mask]) == a, 1.0, -1.0).to(torch.float64)
    X, y = _dedupe(X, y)
    n = X.shape[0]
    if n_train + n_test > n:
        raise ValueError(f"only {n} images of digits {a} and {b}: ask for n_train + n_test <= {n}")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(int(seed)))
    tr, te = perm[:n_train], perm[n_train:n_train + n_test]
    return X[tr].to(dtype), y[tr].to(dtype), X[te].to(dtype), y[te].to(dtype)


def randomize_labels(y, fraction: float, *, seed: int = 0):
    """Chapter 15 (the random-label experiment of Arora et al. 2019, after Zhang et al.):
    replace the labels of a seeded random ``fraction`` of the points by independent uniform
    random signs +-1 (so about half of the replaced labels change)."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must lie in [0, 1], not {fraction!r}")
    y = as_tensor(y).clone()
    n = y.shape[0]
    g = torch.Generator().manual_seed(int(seed))
    idx = torch.randperm(n, generator=g)[: int(round(fraction * n))]
    signs = (torch.randint(0, 2, (len(idx),), generator=g) * 2 - 1).to(y.dtype)
    y[idx.to(y.device)] = signs.to(y.device)
    return y


# Chapter 15: the test labels are randomized with seed + this (torch seeds a CPU generator from
# the low 32 bits of the seed only, so the offset stays below 2**32)
TEST_SEED_OFFSET = 1_000_003


@dataclass
class LabelNoiseResult:
    """One run of ``label_noise_run`` (Chapter 15)."""

    fraction: float
    complexity: float        # sqrt(y^T (H^infty)^{-1} y / n) on the (partly random) labels
    train_loss: float        # final 1/2-sum square loss
    train_error: float       # fraction of training points with y_i u_i <= 0
    test_error: float        # on held-out points with their TRUE labels
    distance: float          # ||W(k) - W(0)||_F after training
    test_error_corrupted: float = float("nan")   # on held-out labels randomized like the training
    #                                             labels (the error Theorem 5.1 bounds)

    @property
    def bound_first_term(self) -> float:
        """sqrt(2 y^T (H^infty)^{-1} y / n), the first term of Arora et al.'s Theorem 5.1."""
        return math.sqrt(2.0) * self.complexity


def label_noise_run(X, y, X_test, y_test, *, fraction: float, m: int = 1000, steps: int = 1000,
                    lr: float | None = None, seed: int = 0) -> LabelNoiseResult:
    """Chapter 15: randomize a ``fraction`` of the training labels, compute Arora et al.'s
    quantity, train Du et al.'s net (``TwoLayerReLU``, w_r(0) ~ N(0, I), only W trains, 1/2-sum
    square loss, ``train.train``, step 1/lambda_max(H^infty) by default) and measure the test
    error of sign(f) twice: against the test labels randomized in the same way
    (``randomize_labels`` with the same fraction and the seed ``seed + TEST_SEED_OFFSET``, a
    stream apart from the training seeds 0, 1, 2, ...; the error Theorem 5.1 bounds) and
    against the true test labels."""
    y_noisy = randomize_labels(y, fraction, seed=seed)
    y_test_noisy = randomize_labels(y_test, fraction, seed=seed + TEST_SEED_OFFSET)
    comp = arora_complexity(X, y_noisy)
    if lr is None:
        lr = 1.0 / lambda_max(h_infinity(X))
    net = TwoLayerReLU(X.shape[1], m, seed=seed, dtype=X.dtype, device="cpu")
    W0 = net.W.detach().clone()
    hist = train(net, X, y_noisy, lr=lr, steps=steps, record=("loss",), record_every=steps)
    with torch.no_grad():
        u, ut = net(X), net(as_tensor(X_test).to(X))
    y_test = as_tensor(y_test).to(X)
    return LabelNoiseResult(
        fraction=float(fraction), complexity=comp, train_loss=float(hist.loss[-1]),
        train_error=float((y_noisy * u <= 0).double().mean()),
        test_error=float((y_test * ut <= 0).double().mean()),
        distance=float((net.W.detach() - W0).norm()),
        test_error_corrupted=float((as_tensor(y_test_noisy).to(X) * ut <= 0).double().mean()))


def corrupted_error_expected(error_true: float, fraction_replaced: float) -> float:
    """Chapter 15: the expected error on labels of which a uniformly chosen fraction
    ``fraction_replaced`` is replaced by fair random signs, for predictions whose error on the true
    labels is ``error_true``: a replaced label is missed with probability 1/2 whatever the
    prediction, a kept one as often as before, so E = (1 - p) error_true + p / 2, at least p / 2
    whatever the predictions."""
    p = float(fraction_replaced)
    return (1.0 - p) * float(error_true) + p / 2.0


@dataclass
class LabelNoiseGrid:
    """``label_noise_grid``'s runs (Chapter 15): ``runs[i][s]`` for ``fractions[i]`` and
    ``seeds[s]``."""

    fractions: list
    seeds: list
    runs: list

    def get(self, name: str) -> np.ndarray:
        """The field (or property) ``name`` of every run, shape (fractions, seeds)."""
        return np.array([[getattr(r, name) for r in row] for row in self.runs], dtype=float)


def label_noise_grid(X, y, X_test, y_test, fractions, seeds, **kwargs) -> LabelNoiseGrid:
    """Chapter 15: ``label_noise_run`` for every fraction of random labels and every seed (the
    seed draws the random training and test labels and the initialization); ``kwargs`` go to
    ``label_noise_run`` (m, steps, lr)."""
    runs = [[label_noise_run(X, y, X_test, y_test, fraction=f, seed=s, **kwargs) for s in seeds]
            for f in fractions]
    return LabelNoiseGrid(list(fractions), list(seeds), runs)


def label_noise_figure(grid: LabelNoiseGrid, current: LabelNoiseResult | None = None, *,
                       error_left: bool = True, legend_size: str = "x-small"):
    """Chapter 15's figure: against the fraction of random labels, medians over seeds with
    min-max bands (``plots.seed_band``). Left: the first term of Arora et al.'s bound,
    sqrt(2 y^T (H^infty)^{-1} y / n), with the level 1 above which a bound on an error says
    nothing, and the error it bounds (test labels randomized like the training labels). Right:
    that error, the error on the true test labels, the training error and the floor p/2 (half of
    the replaced fraction, ``corrupted_error_expected`` at error 0). ``current`` (one more run)
    is drawn as a star on both panels. ``error_left=False`` leaves the error off the left panel
    (the right one shows it); ``legend_size`` is the legends' font size. Returns the figure."""
    import matplotlib.pyplot as plt

    from .plots import legend, seed_band

    f = np.asarray(grid.fractions, dtype=float)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    corrupted = "error on randomized test labels"
    seed_band(a1, f, grid.get("bound_first_term").T, label=r"$\sqrt{2 y^\top (H^\infty)^{-1} y/n}$",
              marker="o", color="C0", band_label=r"$\sqrt{2 y^\top (H^\infty)^{-1} y/n}$")
    if error_left:
        seed_band(a1, f, grid.get("test_error_corrupted").T, label=corrupted, marker="s",
                  color="C3", band_label=corrupted)
    a1.axhline(1.0, color="0.4", ls=":", lw=1, label="1: above it the bound says nothing")
    for name, label, color, marker in [("test_error_corrupted", corrupted, "C3", "s"),
                                       ("test_error", "error on true test labels", "C2", "o"),
                                       ("train_error", "training error", "C1", "^")]:
        seed_band(a2, f, grid.get(name).T, label=label, marker=marker, color=color,
                  band_label=label)
    a2.plot(f, f / 2, "k--", lw=1, label="floor $p/2$ of the error on randomized labels")
    if current is not None:
        a1.plot([current.fraction], [current.bound_first_term], "*", ms=14, color="k",
                label="this run")
        a2.plot([current.fraction], [current.test_error_corrupted], "*", ms=14, color="k",
                label="this run")
    for ax, ylabel in [(a1, "bound (first term) and error" if error_left else "bound (first term)"),
                       (a2, "error")]:
        ax.set_xlabel("fraction $p$ of random labels")
        ax.set_ylabel(ylabel)
        legend(ax, fontsize=legend_size)
    return fig
