"""One training loop for gradient descent and SGD (Chapters 1-7, 9, 12-14).

``train(model, X, y, lr=..., steps=...)`` runs full-batch GD (``batch_size=None``) or SGD on
the model *in place* and returns a ``History`` of what the lessons plot. SGD's batches come
from ``batch_indices``: seeded epochs without replacement (``sampling="epoch"``, the default) or
an independent uniform batch at every step, as the SGD theorems draw them
(``sampling="uniform"``). Records are opt-in by name, so the default costs nothing extra:

======================  ====================================================================
``loss``                the full training loss (Du et al.: L = 1/2 sum_i (u_i - y_i)^2)
``outputs``             the predictions u(k) on the training inputs, shape (records, n)
``radius``              TwoLayerReLU: max_r ||w_r(k) - w_r(0)|| (Du et al. Fig. 1c, Cor. 4.1);
                        deep nets: ||W_l(k) - W_l(0)||_F per trained layer, (records, layers)
``flips``               fraction of activation patterns 1{h(x_i) >= 0} changed since step 0
                        (Du et al. Fig. 1b); per ReLU layer for deep nets
``lambda_min``          lambda_min(H(k)) of ``kernels.gram_matrix`` (Du et al. Lemma 3.2)
``kernel_drift``        ||H(k) - H(0)||_2 (spectral norm)
``grad_norm``           ||grad L|| over all trained parameters, full batch
``error``               training classification error, fraction of i with y_i u_i <= 0
======================  ====================================================================
"""

from __future__ import annotations

import copy
import math
import os
import sys

import numpy as np
import torch

from .data import check_inputs, check_model_input
from .device import as_tensor
from .kernels import empirical_ntk, gram_matrix, lambda_max, two_layer_ntk
from .models import TwoLayerReLU

RECORDS = ("loss", "outputs", "radius", "flips", "lambda_min", "kernel_drift", "grad_norm",
           "error")
LOSSES = ("square", "logistic")
SAMPLINGS = ("epoch", "uniform")
DIVERGENCE_FACTOR = 1e6


class History:
    """What ``train`` recorded: ``hist.steps`` (the recorded step numbers) and one numpy array
    per record name (``hist.loss``, ``hist.flips``, ...), first axis = recorded steps; the
    run's settings ``lr``, ``batch_size``, ``loss_name``, ``n`` and ``sampling`` (how SGD drew
    its batches, ``"epoch"`` or ``"uniform"``; None for full-batch GD)."""

    def __init__(self, steps, records: dict, *, lr, batch_size, loss, n, sampling="epoch"):
        self.steps = np.asarray(steps)
        self.records = {k: np.asarray(v) for k, v in records.items()}
        self.lr, self.batch_size, self.loss_name, self.n = lr, batch_size, loss, n
        self.sampling = None if batch_size is None else sampling

    def __getattr__(self, name):
        records = self.__dict__.get("records", {})
        if name in records:
            return records[name]
        if name in RECORDS:
            raise AttributeError(
                f"'{name}' was not recorded: pass record=(..., '{name}') to train()"
            )
        raise AttributeError(name)

    def __repr__(self) -> str:
        names = ", ".join(self.records)
        return (f"History({len(self.steps)} records up to step {int(self.steps[-1])}: {names}; "
                f"lr={self.lr:g}, batch_size={self.batch_size}, sampling={self.sampling!r}, "
                f"loss={self.loss_name!r})")


# --- losses: value and derivative in u, for a batch of size b out of n -----------------------
def loss_value(u, y, loss: str):
    """Square: Du et al.'s 1/2 sum_i (u_i - y_i)^2. Logistic: mean_i log(1 + exp(-y_i u_i))."""
    if loss == "square":
        return 0.5 * ((u - y) ** 2).sum()
    return torch.nn.functional.softplus(-y * u).mean()


