"""Du et al. (2019), Section 5 and Figure 1, at any scale (Chapter 6).

The paper trains ``TwoLayerReLU`` (only W trains, a fixed) by full-batch gradient descent on
n = 1000 points uniform on the unit sphere in d = 1000 with N(0, 1) labels, for 100 epochs at a
fixed step size, for several widths m, and plots (a) the training loss, (b) the fraction of
activation patterns that changed since initialization and (c) max_r ||w_r(k) - w_r(0)||. We add
(d) lambda_min(H(k)), the quantity the proofs keep above lambda_0/2, recorded every 10th step
and at the last one by default (``lambda_min_every``). The paper's legend gives the widths
m = 500, 1000, 2000, 4000, 8000 (``PAPER_WIDTHS``, ``--widths paper``); its step size is not
given. Our default widths reach further on both sides, and our step is 1/lambda_max(H^infty).

Training runs in the span of the inputs (``_gd_in_kernel_space``): the same iterates as
``train``, at one n x n x m product a step instead of two n x d x m ones, with the loss summed
in float64 and the predictions by cascade summation. In float32 the loss of a converged run
still stops falling where float32 rounding of the predictions u(k) takes over (about 2e-11 at
the paper's scale, for every width); ``Figure1Result.loss_floor`` gives that level per width.

From Python::

    from overparam.experiments import figure1
    res = figure1(n=1000, d=1000, widths=(100, 500, 1000, 2000, 5000, 10000), epochs=100)
    overparam.plots.figure1(res)

From a shell (a GPU is used when there is one)::

    python -m overparam.experiments.figure1 --n 1000 --d 1000 \\
        --widths 100 500 1000 2000 5000 10000 --epochs 100 --out fig1.png
    python -m overparam.experiments.figure1 --widths paper     # m = 500 ... 8000
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import types
from dataclasses import dataclass, field

import numpy as np
import torch

from ..data import sphere_data
from ..device import resolve_device
from ..kernels import gram_matrix, h_infinity, lambda_min, smallest_eigenpair
from ..models import TwoLayerReLU
from ..train import DIVERGENCE_FACTOR, _show_progress, train

FIGURE1_RECORDS = ("loss", "flips", "radius", "lambda_min")
TRAIN_RECORDS = ("loss", "flips", "radius")
DEFAULT_WIDTHS = (100, 500, 1000, 2000, 5000, 10000)
PAPER_WIDTHS = (500, 1000, 2000, 4000, 8000)        # Du et al. (2019), Figure 1's legend
METHODS = ("kernel", "train")
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass
class Figure1Result:
    """The records of ``figure1``: ``loss``, ``flips``, ``radius`` and ``lambda_min`` are numpy
    arrays of shape (len(widths), len(steps)), row j for width ``widths[j]``; ``lambda0`` and
    ``lambda_max`` are those of H^infty for the data; ``lr`` the step size used. ``lambda_min``
    is recorded at ``lambda_min_steps`` only (every ``lambda_min_every``-th step and the last).
    ``loss_floor`` (one per width): half the squared difference between the last step's
    predictions and the same state's predictions evaluated in float64; below it a float32
    run's loss curve shows rounding, not training (NaN where not measured: ``method="train"``
    or a result saved before it existed)."""

    widths: np.ndarray
    steps: np.ndarray
    loss: np.ndarray
    flips: np.ndarray
    radius: np.ndarray
    lambda_min: np.ndarray
    lambda_min_steps: np.ndarray
    n: int
    d: int
    lr: float
    lambda0: float
    lambda_max: float
    seed: int
    dtype: str
    device: str
    seconds: float = field(default=float("nan"), compare=False)
    loss_floor: np.ndarray = field(default=None)

    def __post_init__(self):
        if self.loss_floor is None:
            self.loss_floor = np.full(len(self.widths), np.nan)

    def save(self, path) -> None:
        """Write the result to a ``.npz`` file (read it back with ``Figure1Result.load``)."""
        np.savez(path, **{k: np.asarray(v) for k, v in self.__dict__.items()})

    @classmethod
    def load(cls, path) -> Figure1Result:
        """Read a result written by ``save``."""
        with np.load(path) as z:
            kw = {k: z[k] for k in z.files}
        for k in ("n", "d", "seed"):
            kw[k] = int(kw[k])
        for k in ("lr", "lambda0", "lambda_max", "seconds"):
            kw[k] = float(kw[k])
        for k in ("dtype", "device"):
            kw[k] = str(kw[k])
        return cls(**kw)

    def summary(self) -> str:
        """One line per width: final loss, flips, radius and lambda_min(H), 3 digits."""
        lines = [f"n={self.n}, d={self.d}, lr={self.lr:.3g}, {len(self.steps) - 1} epochs, "
                 f"lambda_0={self.lambda0:.3g}, {self.dtype} on {self.device}",
                 f"{'width':>8} {'loss':>10} {'flips':>10} {'radius':>10} {'lambda_min(H)':>14}"
                 f" {'loss floor':>11}"]
        for j, m in enumerate(self.widths):
            lines.append(f"{int(m):>8} {self.loss[j, -1]:>10.3g} {self.flips[j, -1]:>10.3g} "
                         f"{self.radius[j, -1]:>10.3g} {self.lambda_min[j, -1]:>14.3g}"
                         f" {self.loss_floor[j]:>11.2g}")
        return "\n".join(lines)


def figure1(n: int = 1000, d: int = 1000, widths=DEFAULT_WIDTHS, epochs: int = 100,
            lr: float | None = None, device="auto", dtype: torch.dtype = torch.float32,
            seed: int = 0, progress: bool | None = None, record_every: int = 1,
            lambda_min_every: int = 10, method: str = "kernel") -> Figure1Result:
    """Du et al. (2019), Section 5 / Figure 1: full-batch GD on ``TwoLayerReLU(d, m, seed=seed)``
    for every m in ``widths``, on ``sphere_data(n, d, seed=seed)`` (N(0, 1) labels), with Du's
    1/2-sum square loss; records per width the loss, the fraction of activation patterns changed
    (Fig. 1b), max_r ||w_r(k) - w_r(0)|| (Fig. 1c) and lambda_min(H(k)) (Lemma 3.2).
    ``widths="paper"`` takes the paper's m = 500, 1000, 2000, 4000, 8000 (``PAPER_WIDTHS``).

    ``epochs``: GD steps (full batch: one step is one epoch). ``lr=None`` takes
    1/lambda_max(H^infty), a step that is stable at every width (Chapter 5). ``device="auto"``
    uses a GPU when present; ``dtype`` float32 for speed (the paper's scale), float64 to compare
    with theory. ``progress``: tqdm bars (None: only in a terminal). ``lambda_min_every``:
    lambda_min(H(k)) is recorded at every ``lambda_min_every``-th step and the last (default:
    every 10th; 1 records every step): each record costs the n x m x n product of H(k) and an
    eigenvalue problem (``kernels.smallest_eigenpair``, warm-started from the previous record,
    certified to 2e-7 relative). ``method="kernel"`` (default) trains in the span of the inputs
    (``_gd_in_kernel_space``, the faster at the paper's scale), ``"train"`` through
    ``overparam.train.train``: the same iterates, up to rounding.
    """
    if isinstance(widths, str):
        if widths != "paper":
            raise ValueError(f"widths must be a list of integers or 'paper', not {widths!r}")
        widths = PAPER_WIDTHS
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    widths = [int(m) for m in widths]
    if not widths or min(widths) < 1:
        raise ValueError(f"widths must be a non-empty list of positive integers, not {widths!r}")
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, not {epochs!r}")
    if not isinstance(lambda_min_every, int) or isinstance(lambda_min_every, bool) \
            or lambda_min_every < 1:
        raise ValueError(f"lambda_min_every must be an integer >= 1, not {lambda_min_every!r}")
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, not {dtype!r}")
    dev = resolve_device(device)
    start = time.perf_counter()
    X, y = sphere_data(n, d, seed=seed)                         # float64 on the CPU
    evals, evecs = torch.linalg.eigh(h_infinity(X.to(dev)))
    lam0, lam_max = float(evals[0]), float(evals[-1])
    bottom = evecs[:, 0]            # H(0) -> H^infty as m grows: a start for lambda_min(H(0))
    if lr is None:
        lr = 1.0 / lam_max
    X, y = X.to(device=dev, dtype=dtype), y.to(device=dev, dtype=dtype)
    show = _show_progress(progress)
    runs = widths
    if show:
        from tqdm.auto import tqdm
        runs = tqdm(widths, desc="Figure 1: widths", unit="width")
    rows = {k: [] for k in FIGURE1_RECORDS}
    floors = []
    steps = None
    for m in runs:
        if show:
            runs.set_postfix(m=m)
        net = TwoLayerReLU(d, m, seed=seed, dtype=dtype, device=dev)
        if method == "kernel":
            bar = None
            if show:
                from tqdm.auto import tqdm
                bar = tqdm(total=epochs, desc="training", leave=False)
            try:
                steps, rec, lam_steps, lam = _gd_in_kernel_space(
                    net, X, y, float(lr), epochs, record_every, lambda_min_every, bar, bottom)
            finally:
                if bar is not None:
                    bar.close()
        else:
            lam_steps, lam = [], []

            def measure_lambda_min(k, model, lam_steps=lam_steps, lam=lam):
                if k % lambda_min_every == 0 or k == epochs:
                    lam_steps.append(k)
                    lam.append(lambda_min(gram_matrix(model, X).double()))

            hist = train(net, X, y, lr=float(lr), steps=epochs, record=TRAIN_RECORDS,
                         record_every=record_every, progress=show,
                         callback=measure_lambda_min)
            steps, rec = hist.steps, {k: getattr(hist, k) for k in TRAIN_RECORDS}
        floors.append(rec.get("loss_floor", float("nan")))
        for k in TRAIN_RECORDS:
            rows[k].append(np.asarray(rec[k], dtype=np.float64))
        rows["lambda_min"].append(np.asarray(lam, dtype=np.float64))
        del net
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    return Figure1Result(
        widths=np.array(widths), steps=np.asarray(steps), lambda_min_steps=np.asarray(lam_steps),
        **{k: np.stack(v) for k, v in rows.items()},
        n=n, d=d, lr=float(lr), lambda0=lam0, lambda_max=lam_max, seed=seed,
        dtype=str(dtype).replace("torch.", ""), device=str(dev),
        seconds=time.perf_counter() - start, loss_floor=np.asarray(floors, dtype=np.float64),
    )


def _gd_in_kernel_space(net, X, y, lr, epochs, record_every, lambda_min_every, bar=None,
                        start=None):
    """Full-batch GD on ``net`` (a ``TwoLayerReLU`` with a fixed) written in the span of the
    inputs, one n x n x m product a step instead of two n x d x m ones (Chapter 6).

    Every update of w_r is a combination of the inputs (Du et al. eq. (4)), so with
    S(k) = sum_{j<k} P(j) * r(j) (n x m; P the 0/1 activation pattern, r = u - y):
        W(k) = W(0) - lr diag(a / sqrt m) S(k)^T X,
        X W(k)^T = X W(0)^T - lr (K S(k)) diag(a / sqrt m),     K = X X^T,
        ||w_r(k) - w_r(0)|| = lr |a_r| / sqrt(m) sqrt(S_r^T K S_r)   (column r of S and K S),
    the iterates of ``train`` in exact arithmetic (tests/test_experiments.py compares them).
    The loss is summed in float64; lambda_min(H(k)) at every ``lambda_min_every``-th step and
    the last, by ``kernels.smallest_eigenpair`` warm-started from the previous record (the
    first from ``start``, e.g. the bottom eigenvector of H^infty).
    ``records["loss_floor"]``: 1/2 ||u - u64||^2 at the last step, u64 the predictions of the
    same state (pre0, S) evaluated in float64: the level below which the recorded loss is
    rounding of the predictions, not the dynamics (about 1e-30 in float64).
    Returns ``(steps, records, lambda_min_steps, lambda_min)``."""
    n, m = X.shape[0], net.m
    with torch.no_grad():
        K = X @ X.T
        K = 0.5 * (K + K.T)                  # exactly symmetric: K.T is the same matrix
        coef = net.a / math.sqrt(m)          # a_r / sqrt(m)
        step_coef = -lr * coef
        a2 = net.a * net.a
        pre0 = X @ net.W.T                   # X W(0)^T
        pre, P = torch.empty_like(pre0), torch.empty_like(pre0)
        S, T = torch.zeros_like(pre0), torch.empty_like(pre0)
        y64 = y.double()
        P0 = None
        steps, rec = [], {k: [] for k in TRAIN_RECORDS}
        lam_steps, lam, vec = [], [], start
        loss0 = None
        for k in range(epochs + 1):
            record = k % record_every == 0 or k == epochs
            radius = 0.0
            if k == 0:
                pre.copy_(pre0)
            else:
                torch.matmul(K.T, S, out=T)                       # K S(k)
                torch.addcmul(pre0, T, step_coef, out=pre)        # X W(k)^T
                if record:                                        # T becomes S * (K S)
                    sq = T.mul_(S).sum(0).clamp_min_(0)
                    radius = float(lr * (sq.sqrt_() * coef.abs()).max())
            torch.ge(pre, 0, out=P)                               # 1{w_r^T x_i >= 0}
            # f(W(k), a, x_i) = sum_r relu(.) a_r / sqrt(m), by torch's cascade summation:
            # about 5x less rounding than a BLAS product at m = 10^4 (the loss floor)
            u = torch.mul(pre.clamp_min_(0), coef, out=T).sum(1)
            r = u.double() - y64
            value = 0.5 * float(r @ r)                            # Du's 1/2-sum loss, float64
            if loss0 is None:
                loss0 = max(value, 1e-300)
            if not math.isfinite(value) or value > DIVERGENCE_FACTOR * loss0:
                raise ValueError(
                    f"training diverged at step {k} with lr={lr:g} (loss = {value:.3g}): a step "
                    "size around 1/lambda_max(H^infty) of the data is stable (the default)")
            if record:
                steps.append(k)
                rec["loss"].append(value)
                if P0 is None:
                    P0 = P.clone()
                rec["flips"].append(float(torch.count_nonzero(torch.ne(P, P0))) / (n * m))
                rec["radius"].append(radius)
            if k % lambda_min_every == 0 or k == epochs:
                H = K * torch.mm(torch.mul(P, a2, out=T), P.T) / m   # Du's H(k), eq. (6)
                value_min, vec = smallest_eigenpair(H, start=vec)
                lam_steps.append(k)
                lam.append(value_min)
            if k == epochs:
                pre64 = torch.addcmul(pre0.double(), K.double().T @ S.double(),
                                      step_coef.double())
                e = pre64.clamp_min_(0) @ coef.double() - u.double()
                rec["loss_floor"] = 0.5 * float(e @ e)
                break
            S.addcmul_(P, r.to(S.dtype)[:, None])                # S(k+1) = S(k) + P(k) * r(k)
            if bar is not None:
                bar.update(1)
    return steps, rec, lam_steps, lam


def smallest_width_that_trains(X, y, widths, *, lr: float, steps: int, tol: float = 1e-3,
                               seeds=(0, 1, 2), dtype: torch.dtype = torch.float64,
                               device="cpu"):
    """Chapter 6, theory vs practice: the smallest m in ``widths`` for which full-batch GD on
    ``TwoLayerReLU(d, m, seed=s)`` brings the loss below ``tol`` times its initial value within
    ``steps`` steps for every seed s (the practical counterpart of Du et al.'s Thm 4.1 width).
    Returns ``(width or None, sweep_result)``; the sweep runs all widths and seeds at once."""
    from ..sweep import sweep

    res = sweep(sorted(int(m) for m in widths), seeds, X, y, lr=lr, steps=steps,
                record=("loss",), record_every=steps, dtype=dtype, device=device)
    ok = (res.loss[:, :, -1] <= tol * res.loss[:, :, 0]).all(axis=1)
    for j, m in enumerate(res.widths):
        if ok[j:].all():
            return int(m), res
    return None, res


def main(argv=None) -> Figure1Result:
    """Command line: run ``figure1`` and save the four-panel figure (``plots.figure1``)."""
    p = argparse.ArgumentParser(
        prog="python -m overparam.experiments.figure1",
        description="Reproduce Figure 1 of Du, Zhai, Poczos & Singh (2019): training loss, "
                    "fraction of activation patterns changed, max distance from init and "
                    "lambda_min(H(k)) for several widths.")
    p.add_argument("--n", type=int, default=1000, help="number of points (paper: 1000)")
    p.add_argument("--d", type=int, default=1000, help="input dimension (paper: 1000)")
    p.add_argument("--widths", nargs="+", default=[str(m) for m in DEFAULT_WIDTHS],
                   help="widths m, or 'paper' for the paper's 500 1000 2000 4000 8000 "
                        "(default: %(default)s)")
    p.add_argument("--epochs", type=int, default=100, help="full-batch GD steps (paper: 100)")
    p.add_argument("--lr", type=float, default=None,
                   help="step size (default: 1/lambda_max(H^infty) of the data)")
    p.add_argument("--device", default="auto", help="auto (GPU if present), cpu or cuda")
    p.add_argument("--dtype", choices=sorted(_DTYPES), default="float32")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--record-every", type=int, default=1, help="record every k steps")
    p.add_argument("--lambda-min-every", type=int, default=10,
                   help="record lambda_min(H(k)) every k steps and at the last one "
                        "(default: %(default)s; each record costs an n x m x n product)")
    p.add_argument("--out", default="fig1.png", help="where to save the figure (PNG, PDF, SVG)")
    p.add_argument("--save", default=None, help="also save the records to this .npz file")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    if args.widths == ["paper"]:
        widths = PAPER_WIDTHS
    else:
        try:
            widths = [int(m) for m in args.widths]
        except ValueError:
            p.error(f"--widths takes integers or the word paper, not {' '.join(args.widths)}")
    res = figure1(n=args.n, d=args.d, widths=widths, epochs=args.epochs, lr=args.lr,
                  device=args.device, dtype=_DTYPES[args.dtype], seed=args.seed,
                  progress=False if args.no_progress else True, record_every=args.record_every,
                  lambda_min_every=args.lambda_min_every)
    import matplotlib
    matplotlib.use("Agg")
    from ..plots import figure1 as plot_figure1
    fig = plot_figure1(res)
    fig.savefig(args.out, dpi=150)
    if args.save:
        res.save(args.save)
    print(res.summary())
    print(f"figure saved to {args.out} ({res.seconds:.1f} s)")
    return res


class _CallableModule(types.ModuleType):
    """Lets ``overparam.experiments.figure1(...)`` work even when the submodule object has
    replaced the function as the package's attribute (after ``import
    overparam.experiments.figure1``)."""

    def __call__(self, *args, **kwargs):
        return figure1(*args, **kwargs)


if __name__ == "__main__":
    main()
else:
    sys.modules[__name__].__class__ = _CallableModule
