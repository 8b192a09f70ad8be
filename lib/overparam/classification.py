"""Binary classification in the setting of Zou, Cao, Zhou & Gu (arXiv:1811.08888v3) (Ch. 13-14).

Zou et al. train a deep ReLU network f_W(x) = v^T relu(W_L^T ... relu(W_1^T x)) (v fixed,
half +1 and half -1; ``DeepReLU(parameterization="zou")``) on labels y_i in {-1, +1} with a loss
(1/n) sum_i l(y_i f_W(x_i)) (``train(..., loss="logistic")``), assuming unit-norm inputs whose
two classes are phi-separated: ||x_i - x_j|| >= phi whenever y_i != y_j
(``data.separation(X, y)``). Their proof keeps every iterate in a perturbation region
{W : ||W_l - W_l(0)||_2 <= tau for all l} (spectral norm) around the initialization, with tau
a function of n, L and phi (``perturbation_level``), never of a run.

This module holds what Chapters 13-14 measure on top of the one training loop ``train.train``:
phi-separated data with a controllable phi, the loss-family constant of the logistic loss, the
paper's tau and path-length bound (constants set to 1), the distance a run travels, the
gradient of the last hidden layer, the iterations to zero training error, and grids of runs
over widths, batch sizes and seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .data import _generator, check_model_input
from .device import DEFAULT_DTYPE
from .models import DeepReLU
from .train import suggested_lr, train

SEPARATED_KINDS = ("linear", "xor")
CLASSIFICATION_RECORDS = ("loss", "error", "radius", "grad_norm", "outputs")


def phi_separated_data(n: int, d: int, phi: float, *, kind: str = "linear", seed: int = 0,
                       mu: float | None = None, dtype: torch.dtype = DEFAULT_DTYPE,
                       device="cpu"):
    """n unit-norm inputs in R^d with labels +-1 whose two classes are phi-separated
    (Zou et al. 2018, Assumption 3.5: ||x_i - x_j|| >= phi when y_i != y_j).

    Points start uniform on the sphere; then the first k coordinates (k = 1 for ``"linear"``,
    k = 2 for ``"xor"``) are pushed away from 0, |x_j| -> gamma + (1/sqrt(k) - gamma)|x_j| with
    gamma = phi/2, and the other coordinates are rescaled to keep ||x|| = 1. Labels:
    ``"linear"``: y = sign(x_1) (two caps around +-e_1, linearly separable);
    ``"xor"``: y = sign(x_1 x_2) (four quadrant caps, not linearly separable).
    Two points with different labels differ in the sign of one pushed coordinate, so
    ||x_i - x_j|| >= 2 gamma = phi. So that phi is attained, not only a lower bound, the first
    input is placed with x_1 = gamma and the second is its mirror image (x_1 -> -x_1, the other
    label) at distance exactly phi: ``data.separation(X, y)`` then returns phi.
    ``mu`` in (0, 1) (Assumption 3.4): the last coordinate of every input is mu (a bias input);
    the first d - 1 coordinates are built as above with separation phi / sqrt(1 - mu^2) and
    scaled by sqrt(1 - mu^2), so that the separation is still exactly phi.
    Needs 0 < phi <= 2 (linear) or <= sqrt(2) (xor) (times sqrt(1 - mu^2)), d > k (+1 with mu).
    """
    if mu is not None:
        mu = float(mu)
        if not 0.0 < mu < 1.0:
            raise ValueError(f"mu (the fixed last coordinate, Assumption 3.4) must be in (0, 1), "
                             f"not {mu!r}")
        if not isinstance(d, int) or isinstance(d, bool) or d < 2:
            raise ValueError(f"d must be an integer >= 2 with mu, not {d!r}")
        scale = math.sqrt(1.0 - mu * mu)
        X, y = phi_separated_data(n, d - 1, float(phi) / scale, kind=kind, seed=seed)
        X = torch.cat([scale * X, torch.full((n, 1), mu, dtype=torch.float64)], dim=1)
        return X.to(device=device, dtype=dtype), y.to(device=device, dtype=dtype)
    if kind not in SEPARATED_KINDS:
        raise ValueError(f"kind must be one of {SEPARATED_KINDS}, not {kind!r}")
    k = 1 if kind == "linear" else 2
    for name, v in (("n", n), ("d", d)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive integer, not {v!r}")
    if n < 2 or d <= k:
        raise ValueError(f"phi_separated_data({kind!r}) needs n >= 2 and d >= {k + 1}")
    phi = float(phi)
    top = 2.0 / math.sqrt(k)
    if not 0.0 < phi <= top:
        raise ValueError(f"phi must be in (0, {top:.3g}] for kind={kind!r}, not {phi!r}")
    gamma = phi / 2.0
    g = _generator(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True)
    head = X[:, :k]
    head = torch.sign(head) * (gamma + (1.0 / math.sqrt(k) - gamma) * head.abs())
    head[0, 0] = gamma                           # the closest pair: x_0 and its mirror x_1
    head[1] = head[0]
    head[1, 0] = -gamma
    rest = X[:, k:]
    rest_norm = torch.sqrt((1.0 - (head ** 2).sum(dim=1)).clamp_min(0.0))
    rest = rest / rest.norm(dim=1, keepdim=True).clamp_min(1e-300) * rest_norm[:, None]
    rest[1] = rest[0]
    X = torch.cat([head, rest], dim=1)
    X = X / X.norm(dim=1, keepdim=True)
    y = torch.sign(head[:, 0]) if k == 1 else torch.sign(head[:, 0] * head[:, 1])
    return X.to(device=device, dtype=dtype), y.to(device=device, dtype=dtype)


def logistic_alpha0(b: float = 1.0, p: float = 1.0, *, z_max: float = 40.0,
                    points: int = 200001) -> float:
    """The largest a with -l'(z) >= a min(b, l(z)^p) for all z, for the logistic loss
    l(z) = log(1 + e^{-z}), computed on a grid of z in [-z_max, z_max]. Since
    a min(b, l^p) = min(ab, a l^p), this is Zou et al.'s Assumption 3.2 (arXiv v3, Chapter 13)
    with alpha_1 = a and alpha_0 = a b; the function returns a (= alpha_1), and alpha_0 is
    a * b. p = 1 gives a positive a = (1 - e^{-b}) / b: the logistic loss belongs to the
    family; for p < 1 the infimum is 0 as z -> infinity."""
    if not b > 0 or not p > 0:
        raise ValueError(f"b and p must be positive (got b = {b}, p = {p})")
    z = torch.linspace(-z_max, z_max, points, dtype=torch.float64)
    ell = torch.nn.functional.softplus(-z)
    neg_dell = torch.sigmoid(-z)
    return float((neg_dell / torch.clamp(ell ** p, max=b)).min())


def distance_travelled(hist, *, per_step: bool = False):
    """max_l ||W_l(k) - W_l(0)||_F, the distance the run travelled from its initialization
    (``per_step=True``: its running maximum at each recorded step). A measurement of the run,
    not the radius tau of Zou et al.'s perturbation region (``perturbation_level``, a function
    of n, L and phi): a region defined by this number would contain the run by construction.
    Needs ``record=("radius",)`` from ``train`` on a deep network: ``train`` calls that record
    "radius" for historical reasons, but it holds this distance travelled, never tau.
    Chapters 13-14."""
    r = np.asarray(hist.radius, dtype=float)
    per_record = r.max(axis=1) if r.ndim == 2 else r
    return np.maximum.accumulate(per_record) if per_step else float(per_record.max())


# The former name, kept so that old code runs: it returns the distance travelled by the run
# (a measurement), never the radius tau of the region; new code should call distance_travelled.
perturbation_radius = distance_travelled


def steps_to_error(hist, target: float = 0.0):
    """The first recorded step at which the training error is <= ``target`` (Chapters 13-14;
    Zou et al.'s theorems bound this for GD and SGD), or None if the run never got there.
    Record every step (``record_every=1``) for an exact count."""
    err = np.asarray(hist.error, dtype=float)
    hit = np.nonzero(err <= target)[0]
    return int(hist.steps[hit[0]]) if hit.size else None


def gradient_lower_bound(hist, y) -> dict:
    """Along a recorded run, the loss-side quantities of Zou et al.'s gradient lower bound
    (arXiv v3, Theorem 5.3(vii): in the perturbation region, for the LAST hidden layer only,
    ||grad_{W_L} L_S||_F^2 >= (C1 m_L phi / n^5) (sum_i l'(y_i f_i))^2; Chapter 13).
    ``train``'s ``grad_norm`` is the gradient over ALL layers, not squared, so ``ratio``
    below is a summary of the run, not the theorem's inequality (for that, see
    ``last_layer_gradient``, ``RunTracker`` and ``implied_c1``): ``grad_norm`` = ||grad L_S||_F
    over all layers, ``loss`` = L_S, ``mean_neg_dloss`` = (1/n) sum_i -l'(y_i f_i)
    = (1/n) sum_i sigmoid(-y_i f_i) (logistic), and ``ratio`` = grad_norm / mean_neg_dloss.
    Needs ``record=("loss", "grad_norm", "outputs")`` and a run with ``loss="logistic"``."""
    y = np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y, dtype=float)
    margins = y[None, :] * np.asarray(hist.outputs, dtype=float)
    mean_neg_dloss = (1.0 / (1.0 + np.exp(margins))).mean(axis=1)
    grad = np.asarray(hist.grad_norm, dtype=float)
    return {"steps": np.asarray(hist.steps), "grad_norm": grad,
            "loss": np.asarray(hist.loss, dtype=float), "mean_neg_dloss": mean_neg_dloss,
            "ratio": grad / mean_neg_dloss}


def run_classifier(X, y, *, width: int, depth: int = 2, batch_size: int | None = None,
                   lr: float | None = None, lr_scale: float = 1.0, steps: int = 500,
                   until: dict | None = None, seed: int = 0, shuffle_seed: int | None = None,
                   record=("loss", "error", "radius"), record_every: int = 1, callback=None,
                   sampling: str = "epoch", dtype: torch.dtype = DEFAULT_DTYPE, device="cpu"):
    """Train ``DeepReLU(d, width, depth, parameterization="zou", seed=seed)`` on (X, y) with the
    logistic loss by GD (``batch_size=None``) or SGD (Zou et al. 2018, Section 3.3), through
    ``train.train``. ``lr=None`` takes ``lr_scale`` times the stable step size of
    ``train.suggested_lr`` at initialization (4n / lambda_max of the empirical NTK): in this
    parameterization the NTK grows like m, so the step size must shrink like 1/m.
    ``shuffle_seed`` seeds SGD's batches (default: ``seed``); ``sampling`` is passed to
    ``train``: ``"epoch"`` reshuffles once per epoch, ``"uniform"`` draws an independent uniform
    B-subset at every step (the SGD that Zou et al. analyse, eq. (D.5) and Lemma D.2);
    ``callback(step, model)`` is passed to ``train`` (e.g. a ``RunTracker``). Returns
    (model, History)."""
    X = torch.as_tensor(X).to(dtype)
    net = DeepReLU(X.shape[1], width, depth, parameterization="zou", seed=seed, dtype=dtype,
                   device=device)
    if lr is None:
        lr = lr_scale * suggested_lr(net, X, "logistic")["stable"]
    hist = train(net, X, y, lr=float(lr), steps=steps, batch_size=batch_size, loss="logistic",
                 record=record, record_every=record_every,
                 seed=seed if shuffle_seed is None else shuffle_seed, until=until,
                 callback=callback, sampling=sampling)
    return net, hist


@dataclass
class ZeroErrorGrid:
    """``zero_error_grid``'s result; arrays shaped (len(widths), len(batch_sizes), len(seeds)).
    ``first``: the first step with zero training error; ``stable``: the first step from which
    the error stays zero until the end of the run (NaN if never / not by the end);
    ``epochs``: ``stable`` * b / n; ``distance``: max_l ||W_l(K) - W_l(0)||_F at the end of the
    run, ``relative``: max_l ||W_l(K) - W_l(0)||_F / ||W_l(0)||_F; ``lr``: the step sizes;
    ``histories[(m, b, seed)]``: each run's History (b = None for GD); ``budget[j]``: the
    number of iterations of batch size ``batch_sizes[j]``; ``min_tail``: the fraction of the run
    over which the error had to stay zero to count as settled."""

    widths: list
    batch_sizes: list
    seeds: list
    n: int
    steps: int
    first: np.ndarray
    stable: np.ndarray
    epochs: np.ndarray
    distance: np.ndarray
    relative: np.ndarray
    lr: np.ndarray
    histories: dict
    budget: list = None
    min_tail: float = 0.0


def zero_error_grid(X, y, *, widths, batch_sizes, seeds=(0,), depth: int = 2,
                    lr_scale: float = 1.0, steps: int = 1000, epochs: float | None = None,
                    min_tail: float = 0.0, record_every: int | str = 1, sampling: str = "epoch",
                    batch_lr: str = "same", batch_seed: int = 0,
                    dtype: torch.dtype = DEFAULT_DTYPE, device="cpu") -> ZeroErrorGrid:
    """Iterations to zero training error for every width m, batch size b (None = GD) and seed,
    with the logistic loss on ``DeepReLU(..., parameterization="zou")`` (Chapter 14; Zou et al.
    trade width, batch size and iterations against each other). Every run has its own seed for
    the initialization (``seed``) and its own seed for SGD's batches, ``batch_order_seed(m, b,
    seed, batch_seed)``: different for every (m, b, seed), and a function of the run alone,
    never of its place in the grid, so a run gets the same batches in any grid and under any
    ``batch_lr`` (the linear and the quadratic runs of one (m, b, seed) draw the same batch
    sequence). ``batch_seed`` (a non-negative int, default 0) gives another draw of the batches
    for the same runs; it changes no GD run (b = None). Every run runs all ``steps`` (no early
    stop), so that an error that comes back after touching zero is seen. The step size of
    width m is ``lr_scale`` times ``suggested_lr``'s stable GD step at that initialization,
    the same for every batch size.
    ``epochs=E`` gives every batch size the same budget of examples seen: ceil(E n / b)
    iterations for batch size b (E for GD) instead of ``steps`` for all; a run counts as
    settled only if its error stayed zero over the last ``min_tail`` fraction of its run
    (``steps_to_stable_error``), else ``stable`` is NaN (did not settle within the budget).
    ``sampling`` is passed to ``train`` ("epoch": reshuffle once per epoch; "uniform": an
    independent uniform b-subset at every step, the SGD of Zou et al.'s eq. (D.5) and
    Lemma D.2). ``batch_lr="same"`` uses the GD step for every batch size; ``"linear"`` scales
    it to eta_b = (b / n) eta (Chapter 12's rule), so that one epoch of any batch size moves
    the weights by the same total step length eta as one GD step; ``"quadratic"`` takes
    eta_b = (b / n)^2 eta, the B^2 of the step in Zou et al.'s proof of Theorem 4.5 (give it
    (n / b) times the epochs for the same time K eta_b as GD). ``record_every`` counts
    iterations; ``record_every="epoch"`` records every ceil(n / b) iterations instead (every
    step for GD), so that every batch size is checked at the same numbers of examples seen and
    "first zero" has the same resolution, one epoch, for all (Chapter 14)."""
    if record_every != "epoch" and not (isinstance(record_every, int) and record_every >= 1):
        raise ValueError(f"record_every must be a positive int or 'epoch', not {record_every!r}")
    if batch_lr not in ("same", "linear", "quadratic"):
        raise ValueError(f"batch_lr must be 'same', 'linear' or 'quadratic', not {batch_lr!r}")
    _check_batch_seed(batch_seed)
    widths, batch_sizes, seeds = list(widths), list(batch_sizes), list(seeds)
    n = int(torch.as_tensor(X).shape[0])
    if epochs is not None and not epochs > 0:
        raise ValueError(f"epochs must be positive (or None for a fixed number of steps), "
                         f"not {epochs}")
    budget = [steps if epochs is None else int(math.ceil(epochs * n / (n if b is None else b)))
              for b in batch_sizes]
    shape = (len(widths), len(batch_sizes), len(seeds))
    first, stable, eps, dist, rel, lrs = (np.full(shape, np.nan) for _ in range(6))
    hists = {}
    for i, m in enumerate(widths):
        for j, b in enumerate(batch_sizes):
            for s, seed in enumerate(seeds):
                shuffle = batch_order_seed(m, b, seed, batch_seed)   # the run's own, any grid
                power = {"same": 0, "linear": 1, "quadratic": 2}[batch_lr]
                scale = lr_scale * (1.0 if b is None else (b / n) ** power)
                net, h = run_classifier(X, y, width=m, depth=depth, batch_size=b,
                                        lr_scale=scale, steps=budget[j], seed=seed,
                                        shuffle_seed=shuffle, record=("loss", "error"),
                                        record_every=_record_every(record_every, n, b),
                                        sampling=sampling, dtype=dtype, device=device)
                init = DeepReLU(net.d, m, depth, parameterization="zou", seed=seed,
                                dtype=dtype, device=device)
                hists[(m, b, seed)] = h
                lrs[i, j, s] = h.lr
                with torch.no_grad():
                    d_l = [float((getattr(net, k) - getattr(init, k)).norm())
                           for k in net.trained_layers()]
                    w_l = [float(getattr(init, k).norm()) for k in net.trained_layers()]
                dist[i, j, s] = max(d_l)
                rel[i, j, s] = max(a / w for a, w in zip(d_l, w_l))
                k1 = steps_to_error(h)
                k2 = steps_to_stable_error(h, min_tail=min_tail)
                if k1 is not None:
                    first[i, j, s] = k1
                if k2 is not None:
                    stable[i, j, s] = k2
                    eps[i, j, s] = k2 * (n if b is None else b) / n
    return ZeroErrorGrid(widths, batch_sizes, seeds, n, max(budget), first, stable, eps, dist,
                         rel, lrs, hists, budget, min_tail)


def _check_batch_seed(batch_seed) -> None:
    if (not isinstance(batch_seed, (int, np.integer)) or isinstance(batch_seed, bool)
            or batch_seed < 0):
        raise ValueError(f"batch_seed must be a non-negative int, not {batch_seed!r}")


def batch_order_seed(width: int, batch_size, seed: int, batch_seed: int = 0) -> int:
    """The seed of SGD's batches for the run (width, batch_size, seed) of ``zero_error_grid``:
    a hash (numpy's ``SeedSequence``) of the run itself and of ``batch_seed`` ("another draw of
    the batches for the same runs"), never of its place in a grid, so the same run gets the
    same batches in any grid. Different runs, or different ``batch_seed``, get different
    seeds (63-bit hashes; distinct except with probability ~2^-63 per pair) as long as every
    value has |value| < 2^31, one 32-bit word each: ``SeedSequence`` splits a larger integer
    into several words, so two different runs could then hash the same words.
    ``batch_size=None`` (GD, no batches) hashes as 0."""
    _check_batch_seed(batch_seed)
    vals = [int(width), 0 if batch_size is None else int(batch_size), int(seed), int(batch_seed)]
    zigzag = [2 * v if v >= 0 else -2 * v - 1 for v in vals]     # non-negative for SeedSequence
    lo, hi = np.random.SeedSequence([0x1A7C4, *zigzag]).generate_state(2, np.uint32)
    return (int(hi) << 32 | int(lo)) >> 1        # 63 bits: torch.Generator.manual_seed takes it


def _record_every(record_every, n: int, b) -> int:
    """Iterations between records: ``record_every`` itself, or one epoch (ceil(n / b)
    iterations of batch size b; 1 for GD) when it is "epoch"."""
    if record_every != "epoch":
        return int(record_every)
    return 1 if b is None else max(1, math.ceil(n / b))


# --- Zou et al. (2018, arXiv v3): the perturbation level and the path-length bound ----------
# Chapters 13-14. Every O(.), Omega(.) of the paper hides an absolute constant it does not
# give; the functions below set each one to 1 and say so.

@dataclass
class PerturbationLevel:
    """``perturbation_level``'s result. ``lemmas``: the largest tau for which Zou et al.'s
    Theorem 5.3 (the curvature lemmas) is proved, C = 1:
    tau = min(L^-11 (log M)^-3/2, phi^{3/2} n^-3 L^-2); ``proofs``: the level the convergence
    proofs fix, tau = n^-9 L^-17 phi^3 (Remark 5.2, Lemmas 5.4-5.7). Both in the spectral norm
    ||W_l - W_l(0)||_2, both functions of (n, L, phi) (and log M), never of a run."""

    n: int
    depth: int
    phi: float
    width: float
    lemmas: float
    proofs: float


def _check_positive(**kw):
    for name, v in kw.items():
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                or not math.isfinite(float(v)) or float(v) <= 0:
            raise ValueError(f"{name} must be a positive number, not {v!r}")


def perturbation_level(n: int, depth: int, phi: float, *, width: float) -> PerturbationLevel:
    """The radius tau of Zou et al.'s perturbation region {W : ||W_l - W_l(0)||_2 <= tau for all
    l} (spectral norm), constants set to 1 (Chapter 13). Theorem 5.3 holds for
    tau <= C [L^-11 (log M)^-3/2] ^ [phi^{3/2} n^-3 L^-2] (M = the largest width, here
    ``width``); the proofs of Theorems 4.1 and 4.5 then take tau = O(n^-9 L^-17 phi^3)."""
    _check_positive(n=n, depth=depth, phi=phi, width=width)
    if width <= math.e:
        raise ValueError(f"width must exceed e (log M > 1), not {width!r}")
    L, M = float(depth), float(width)
    lemmas = min(L ** -11 * math.log(M) ** -1.5, phi ** 1.5 * n ** -3.0 * L ** -2)
    proofs = n ** -9.0 * L ** -17 * phi ** 3
    return PerturbationLevel(int(n), int(depth), float(phi), M, lemmas, proofs)


def path_length_bound(n: int, depth: int, phi: float, *, lr_steps, loss0: float,
                      width_ratio: float = 1.0):
    """The bound on max_l ||W_l(k) - W_l(0)||_2 after k GD steps of size eta, read off the proof
    of Zou et al.'s Lemma 5.5 (Appendix D), constants c1^2/c0 set to 1:
    ||W_l(k) - W_l(0)||_2 <= sqrt(2 k eta L^4 (M/m) n^3 L_S(W(0)) / phi).
    (From ||W(k) - W(0)||_2 <= eta sum_t ||grad_l(t)||_2 <= eta sqrt(k sum_t ||grad_l(t)||_2^2),
    the gradient upper bound (Thm 5.3(viii)) and the per-step decrease (C.6); valid while the
    iterates stay in the region.) ``lr_steps`` = k eta (a number or an array); ``width_ratio``
    = M/m. Chapters 13-14."""
    _check_positive(n=n, depth=depth, phi=phi, loss0=loss0, width_ratio=width_ratio)
    ke = np.asarray(lr_steps, dtype=float)
    if np.any(ke < 0) or not np.all(np.isfinite(ke)):
        raise ValueError("lr_steps (k times the step size) must be finite and >= 0")
    out = np.sqrt(2.0 * ke * depth ** 4 * width_ratio * n ** 3 * loss0 / phi)
    return float(out) if out.ndim == 0 else out


def theorem_lr_steps(n: int, phi: float, *, width, eps: float, p: float = 1.0):
    """K eta, the 'time' Zou et al.'s Lemma 5.4 asks gradient descent to run to reach
    L_S <= eps, for a loss with alpha_0 < infinity (the logistic loss: p = 1), constants 1:
    n^5/(m phi) + n^{5-2p}/(m phi) (p < 1/2), + n^4 log(1/eps)/(m phi) (p = 1/2),
    + n^{5-2p} eps^{1-2p}/(m phi) (1/2 < p <= 1). Chapter 14."""
    _check_positive(n=n, phi=phi, eps=eps, p=p)
    if p > 1:
        raise ValueError(f"Zou et al.'s Assumption 3.2 needs p <= 1, not {p!r}")
    m = np.asarray(width, dtype=float)
    if p < 0.5:
        extra = n ** (5 - 2 * p)
    elif p == 0.5:
        extra = n ** 4 * math.log(1.0 / eps)
    else:
        extra = n ** (5 - 2 * p) * eps ** (1 - 2 * p)
    out = (n ** 5 + extra) / (m * phi)
    return float(out) if out.ndim == 0 else out


def theorem_path_bound(n: int, depth: int, phi: float, *, width, eps: float, loss0: float,
                       p: float = 1.0):
    """The path-length bound at the theorem's K eta (``theorem_lr_steps``): Lemma 5.5's bound
    (``path_length_bound``) after the time Lemma 5.4 needs, ~ n^4 L^2 / (phi sqrt(m)) for the
    logistic loss, constants 1. Falls like m^{-1/2}. Chapter 14."""
    ke = theorem_lr_steps(n, phi, width=width, eps=eps, p=p)
    return path_length_bound(n, depth, phi, lr_steps=ke, loss0=loss0)


def crossing_width(n: int, depth: int, phi: float, *, eps: float, loss0: float,
                   p: float = 1.0, level: str = "lemmas") -> float:
    """The width m at which ``theorem_path_bound`` equals the perturbation level tau
    (``perturbation_level(...).lemmas`` or ``.proofs``): beyond it the proof's path provably
    stays in the region (constants 1). Found by bisection in log m. Chapter 14."""
    if level not in ("lemmas", "proofs"):
        raise ValueError(f"level must be 'lemmas' or 'proofs', not {level!r}")

    def gap(logm):
        m = math.exp(logm)
        tau = getattr(perturbation_level(n, depth, phi, width=m), level)
        return math.log(theorem_path_bound(n, depth, phi, width=m, eps=eps, loss0=loss0,
                                           p=p)) - math.log(tau)

    lo, hi = 1.1, 2.0
    if gap(lo) <= 0:
        return math.exp(lo)
    while gap(hi) > 0:
        lo, hi = hi, 2.0 * hi
        if hi > 700:
            raise ValueError("no crossing below m = e^700")
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if gap(mid) > 0 else (lo, mid)
    return math.exp(hi)


# --- measurements along a run (Chapters 13-14) ------------------------------------------------
def spectral_distances(model, init: dict, *, iters: int = 100) -> np.ndarray:
    """||W_l - W_l(0)||_2 for each trained layer (power iteration, ``deep.spectral_norm``): the
    norm of Zou et al.'s perturbation region. ``init`` = ``deep.snapshot(model)`` at step 0."""
    from .deep import spectral_norm
    with torch.no_grad():
        return np.array([spectral_norm(getattr(model, k) - init[k], iters=iters)
                         for k in model.trained_layers()])


def last_layer_gradient(model, X, y) -> dict:
    """At the model's current weights, with the mean logistic loss L_S = (1/n) sum_i
    log(1 + exp(-y_i f(x_i))) (Zou et al., eq. (3.2)): ``last`` = ||grad_{W_L} L_S||_F^2 (the
    last hidden layer, the gradient Theorem 5.3(vii) bounds), ``all`` = ||grad_W L_S||_F^2 over
    every trained layer, ``dloss_sum`` = sum_i l'(y_i f(x_i)) (negative), ``loss`` = L_S."""
    check_model_input(model, X)
    X = torch.as_tensor(X).to(device=model.device, dtype=model.dtype)
    y = torch.as_tensor(y).to(device=model.device, dtype=model.dtype)
    names = model.trained_layers()
    params = [getattr(model, k) for k in names]
    with torch.enable_grad():                          # also when called under no_grad
        f = model(X)
        loss = torch.nn.functional.softplus(-y * f).mean()
        grads = torch.autograd.grad(loss, params)
    dloss = -torch.sigmoid(-y * f.detach())            # l'(z) = -1/(1 + e^z)
    sq = [float((g ** 2).sum()) for g in grads]
    return {"last": sq[-1], "all": float(sum(sq)), "dloss_sum": float(dloss.sum()),
            "loss": float(loss.detach())}


class RunTracker:
    """A ``train(callback=...)`` (or ``run_classifier(callback=...)``) that records, at each
    recorded step, the spectral distances ||W_l(k) - W_l(0)||_2 (``distance``, shape
    (records, L)) and, if ``X, y`` are given, the quantities of ``last_layer_gradient``
    (Chapters 13-14). It takes W(0) from its first call, which must be at step 0."""

    def __init__(self, X=None, y=None, *, iters: int = 100):
        self.init, self.X, self.y, self.iters = None, X, y, iters
        self.rows = {"step": [], "distance": [], "last": [], "all": [], "dloss_sum": [],
                     "loss": []}

    def __call__(self, step, model):
        from .deep import snapshot
        if self.init is None:
            if step != 0:
                raise ValueError("RunTracker must see step 0 (the initialization) first: "
                                 "use a fresh tracker for each run")
            self.init = snapshot(model)
        self.rows["step"].append(step)
        self.rows["distance"].append(spectral_distances(model, self.init, iters=self.iters))
        if self.X is not None:
            for k, v in last_layer_gradient(model, self.X, self.y).items():
                self.rows[k].append(v)

    def result(self) -> dict:
        return {k: np.asarray(v) for k, v in self.rows.items() if len(v)}


def implied_c1(last_sq, dloss_sum, *, n: int, width: int, phi: float):
    """The constant C1 that Zou et al.'s Theorem 5.3(vii),
    ||grad_{W_L} L_S||_F^2 >= (C1 m_L phi / n^5) (sum_i l'(y_i f_i))^2, needs at each measured
    point: ||grad_{W_L} L_S||_F^2 n^5 / (m_L phi (sum_i l')^2). The theorem says an absolute
    C1 > 0 works for every n, phi and m: the minimum of this over runs must not fall towards 0
    as phi shrinks or n grows. Chapter 13."""
    _check_positive(n=n, width=width, phi=phi)
    last_sq, s = np.asarray(last_sq, dtype=float), np.asarray(dloss_sum, dtype=float)
    return last_sq * n ** 5 / (width * phi * s ** 2)


def steps_to_stable_error(hist, target: float = 0.0, *, min_tail: float = 0.0):
    """The first recorded step from which the training error stays <= ``target`` at every later
    record of the run, or None if the last record is above it (Chapter 14: with a fixed step,
    SGD can touch zero error and leave it again; ``steps_to_error`` returns the first touch).
    ``min_tail`` in [0, 1): the run counts as settled only if the error stayed <= ``target``
    over at least that fraction of its recorded steps (from the returned step to the last
    record); otherwise None. With ``min_tail=0`` a zero error at the very last record counts,
    which says nothing about whether the run has settled."""
    if not 0.0 <= min_tail < 1.0:
        raise ValueError(f"min_tail is a fraction of the run in [0, 1), not {min_tail}")
    err = np.asarray(hist.error, dtype=float)
    steps = np.asarray(hist.steps)
    if err.size == 0:
        return None
    above = np.nonzero(~(err <= target))[0]            # a NaN error (diverged) is above too
    if above.size == 0:
        k = int(steps[0])
    elif above[-1] == err.size - 1:
        return None
    else:
        k = int(steps[above[-1] + 1])
    if steps[-1] - k < min_tail * (steps[-1] - steps[0]):
        return None
    return k


# --- Chapter 13b: pieces of Zou et al.'s proof (arXiv 1811.08888v3) ---------------------------
def min_kappa(X, y, *, width: int, depth: int = 2, steps: int = 200, seed: int = 0,
              record_every: int = 10, device="cpu") -> float:
    """kappa = min over a GD run (``run_classifier``, logistic loss, recorded every
    ``record_every`` steps) of n^2 ||grad_{W_L} L_S||_F^2 / (m (sum_i l'(y_i f_i))^2). Zou et al.'s
    Theorem 5.3(vii), ||grad_{W_L} L_S||_F^2 >= (C1 m phi / n^5)(sum_i l')^2, says
    kappa >= C1 phi / n^3 inside the perturbation region (Chapter 13b)."""
    X = torch.as_tensor(X)
    n = X.shape[0]
    tr = RunTracker(X, y, iters=1)
    run_classifier(X, y, width=width, depth=depth, steps=steps, seed=seed, record=("loss",),
                   record_every=record_every, callback=tr, device=device)
    r = tr.result()
    return float((n ** 2 * r["last"] / (width * r["dloss_sum"] ** 2)).min())


def sign_change_counts(X, *, width: int, depth: int = 2, taus, seeds, layer: int = 1,
                       example: int = 0, dtype: torch.dtype = DEFAULT_DTYPE,
                       device="cpu", random: bool = True) -> dict:
    """Activation sign changes after a perturbation of spectral norm tau, for Zou et al.'s
    Theorem 5.3(iii): every W~ with ||W~_l - W_l(0)||_2 <= tau has at most C L^{4/3} tau^{2/3} m_l
    changed signs ||Sigma~_{l,i} - Sigma_{l,i}||_0 in each layer l for each example i.

    For each seed (a ``DeepReLU(parameterization="zou")`` at initialization) and each tau:
    ``worst``: the largest number of signs of example ``example`` that any change of layer
    ``layer`` alone with ||W'||_2 <= tau can flip in that layer. Flipping a set S of
    pre-activations z_r needs ||W'^T h|| >= ||z_S||, and a rank-one W' reaches any vector of
    norm tau ||h||, so the maximum is the largest k with ||k smallest |z_r|||_2 <= tau ||h||
    (``deep.adversarial_perturbation`` builds that W'; counted here with 1.01 ||z_S||, as it
    does). For Gaussian pre-activations this is k ~ (3/pi)^{1/3} m tau^{2/3} (derived in the
    lesson). ``random``: the largest count over layers and examples for a Gaussian direction
    of spectral norm tau in every layer (as ``deep.random_perturbation``), far fewer.
    ``backward``: ||g_S||_2, g = df(x_i)/dx_l the derivative of the output with respect to the
    flipped layer's output x_l = relu(z), restricted to the worst case's flipped set S: the
    largest change of f that a unit change of x_l on S can make, the quantity
    v^T (prod_r Sigma_r W_r^T) a of Zou et al.'s Theorem 5.3(vi) maximised over unit a supported
    on S (bounded there by C L^{5/3} tau^{1/3} sqrt(M log M)); ~ sqrt(|S|) for layer < L.
    All arrays are (len(seeds), len(taus)) (Chapter 13b). ``random=False`` skips the random
    direction (most of the cost) and leaves ``random`` as NaN."""
    from .deep import adversarial_perturbation, perturbed, sign_changes, spectral_norm
    X = torch.as_tensor(X).to(dtype)
    taus, seeds = [float(t) for t in taus], list(seeds)
    worst = np.zeros((len(seeds), len(taus)))
    rand, back = np.zeros_like(worst), np.zeros_like(worst)
    for s, seed in enumerate(seeds):
        net = DeepReLU(X.shape[1], width, depth, parameterization="zou", seed=seed,
                       dtype=dtype, device=device)
        Xd = X.to(device=net.device)
        k_layer = net.layer_names.index(net.trained_layers()[layer - 1])
        with torch.enable_grad():
            f, inputs, _ = net.forward_layers(Xd[example:example + 1])
            (dfdx,) = torch.autograd.grad(f.sum(), inputs[k_layer + 1])
        dfdx = dfdx[0].detach()
        # a generator apart from the network's (the same seed would draw W' proportional to
        # W(0)); each layer's direction scaled to spectral norm 1 (50 power iterations)
        g = torch.Generator().manual_seed(10_007 + int(seed))
        direction = {}
        for k in (net.trained_layers() if random else []):
            W = getattr(net, k)
            G = torch.randn(*W.shape, generator=g, dtype=torch.float64).to(W)
            direction[k] = G / spectral_norm(G, iters=50)
        for t, tau in enumerate(taus):
            adv = perturbed(net, adversarial_perturbation(net, Xd, tau, layer=layer,
                                                          example=example))
            flipped = (adv.activation_patterns(Xd[example:example + 1])[k_layer][0]
                       != net.activation_patterns(Xd[example:example + 1])[k_layer][0])
            worst[s, t] = float(flipped.sum())
            back[s, t] = float(dfdx[flipped].norm())
            if not random:
                rand[s, t] = np.nan
                continue
            rnd = perturbed(net, {k: tau * D for k, D in direction.items()})
            rand[s, t] = sign_changes(rnd, net, Xd).max()
    return {"taus": np.array(taus), "worst": worst, "random": rand, "backward": back}


def loss_recursion_steps(p: float, *, c: float, loss0: float, eps: float,
                         max_steps: int = 10 ** 7):
    """The number of steps k at which L_{k} <= eps first holds for the recursion
    L_{k+1} = max(0, L_k - c L_k^{2p}), the per-step decrease of Zou et al.'s (C.6) combined
    with Assumption 3.2 for alpha_0 = infinity: L_S(k+1) - L_S(k) <= -eta c0 m phi alpha_1^2
    n^{2p-5} L_S(k)^{2p} / 2, i.e. c = eta c0 m phi alpha_1^2 n^{2p-5} / 2 (Chapter 13b). For
    p = 1/2 it is L_k = (1 - c)^k L_0 (linear convergence, the Polyak-Lojasiewicz case); for
    p < 1/2 it reaches 0 after finitely many steps whatever eps; for p > 1/2 it takes of order
    eps^{1-2p} / (c (2p - 1)) steps. None if not reached within ``max_steps``."""
    _check_positive(p=p, c=c, loss0=loss0, eps=eps)
    if p > 1:
        raise ValueError(f"Assumption 3.2 needs p <= 1, not {p!r}")
    if c * loss0 ** (2 * p - 1) > 1 and p >= 0.5:
        raise ValueError("c L_0^{2p-1} must be at most 1 (a step that does not overshoot)")
    L, k = float(loss0), 0
    while L > eps:
        if k >= max_steps:
            return None
        L, k = max(0.0, L - c * L ** (2 * p)), k + 1
    return k


# the losses Zou et al. name after Assumption 3.2, with the squared hinge (p = 1/2); each is
# (l(z), l'(z)) on numpy arrays, l' taken from the right at a kink
LOSSES = {
    "logistic": (lambda z: np.logaddexp(0.0, -z), lambda z: -1.0 / (1.0 + np.exp(z))),
    "exponential": (lambda z: np.exp(-z), lambda z: -np.exp(-z)),
    "hinge": (lambda z: np.maximum(0.0, 1.0 - z), lambda z: -(z < 1.0).astype(float)),
    "squared hinge": (lambda z: np.maximum(0.0, 1.0 - z) ** 2,
                      lambda z: -2.0 * np.maximum(0.0, 1.0 - z)),
}


def descent_constant(loss: str, *, margins, deltas) -> float:
    """The smallest lambda with l(z + D) <= l(z) + l'(z) D + (lambda / 2) D^2 for every margin z
    in ``margins`` and step D in ``deltas``: max 2 (l(z + D) - l(z) - l'(z) D) / D^2. Zou et
    al.'s proof of Lemma 5.4 uses this descent inequality, which follows from Assumption 3.3
    (|l''| <= lambda). A loss that satisfies 3.3 gives a value <= lambda on every grid (1/4 for
    the logistic loss, 2 for the squared hinge); one that does not (hinge: l' jumps at z = 1;
    exponential: l'' = e^{-z} unbounded as z -> -infinity) gives values that grow as the grid
    refines or widens (Chapter 13b). ``loss`` is a key of ``LOSSES``."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {tuple(LOSSES)}, not {loss!r}")
    z = np.asarray(margins, dtype=float)[:, None]
    D = np.asarray(deltas, dtype=float)[None, :]
    if np.any(D == 0):
        raise ValueError("deltas must be non-zero")
    ell, dell = LOSSES[loss]
    return float((2.0 * (ell(z + D) - ell(z) - dell(z) * D) / D ** 2).max())


def path_vs_width(X, y, *, widths, depth: int, seeds, phi: float, eps: float,
                  steps: int = 3000, device="cpu") -> dict:
    """Chapter 14: GD runs (``run_classifier``) until L_S <= ``eps``, for every width and seed:
    ``measured`` = max_k max_l ||W_l(k) - W_l(0)||_2 (a ``RunTracker`` every 5 steps),
    ``steps`` = the step at which the run stopped, ``own`` = Lemma 5.5's bound
    (``path_length_bound``) at the run's own k eta and L_S(W(0)); arrays (len(seeds),
    len(widths))."""
    X = torch.as_tensor(X)
    n = X.shape[0]
    seeds, widths = list(seeds), list(widths)
    out = {k: np.zeros((len(seeds), len(widths))) for k in ("measured", "own", "steps")}
    for j, m in enumerate(widths):
        for s, seed in enumerate(seeds):
            tr = RunTracker(iters=30)
            _, h = run_classifier(X, y, width=m, depth=depth, steps=steps, seed=seed,
                                  until={"loss": eps}, record=("loss",), record_every=5,
                                  callback=tr, device=device)
            out["measured"][s, j] = tr.result()["distance"].max()
            out["steps"][s, j] = h.steps[-1]
            out["own"][s, j] = path_length_bound(n, depth, phi, lr_steps=h.steps[-1] * h.lr,
                                                 loss0=h.loss[0])
    return out


def logistic_constants(b: float = 1.0, p: float = 1.0, **grid) -> tuple[float, float]:
    """Chapter 13: the constants (alpha_0, alpha_1) of Zou et al.'s Assumption 3.2 (arXiv v3),
    -l'(z) >= min{alpha_0, alpha_1 l(z)^p}, for the logistic loss l(z) = log(1 + e^{-z}),
    with the switch level b = alpha_0 / alpha_1 fixed: alpha_1 is the largest a with
    -l'(z) >= a min(b, l(z)^p) on a grid of z (``logistic_alpha0``, which returns this a), and
    alpha_0 = alpha_1 b. For p = 1 they are (1 - e^{-b}, (1 - e^{-b}) / b) (Exercise 13.1)."""
    alpha1 = logistic_alpha0(b, p, **grid)
    return alpha1 * b, alpha1


def unit_gradient_norms(X, y, *, width: int, depth: int = 2, seed: int = 0, a=None,
                        dtype: torch.dtype = DEFAULT_DTYPE, device="cpu") -> np.ndarray:
    """Chapter 13b: the per-unit norms of Zou et al.'s Theorem 5.1(viii) at the initialization
    ``DeepReLU(d, width, depth, parameterization="zou", seed=seed)`` (the one ``run_classifier``
    starts from): for each unit j of the last hidden layer,
    ||(1/n) sum_i a_i y_i sigma'(<w_{L,j}, x_{L-1,i}>) x_{L-1,i}||_2 (``a`` defaults to all
    ones). The theorem promises, for every a >= 0, at least c m phi / n units with a norm of at
    least c' ||a||_inf / n. Computed as the row norms of grad_{W_L} of (1/n) sum_i a_i y_i f(x_i),
    which are these norms since the output weights are +-1. Returns an array of shape (width,)."""
    X = torch.as_tensor(X).to(dtype)
    net = DeepReLU(X.shape[1], width, depth, parameterization="zou", seed=seed, dtype=dtype,
                   device=device)
    Xd = X.to(device=net.device)
    yd = torch.as_tensor(y).to(device=net.device, dtype=dtype)
    ad = torch.ones_like(yd) if a is None else torch.as_tensor(a).to(yd)
    W_L = getattr(net, net.trained_layers()[-1])            # (units, inputs): row j is unit j
    with torch.enable_grad():
        (g,) = torch.autograd.grad((ad * yd * net(Xd)).mean(), W_L)
    return g.norm(dim=1).cpu().numpy()