def _loss_grad_u(u, y, loss, n):
    """d(minibatch estimate of the full loss)/du; the estimate is unbiased: (n/b) x batch sum for
    the square loss, the batch mean for the logistic loss."""
    b = u.shape[0]
    if loss == "square":
        return (u - y) * (n / b)
    return -y * torch.sigmoid(-y * u) / b


# --- SGD's batches ---------------------------------------------------------------------------
def _check_sampling(sampling):
    if not isinstance(sampling, str) or sampling not in SAMPLINGS:
        raise ValueError(
            f"sampling must be one of {SAMPLINGS}, not {sampling!r}: 'epoch' reshuffles once per "
            "epoch and takes the batches in turn (each example once per epoch), 'uniform' draws "
            "an independent uniformly random batch at every step (the SGD theorems' sampling)"
        )


def batch_indices(n: int, batch_size: int, steps: int, *, sampling: str = "epoch",
                  seed: int = 0, device=None):
    """The example indices of SGD's ``steps`` batches: an iterator of LongTensors, one per
    step, each of ``batch_size`` distinct indices in 0..n-1 (on ``device``; default the CPU),
    seeded (Chapters 12-14). ``train`` draws its batches here.

    ``sampling="epoch"`` (the default): at the start of every epoch a fresh random permutation
    of the n examples, cut into consecutive batches; the n mod b examples left at the end of a
    permutation are skipped, so each example is used exactly once per epoch when b divides n
    (what deep-learning practice calls an epoch of SGD).

    ``sampling="uniform"``: at every step an independent uniformly random b-subset of the n
    examples, drawn afresh (examples repeat across steps, never within a batch). This is the
    SGD the theorems analyse: Zou et al. (2020; arXiv 1811.08888 v3), eq. (D.5) and Lemma D.2,
    whose proof takes the expectation of each step's batch gradient given the past (the full
    gradient), and Allen-Zhu et al. (2019)'s SGD theorem, which draws its batch the same way.
    Each example is in the batch with probability b/n at every step, whatever came before.

    Both draw from one ``torch.Generator`` seeded with ``seed``: the same seed gives the same
    batches on every device.
    """
    _check_sampling(sampling)
    for name, v, lo in (("n", n, 1), ("batch_size", batch_size, 1), ("steps", steps, 0)):
        if not isinstance(v, int) or isinstance(v, bool) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, not {v!r}")
    if batch_size > n:
        raise ValueError(f"batch_size must be at most n = {n}, not {batch_size}")
    gen = torch.Generator().manual_seed(int(seed))

    def uniform():
        for _ in range(steps):
            yield torch.randperm(n, generator=gen)[:batch_size].to(device)

    def epochs():
        order, pos = None, n
        for _ in range(steps):
            if pos + batch_size > n:
                order, pos = torch.randperm(n, generator=gen).to(device), 0
            yield order[pos:pos + batch_size]
            pos += batch_size

    return uniform() if sampling == "uniform" else epochs()


# --- helpers ---------------------------------------------------------------------------------
def _validate(model, X, y, lr, steps, batch_size, loss, record, record_every,
              sampling="epoch"):
    if not isinstance(model, torch.nn.Module) or not hasattr(model, "forward_layers"):
        raise TypeError("model must be an overparam.models network (TwoLayerReLU or DeepReLU)")
    X = check_inputs(X, y)
    check_model_input(model, X)
    y = as_tensor(y)
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive finite number, not {lr!r}")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, not {steps!r}")
    n = X.shape[0]
    if batch_size is not None and (not isinstance(batch_size, int) or isinstance(batch_size, bool)
                                   or not 1 <= batch_size <= n):
        raise ValueError(f"batch_size must be None (full-batch GD) or an integer in 1..{n}, "
                         f"not {batch_size!r}")
    _check_sampling(sampling)
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, not {loss!r}")
    if isinstance(record, str):
        record = (record,)
    unknown = [r for r in record if r not in RECORDS]
    if unknown:
        raise ValueError(f"unknown record name(s) {unknown}: choose from {RECORDS}")
    if not isinstance(record_every, int) or isinstance(record_every, bool) or record_every < 1:
        raise ValueError(f"record_every must be an integer >= 1, not {record_every!r}")
    if (loss == "logistic" or "error" in record) and not bool(((y == 1) | (y == -1)).all()):
        raise ValueError("the logistic loss and the 'error' record need labels in {-1, +1}; "
                         "use sphere_data(..., labels='sign') or map your classes to +-1")
    X = X.to(device=model.device, dtype=model.dtype)
    y = y.to(device=model.device, dtype=model.dtype)
    return X, y, tuple(dict.fromkeys(record))


