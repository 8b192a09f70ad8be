"""Data on the unit sphere, labels, input checks and separation (Chapters 1-3, 10, 13).

Du et al. (2019) assume ||x_i|| = 1 and no two inputs parallel (Assumption 3.1 needs it);
Allen-Zhu et al. (2019) assume delta-separation ||x_i - x_j|| >= delta; Zou et al. (2020)
assume phi-separation between the two classes. ``check_inputs`` tells a reader which of these
their data break and how to fix it.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from .device import DEFAULT_DTYPE, as_tensor
from .kernels import angles

LABEL_KINDS = ("gaussian", "teacher", "sign")


class OppositeInputsWarning(UserWarning):
    """Two inputs are opposite, x_j = -x_i: Du et al.'s Theorem 3.1 does not apply (Chapter 3)."""


def _generator(seed: int) -> torch.Generator:
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an integer, not {seed!r}")
    return torch.Generator().manual_seed(seed)


def normalize_rows(X) -> torch.Tensor:
    """Scale every row of X to unit Euclidean norm (the papers' ||x_i|| = 1)."""
    X = as_tensor(X)
    norms = X.norm(dim=1, keepdim=True)
    if bool((norms == 0).any()):
        raise ValueError("X has a zero row, which cannot be scaled to unit norm: remove it")
    return X / norms


