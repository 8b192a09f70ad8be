"""Chapter 7: what training both layers does to the weights and to H(t) (Du et al. 2019a,
Section 3.2 and Appendix A)."""

import torch

from .kernels import gram_matrix
from .models import TwoLayerReLU
from .train import train


def both_layers_moves(X, y, width, *, lr, steps=100, seed=0):
    """Train ``TwoLayerReLU(d, width, seed, train_output=True)`` for ``steps`` steps of GD and
    measure the moves that Du et al.'s Appendix A controls (Lemmas A.3-A.5). Returns a dict:

    - ``da_max``, ``da_rms``: max_r and root mean square of |a_r(k) - a_r(0)|;
    - ``a2_max``: max_r |a_r(k)^2 - 1|, the drift of the factors a_r^2 that H(t) carries;
    - ``a2_sum``: sum_r (a_r(k)^2 - 1), their total change; under gradient flow
      sum_r d(a_r^2)/dt = 2 (y - u)^T u = sum_r d||w_r||^2/dt, which does not depend on m;
    - ``dw_rms``, ``dw_max``: root mean square and max_r of ||w_r(k) - w_r(0)||;
    - ``lmin_H0``, ``lmin_H``: lambda_min(H(0)) and lambda_min(H(k));
    - ``H_move``: ||H(k) - H(0)||_2, the quantity Lemma A.3 keeps below lambda_0/4;
    - ``a_part_lmin``: lambda_min(H(k) - H_a0(k)), where H_a0(k) is H at W(k) with every a_r^2
      put back to a_r(0)^2 = 1, i.e. (1/m) x_i^T x_j sum_r (a_r(k)^2 - 1) 1{..i} 1{..j}: the
      part of the move due to the factors a_r^2 (positive when they add to H);
    - ``a_part_norm``, ``flip_norm``: ||H(k) - H_a0(k)||_2 and ||H_a0(k) - H(0)||_2, the spectral
      norms of the two parts of H(k) - H(0): the drift of the factors and the flipped patterns.
    """
    net = TwoLayerReLU(X.shape[1], int(width), seed=seed, train_output=True, dtype=X.dtype,
                       device=X.device)
    a0, W0 = net.a.detach().clone(), net.W.detach().clone()
    H0, _ = gram_matrix(net, X, parts=True)
    train(net, X, y, lr=lr, steps=steps)
    a, W = net.a.detach().clone(), net.W.detach()
    H, _ = gram_matrix(net, X, parts=True)
    with torch.no_grad():
        net.a.copy_(a0)
    H_a0, _ = gram_matrix(net, X, parts=True)           # patterns of W(k), factors a_r(0)^2
    with torch.no_grad():
        net.a.copy_(a)
    da, dw = (a - a0).abs(), (W - W0).norm(dim=1)
    return {"da_max": float(da.max()), "da_rms": float(da.pow(2).mean().sqrt()),
            "a2_max": float((a ** 2 - 1).abs().max()), "a2_sum": float((a ** 2 - 1).sum()),
            "dw_rms": float(dw.pow(2).mean().sqrt()), "dw_max": float(dw.max()),
            "lmin_H0": float(torch.linalg.eigvalsh(H0)[0]),
            "lmin_H": float(torch.linalg.eigvalsh(H)[0]),
            "H_move": float(torch.linalg.matrix_norm(H - H0, ord=2)),
            "a_part_lmin": float(torch.linalg.eigvalsh(H - H_a0)[0]),
            "a_part_norm": float(torch.linalg.matrix_norm(H - H_a0, ord=2)),
            "flip_norm": float(torch.linalg.matrix_norm(H_a0 - H0, ord=2))}


# Rows of chapter 7's moves table: label, key of ``both_layers_moves``, divide by lambda_0/4?,
# fit a slope in log m?
MOVES_ROWS = (
    ("max |a_r − a_r(0)|", "da_max", False, True),
    ("max ‖w_r − w_r(0)‖", "dw_max", False, True),
    ("rms |a_r − a_r(0)|", "da_rms", False, True),
    ("max |a_r² − 1|", "a2_max", False, True),
    ("Σ (a_r² − 1)", "a2_sum", False, False),
    ("rms ‖w_r − w_r(0)‖", "dw_rms", False, True),
    ("‖H(100) − H(0)‖ / (λ0/4)", "H_move", True, True),
    ("  factors' part / (λ0/4)", "a_part_norm", True, True),
    ("  flips' part / (λ0/4)", "flip_norm", True, True),
    ("λ_min(H(0))", "lmin_H0", False, False),
    ("λ_min(H(100))", "lmin_H", False, False),
    ("λ_min(factors' part)", "a_part_lmin", False, False),
)


def moves_table(X, y, widths, seeds, *, lr, lambda0, steps=100):
    """Chapter 7's table of moves: ``both_layers_moves`` for every width and seed, summarized.

    Returns ``(table, per_seed)``. ``table`` is a DataFrame with one row per entry of
    ``MOVES_ROWS`` (the moves of H and of its two parts in units of lambda0/4, everything else
    absolute), one column "m = <width>" per width holding the median over the seeds, and a
    column "median slope": the median over seeds of the least-squares slope of log(row) against
    log(m) (empty for rows whose sign or size is not a power law). ``per_seed`` maps each key of
    ``both_layers_moves`` (with the same scaling) to an array of shape (len(widths), len(seeds)).
    """
    import numpy as np
    import pandas as pd

    runs = [[both_layers_moves(X, y, m, lr=lr, steps=steps, seed=s) for s in seeds]
            for m in widths]
    per_seed = {key: np.array([[r[key] for r in row] for row in runs])
                / (lambda0 / 4 if unit else 1) for _, key, unit, _ in MOVES_ROWS}
    logm = np.log(np.asarray(widths, float))
    cols = {f"m = {m}": [np.median(per_seed[key][i]) for _, key, _, _ in MOVES_ROWS]
            for i, m in enumerate(widths)}
    cols["median slope"] = [
        np.median([np.polyfit(logm, np.log(per_seed[key][:, s]), 1)[0] for s in range(len(seeds))])
        if fit else np.nan for _, key, _, fit in MOVES_ROWS]
    return pd.DataFrame(cols, index=[label for label, *_ in MOVES_ROWS]), per_seed