def _validate_until(until, record):
    """``train(until=...)``: a dict of scalar record names to thresholds (Chapters 13-14)."""
    if until is None:
        return None
    scalar = ("loss", "error", "grad_norm", "lambda_min", "kernel_drift")
    if not isinstance(until, dict) or not until:
        raise ValueError(f"until must be None or a non-empty dict such as {{'error': 0.0}}, "
                         f"not {until!r}")
    for k, v in until.items():
        if k not in scalar:
            raise ValueError(f"until can stop on the scalar records {scalar}, not {k!r}")
        if k not in record:
            raise ValueError(f"until={{{k!r}: ...}} needs {k!r} in record=(...)")
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            raise ValueError(f"until[{k!r}] must be a finite number, not {v!r}")
    return dict(until)


def _show_progress(progress) -> bool:
    if progress is not None:
        return bool(progress)
    return sys.stderr.isatty() and not os.environ.get("CI")


def suggested_lr(model, X, loss: str = "square") -> dict:
    """Step sizes to suggest when training diverges (Chapter 5), at the model's current weights:
    ``"stable"``: 1/lambda_max of the kernel (GD on the linearized model is stable below
    2/lambda_max for the 1/2-sum square loss; 8n/lambda_max for the mean logistic loss);
    for TwoLayerReLU also Du et al.'s Theorem 4.1 step lambda_0/n^2 (constant set to 1)."""
    X = as_tensor(X)
    check_model_input(model, X)
    X = X.to(device=model.device)
    n = X.shape[0]
    out = {}
    if isinstance(model, TwoLayerReLU):
        K = two_layer_ntk(X, train_output=model.train_output)
        from .theory import du_two_layer
        out["theorem"] = du_two_layer(X, torch.zeros(n, dtype=X.dtype, device=X.device)).lr
    else:
        K = empirical_ntk(model, X)
    lmax = lambda_max(K)
    out["stable"] = (1.0 if loss == "square" else 4.0 * n) / lmax
    return out


def _diverged(model_init, X, loss, lr, k, value):
    try:
        s = suggested_lr(model_init, X, loss)
        hint = (f"a step size around {s['stable']:.3g} (1/lambda_max of the kernel at init) "
                "is stable")
        if "theorem" in s:
            hint += (f"; Du et al.'s Theorem 4.1 takes lr = lambda_0/n^2 = {s['theorem']:.3g} "
                     "(constant set to 1)")
    except Exception:  # the hint must never hide the real error
        hint = "try a step size 10x smaller"
    return ValueError(f"training diverged at step {k} with lr={lr:g} (loss = {value:.3g}): {hint}.")