def sphere_data(n: int, d: int, *, seed: int = 0, labels: str = "gaussian",
                dtype: torch.dtype = DEFAULT_DTYPE, device="cpu"):
    """n points uniform on the unit sphere S^{d-1}, with labels (Du et al. 2019, Section 5).

    labels:
      - ``"gaussian"``: y_i ~ N(0, 1) independent of x (random labels, as in Du et al.'s
        experiment: nothing to learn, everything to memorize);
      - ``"teacher"``: y = g(x) for a random two-layer ReLU teacher of width 16, centred and
        scaled to unit variance over the sample (a smooth target);
      - ``"sign"``: y = sign(g(x) - median) in {-1, +1}, two balanced classes for the
        classification chapters (13-14).
    Returns float tensors ``X`` of shape (n, d) and ``y`` of shape (n,), seeded: the same seed
    gives the same numbers on any device.
    """
    if labels not in LABEL_KINDS:
        raise ValueError(f"labels must be one of {LABEL_KINDS}, not {labels!r}")
    for name, v in (("n", n), ("d", d)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive integer, not {v!r}")
    if d < 2:
        raise ValueError("d must be at least 2: on the sphere S^0 every two inputs are parallel")
    g = _generator(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True)
    if labels == "gaussian":
        y = torch.randn(n, generator=g, dtype=torch.float64)
    else:
        width = 16
        W = torch.randn(width, d, generator=g, dtype=torch.float64)
        a = torch.randn(width, generator=g, dtype=torch.float64)
        out = torch.relu(X @ W.T) @ a
        if labels == "teacher":
            y = (out - out.mean()) / out.std().clamp_min(1e-12)
        else:
            y = torch.where(out > out.median(), 1.0, -1.0).to(torch.float64)
    return X.to(device=device, dtype=dtype), y.to(device=device, dtype=dtype)


def check_inputs(X, y=None, *, unit_tol: float = 1e-6, min_angle: float = 1e-6) -> torch.Tensor:
    """Check data against the papers' assumptions and return X as a tensor.

    Raises ``ValueError`` (with what to do) when X is not a 2-D array, holds NaN or inf, has a
    row whose norm is not 1 (within ``unit_tol``), or has two rows at an angle below
    ``min_angle`` radians (duplicates): Du et al.'s Theorem 3.1 needs no two inputs parallel,
    and two equal inputs make lambda_0 = lambda_min(H^infty) = 0. Opposite rows (x_j = -x_i,
    within ``min_angle``) are parallel too in the theorem's sense, but H^infty need not be
    singular (Chapter 3): they pass with an ``OppositeInputsWarning``; functions that need
    lambda_0 > 0 call ``theory.lambda0``, which refuses data whose lambda_0 is numerically 0.
    With ``y``, checks that it has one finite entry per row of X.
    """
    X = as_tensor(X)
    if X.ndim != 2:
        raise ValueError(
            f"X must be a 2-D array of shape (n, d), one input per row; got shape {tuple(X.shape)}."
            " For a single input use X[None, :]."
        )
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X is empty (shape {tuple(X.shape)})")
    if not torch.is_floating_point(X):
        X = X.to(DEFAULT_DTYPE)
    if not bool(torch.isfinite(X).all()):
        bad = torch.nonzero(~torch.isfinite(X).all(dim=1)).flatten().tolist()
        raise ValueError(f"X has NaN or inf entries in rows {bad[:10]}: clean or drop those rows")
    norms = X.norm(dim=1)
    off = torch.nonzero((norms - 1).abs() > unit_tol).flatten()
    if off.numel():
        i = int(off[0])
        raise ValueError(
            f"row {i} of X has norm {float(norms[i]):.6g}, but the theory assumes unit-norm inputs "
            f"({off.numel()} rows are off). Normalize first: "
            "X = overparam.data.normalize_rows(X)  (i.e. X / X.norm(dim=1, keepdim=True))."
        )
    if X.shape[0] > 1:
        G = (X @ X.T).clamp(-1, 1)
        G.fill_diagonal_(-1.0)
        i, j = divmod(int(torch.argmax(G)), X.shape[0])
        angle = float(angles(X[[i]], X[[j]])[0, 0])      # accurate near 0, unlike acos(G_ij)
        if angle < min_angle:
            raise ValueError(
                f"rows {i} and {j} of X are parallel (angle {angle:.2e} rad): then "
                "lambda_0 = lambda_min(H^infty) = 0 (Du et al. 2019, Theorem 3.1 needs no two "
                "parallel inputs) and no convergence guarantee applies. Remove duplicate inputs "
                "or perturb one of them."
            )
        pairs = _opposite_pairs_in(G, min_angle)
        if pairs:
            warnings.warn(
                f"X has {len(pairs)} opposite pair(s) of rows (x_j = -x_i), e.g. rows "
                f"{pairs[0][0]} and {pairs[0][1]}: Du et al.'s Theorem 3.1 (no two inputs "
                "parallel, i.e. x_i != +-x_j) does not hold, so it does not guarantee "
                "lambda_0 > 0. Each opposite pair adds the constant feature x_i; pairs whose "
                "x_i are linearly dependent make lambda_0 = 0. Check lambda_0 with "
                "overparam.theory.lambda0(X).",
                OppositeInputsWarning, stacklevel=2)
    if y is not None:
        y = as_tensor(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(
                f"y must have shape ({X.shape[0]},), one label per row of X; got {tuple(y.shape)}"
            )
        if not bool(torch.isfinite(y).all()):
            raise ValueError("y has NaN or inf entries: clean or drop those labels")
    return X


def model_input_dim(model) -> int | None:
    """The input dimension d a network was built for: ``model.in_features`` for the course's
    models (and ``nn.Linear``), or that of the first layer of an ``nn.Sequential``; None when
    it cannot be known (a module's registration order need not be the order of its forward
    pass, so no other module is guessed at)."""
    d = getattr(model, "in_features", None)
    if d is None and isinstance(model, torch.nn.Sequential) and len(model) > 0:
        d = getattr(model[0], "in_features", None)
    return d if isinstance(d, int) else None


def model_dtype(model) -> torch.dtype | None:
    """The floating dtype of a network's weights: ``model.dtype`` for the course's models, else
    that of its first floating parameter or buffer; None when it has none."""
    dtype = getattr(model, "dtype", None)
    if isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(model, torch.nn.Module):
        for t in list(model.parameters()) + list(model.buffers()):
            if torch.is_floating_point(t):
                return t.dtype
    return None


def _data_dtype(X) -> torch.dtype | None:
    """The floating dtype of a tensor or numpy array (None for anything else)."""
    if isinstance(X, torch.Tensor):
        return X.dtype if torch.is_floating_point(X) else None
    if isinstance(X, np.ndarray) and np.issubdtype(X.dtype, np.floating):
        return torch.from_numpy(np.empty(0, dtype=X.dtype)).dtype
    return None


def check_model_input(model, X, *, name: str = "X") -> None:
    """Chapter 2: a network built for inputs x in R^d takes data with d columns, in its own
    floating dtype. Raises a ``ValueError`` naming both dimensions when ``X`` (2-D, one input
    per row) has another number, and a ``TypeError`` naming both dtypes when X is a float
    tensor or array of another precision than the model's weights (e.g. float64 data and a
    float32 model: casting silently would drop the precision a lesson compares with theory,
    or hide a float32 experiment's rounding). Used by every function that takes a model and
    data (``train``, ``suggested_lr``, ``gram_matrix``, ``empirical_ntk``, ...)."""
    d = model_input_dim(model)
    shape = tuple(getattr(X, "shape", ()))
    if d is not None and len(shape) == 2 and shape[1] != d:
        raise ValueError(
            f"{name} has inputs of dimension d = {shape[1]} (shape {shape}), but the model was "
            f"built for d = {d}: build the model for d = {shape[1]} ({name}.shape[1]) or pass "
            f"inputs with {d} columns."
        )
    want, got = model_dtype(model), _data_dtype(X)
    if want is None or got is None or want == got:
        return
    convert = (f"{name}.to({want})" if isinstance(X, torch.Tensor)
               else f"{name}.astype(np.{str(want).replace('torch.', '')})")
    raise TypeError(
        f"{name} is {got} but the model's weights are {want}; the library does not cast "
        f"between them silently. Either convert the data, {convert}, or build the model in "
        f"the data's dtype: pass dtype={got} to TwoLayerReLU / DeepReLU (or call "
        f"model.to({got}))."
    )


def opposite_pairs(X, *, min_angle: float = 1e-6) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of unit-norm rows with x_j = -x_i up to an angle of ``min_angle``
    radians. Each such pair has phi_{x_i}(w) - phi_{x_j}(w) = x_i for almost every w (with
    phi_x(w) = x 1{w^T x >= 0}, the features whose Gram matrix is H^infty): a constant
    feature, so pairs whose x_i are linearly dependent make H^infty singular (Chapter 3)."""
    X = as_tensor(X)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n, d); got {tuple(X.shape)}")
    return _opposite_pairs_in((X @ X.T).clamp(-1, 1), min_angle)


def _opposite_pairs_in(G, min_angle: float) -> list[tuple[int, int]]:
    """``opposite_pairs`` from the Gram matrix G = X X^T of unit rows (its diagonal unused)."""
    close = G <= math.cos(math.pi - min_angle)
    idx = torch.nonzero(torch.triu(close, diagonal=1)).tolist()
    return [(int(i), int(j)) for i, j in idx]


def separation(X, y=None) -> float:
    """Smallest distance between two inputs.

    Without labels: delta = min_{i != j} ||x_i - x_j|| (Allen-Zhu et al. 2019, delta-separation).
    With labels: phi = min over pairs with y_i != y_j (Zou et al. 2020, phi-separation of the
    two classes).
    """
    X = as_tensor(X)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError("separation needs X of shape (n, d) with n >= 2")
    D = torch.cdist(X, X)
    if y is None:
        mask = ~torch.eye(X.shape[0], dtype=torch.bool, device=X.device)
    else:
        y = as_tensor(y).to(X.device)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},), got {tuple(y.shape)}")
        mask = y[:, None] != y[None, :]
        if not bool(mask.any()):
            raise ValueError("all labels are equal: phi-separation needs two classes")
    return float(D[mask].min())


def close_pair_data(n: int, d: int, angle: float, *, seed: int = 0, labels: str = "gaussian",
                    dtype: torch.dtype = DEFAULT_DTYPE, device="cpu"):
    """``sphere_data(n, d)`` with its second input moved to the given angle (radians) from its
    first: x_1 = cos(angle) x_0 + sin(angle) v, v a seeded unit vector orthogonal to x_0
    (Chapter 3). As angle -> 0 the two inputs become parallel and Du et al.'s
    lambda_0 = lambda_min(H^infty) -> 0 (Theorem 3.1 needs no two parallel inputs). Labels are
    those of ``sphere_data`` with the same seed. Needs n >= 2 and 0 <= angle <= pi.
    """
    if n < 2:
        raise ValueError("close_pair_data needs n >= 2 (a pair of inputs)")
    angle = float(angle)
    if not 0.0 <= angle <= math.pi:
        raise ValueError(f"angle must be in [0, pi] radians, not {angle!r}")
    X, y = sphere_data(n, d, seed=seed, labels=labels, dtype=torch.float64)
    g = _generator(seed + 7919)
    v = torch.randn(d, generator=g, dtype=torch.float64)
    v = v - (v @ X[0]) * X[0]
    v = v / v.norm()
    X[1] = math.cos(angle) * X[0] + math.sin(angle) * v
    X[1] = X[1] / X[1].norm()
    return X.to(device=device, dtype=dtype), y.to(device=device, dtype=dtype)
