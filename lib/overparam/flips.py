"""Chapter 9: on- and off-flips of the activation patterns of a centred two-layer net."""
from __future__ import annotations

import math

import numpy as np
import torch


def random_sign_imbalance(n_flips: int) -> float:
    """E|s_1 + ... + s_N| for N independent random signs s_k = +-1 (Chapter 9, the last
    exercise): N * C(N - 1, floor((N - 1) / 2)) / 2^(N - 1), and 0 for N = 0. For large N it
    is about sqrt(2N / pi) (the mean of |N(0, N)|)."""
    n = int(n_flips)
    if n < 0:
        raise ValueError(f"the number of flips must be >= 0, not {n}")
    if n == 0:
        return 0.0
    return n * math.comb(n - 1, (n - 1) // 2) / 2 ** (n - 1)   # exact integers, one division


def onoff_summary(P0, P1) -> dict:
    """Chapter 9: compare the activation patterns P0 (at W(0)) and P1 (after training), boolean
    (n, m) tensors of 1{w_r^T x_i >= 0}, for the centred net of ``scaling.scaled_two_layer``
    (neuron r + m/2 is the partner of neuron r). Per input i, on_i (0 -> 1) and off_i (1 -> 0)
    are counted; Delta H_ii is proportional to on_i - off_i. Returns

    pairs both flipped / one flipped   (input, pair) couples with both / exactly one neuron flipped
    mean (#on - #off), mean |#on - #off|   averages over the inputs
    random signs                       the mean over inputs of E|sum of N_i random signs|,
                                       N_i = on_i + off_i (``random_sign_imbalance``)
    ratio                              mean |#on - #off| / random signs
    share of off-flips                 sum off_i / sum N_i
    """
    P0, P1 = torch.as_tensor(P0, dtype=torch.bool), torch.as_tensor(P1, dtype=torch.bool)
    h = P0.shape[1] // 2
    F = P0 ^ P1
    on, off = (P1 & ~P0).sum(1).double(), (~P1 & P0).sum(1).double()
    N = (on + off).long().tolist()
    rand = float(np.mean([random_sign_imbalance(k) for k in N]))
    imb = float((on - off).abs().mean())
    return {"pairs both flipped": int((F[:, :h] & F[:, h:]).sum()),
            "pairs one flipped": int((F[:, :h] ^ F[:, h:]).sum()),
            "mean (#on - #off)": float((on - off).mean()),
            "mean |#on - #off|": imb, "random signs": rand,
            "ratio": imb / rand if rand > 0 else float("nan"),
            "share of off-flips": float(off.sum() / max(sum(N), 1))}


def drift_split(P0, P1, X) -> tuple:
    """Chapter 9: the kernel drift of Du et al.'s net with a fixed (a_r = +-1), split into its
    diagonal and off-diagonal parts. With H = J J^T, H_ij = (1/m) sum_r P_ir P_jr x_i^T x_j
    (P the (n, m) boolean patterns 1{w_r^T x_i >= 0}), Delta H = H(P1) - H(P0) = D + O with
    D its diagonal. Returns (||D||_2 / ||H(P0)||_2, ||O||_2 / ||H(P0)||_2), spectral norms."""
    X = torch.as_tensor(X, dtype=torch.float64)
    G = X @ X.T
    H0, H1 = ((torch.as_tensor(P, dtype=torch.float64) @ torch.as_tensor(P, dtype=torch.float64).T)
              * G / P0.shape[1] for P in (P0, P1))
    dH = H1 - H0
    D = torch.diag(dH.diagonal())
    n0 = torch.linalg.matrix_norm(H0, 2)
    return (float(torch.linalg.matrix_norm(D, 2) / n0),
            float(torch.linalg.matrix_norm(dH - D, 2) / n0))


def biased_sign_imbalance(n_flips: int, q: float) -> float:
    """E|#on - #off| for N independent flips, each switching a neuron off with probability q
    and on with probability 1 - q (Chapter 9, "Where random signs fail"):
    sum_k C(N, k) q^k (1 - q)^(N - k) |N - 2k|. At q = 1/2 it is ``random_sign_imbalance``;
    for large N and q != 1/2 it grows like |2q - 1| N rather than sqrt(2N / pi)."""
    n = int(n_flips)
    if n < 0:
        raise ValueError(f"the number of flips must be >= 0, not {n}")
    if q in (0.0, 1.0):
        return float(n)
    logc = [math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) for k in range(n + 1)]
    return float(sum(math.exp(c + k * math.log(q) + (n - k) * math.log1p(-q)) * abs(n - 2 * k)
                     for k, c in enumerate(logc)))


def onoff_models(P0, P1) -> dict:
    """Chapter 9: per-input flip counts N_i = on_i + off_i between the patterns P0 and P1
    (boolean (n, m), as in ``onoff_summary``) and the imbalance that independent flips would
    give at the run's own pooled off-share q = sum off_i / sum N_i. Returns

    flips per input          mean over the inputs of N_i
    signs at that share      mean over the inputs of ``biased_sign_imbalance(N_i, q)``
    """
    P0, P1 = torch.as_tensor(P0, dtype=torch.bool), torch.as_tensor(P1, dtype=torch.bool)
    on, off = (P1 & ~P0).sum(1), (~P1 & P0).sum(1)
    N = (on + off).tolist()
    q = float(off.sum()) / max(sum(N), 1)
    return {"flips per input": float(np.mean(N)),
            "signs at that share": float(np.mean([biased_sign_imbalance(k, q) for k in N]))}