class _Recorder:
    """Computes the opt-in records from one full-batch forward pass."""

    def __init__(self, model, X, y, record):
        self.model, self.X, self.y, self.record = model, X, y, record
        self.two_layer = isinstance(model, TwoLayerReLU)
        self.names = model.trained_layers()
        self.init = {k: getattr(model, k).detach().clone() for k in self.names}
        self.patterns0 = None
        self.kernel0 = None
        self.rows = {k: [] for k in record}

    def __call__(self, u, patterns, grads, loss):
        r, rows, model = self.record, self.rows, self.model
        with torch.no_grad():
            if "loss" in r:
                rows["loss"].append(float(loss))
            if "outputs" in r:
                rows["outputs"].append(u.detach().cpu().numpy().copy())
            if "radius" in r:
                if self.two_layer:
                    rows["radius"].append(float((model.W - self.init["W"]).norm(dim=1).max()))
                else:
                    rows["radius"].append([float((getattr(model, k) - self.init[k]).norm())
                                           for k in self.names])
            if "flips" in r:
                if self.patterns0 is None:
                    self.patterns0 = [p.clone() for p in patterns]
                fr = [float(torch.count_nonzero(p != p0)) / p.numel()
                      for p, p0 in zip(patterns, self.patterns0)]
                rows["flips"].append(fr[0] if self.two_layer else fr)
            if "lambda_min" in r or "kernel_drift" in r:
                K = gram_matrix(model, self.X)
                if self.kernel0 is None:
                    self.kernel0 = K
                if "lambda_min" in r:
                    rows["lambda_min"].append(float(torch.linalg.eigvalsh(K)[0]))
                if "kernel_drift" in r:
                    drift = torch.linalg.matrix_norm(K - self.kernel0, 2)
                    rows["kernel_drift"].append(float(drift))
            if "grad_norm" in r:
                rows["grad_norm"].append(float(torch.sqrt(sum((g ** 2).sum() for g in grads))))
            if "error" in r:
                rows["error"].append(float((self.y * u <= 0).double().mean()))


def _two_layer_pass(model, X, y, loss, n, work=None):
    """Du et al.'s closed-form gradient (MATH.md §1): dL/dw_r = (1/sqrt m) sum_i r_i a_r x_i
    1{w_r^T x_i >= 0}, with r = dL/du; one pass gives u, the patterns and both gradients.

    The pattern is kept as a 0/1 matrix P in X's dtype, so the gradient is the one product
    (r * X)^T P (d x n x m); with ``work`` (a dict) the two (n, m) matrices are reused from
    step to step instead of allocated anew (see benchmarks/RESULTS.md)."""
    W, a = model.W, model.a
    scale = 1.0 / math.sqrt(model.m)
    shape = (X.shape[0], W.shape[0])
    if work is not None and work.get("shape") == shape:
        pre, pattern = work["pre"], work["pattern"]
        torch.matmul(X, W.T, out=pre)
    else:
        pre = X @ W.T
        pattern = torch.empty_like(pre)
        if work is not None:
            work.update(shape=shape, pre=pre, pattern=pattern)
    torch.ge(pre, 0, out=pattern)                # 1{w_r^T x_i >= 0} as 0.0 / 1.0
    hidden = pre.clamp_min_(0)                   # relu, in place: pre is no longer needed
    u = (hidden @ a) * scale
    r = _loss_grad_u(u, y, loss, n)
    gW = ((r[:, None] * X).T @ pattern).mul_(a * scale).T    # (d, m) product, seen as (m, d)
    grads = [gW]
    if model.train_output:
        grads.append((hidden.T @ r) * scale)
    return u, [pattern], grads


def _autograd_pass(model, params, X, y, loss, n):
    with torch.enable_grad():
        f, _, outputs = model.forward_layers(X)
        r = _loss_grad_u(f.detach(), y, loss, n)
        grads = torch.autograd.grad(f, params, grad_outputs=r)
    return f.detach(), [h.detach() >= 0 for h in outputs[:-1]], list(grads)


def train(model, X, y, *, lr: float, steps: int, batch_size: int | None = None,
          sampling: str = "epoch", loss: str = "square", record=("loss",),
          record_every: int = 1, seed: int = 0, progress: bool | None = None, callback=None,
          until: dict | None = None) -> History:
    """Train ``model`` in place by gradient descent (Du et al. 2019, eq. (3) discretized;
    Allen-Zhu et al.; Zou et al. Alg. 1) and return a ``History``.

    ``batch_size=None`` is full-batch GD; an integer b is SGD on batches of b examples, each
    step using the unbiased minibatch estimate of the loss, with batches drawn by
    ``batch_indices`` from ``seed``: ``sampling="epoch"`` (default) reshuffles once per epoch
    and takes the batches in turn; ``sampling="uniform"`` draws an independent uniformly random
    b-subset at every step, the SGD of Zou et al. (2020, eq. (D.5), Lemma D.2) and Allen-Zhu
    et al. (2019). Full-batch GD samples nothing, so ``sampling`` is then checked but has no
    effect (``History.sampling`` is None).
    ``loss="square"`` is 1/2 sum_i (f(x_i) - y_i)^2 (no 1/n, as in Du et al.); ``"logistic"`` is
    mean_i log(1 + exp(-y_i f(x_i))) for y in {-1, +1}. Records are taken at steps
    0, record_every, 2 record_every, ... and at the last step (after ``steps`` updates).
    A run whose loss becomes non-finite or grows 1e6-fold stops with a ``ValueError`` that names
    a step size that works. ``progress``: a tqdm bar (None: only in a terminal, never in CI).
    ``callback(step, model)``, if given, is called at every recorded step, after the records
    (for measurements that ``record`` does not offer, e.g. at a coarser interval).
    ``until`` (Chapters 13-14), e.g. ``{"error": 0.0}``: stop at the first record at which every
    named scalar record is <= its value (each name must be in ``record``); None runs all steps.
    """
    X, y, record = _validate(model, X, y, lr, steps, batch_size, loss, record, record_every,
                             sampling)
    until = _validate_until(until, record)
    n = X.shape[0]
    params = [getattr(model, k) for k in model.trained_layers()]
    fast = isinstance(model, TwoLayerReLU)
    rec = _Recorder(model, X, y, record)
    model_init = copy.deepcopy(model)
    batches = None if batch_size is None else batch_indices(
        n, batch_size, steps, sampling=sampling, seed=seed, device=X.device)
    recorded_steps, loss0 = [], None

    work = {}                                    # the fast path's reusable (n, m) buffers

    def full_pass():
        if fast:
            with torch.no_grad():
                return _two_layer_pass(model, X, y, loss, n, work)
        return _autograd_pass(model, params, X, y, loss, n)

    bar = None
    if _show_progress(progress):
        from tqdm.auto import tqdm
        bar = tqdm(total=steps, desc="training", leave=False)
    try:
        for k in range(steps + 1):
            is_record = k % record_every == 0 or k == steps
            if batch_size is None or is_record:
                u, patterns, grads = full_pass()
                value = float(loss_value(u, y, loss))
                if loss0 is None:
                    loss0 = max(value, 1e-300)
                if not math.isfinite(value) or value > DIVERGENCE_FACTOR * loss0:
                    raise _diverged(model_init, X, loss, lr, k, value)
                if is_record:
                    recorded_steps.append(k)
                    rec(u, patterns, grads, value)
                    if callback is not None:
                        callback(k, model)
                    if until and all(rec.rows[name][-1] <= v for name, v in until.items()):
                        break
            if k == steps:
                break
            if batch_size is not None:
                idx = next(batches)
                if fast:
                    with torch.no_grad():
                        _, _, grads = _two_layer_pass(model, X[idx], y[idx], loss, n)
                else:
                    _, _, grads = _autograd_pass(model, params, X[idx], y[idx], loss, n)
                if not all(bool(torch.isfinite(g).all()) for g in grads):
                    raise _diverged(model_init, X, loss, lr, k, float("nan"))
            with torch.no_grad():
                for p, g in zip(params, grads):
                    p.sub_(g, alpha=lr)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return History(recorded_steps, rec.rows, lr=lr, batch_size=batch_size, loss=loss, n=n,
                   sampling=sampling)
