"""Forward perturbation and backward stability of the AZLS network (Chapter 10).

The model is ``DeepReLU(parameterization="allen_zhu")``: h_{i,0} = relu(A x_i),
h_{i,l} = relu(W_l h_{i,l-1}) = D_{i,l} W_l h_{i,l-1} (l = 1..L), f(x_i) = B h_{i,L}, with
D_{i,l} = diag(1{W_l h_{i,l-1} >= 0}). Allen-Zhu, Li & Song (2019), as restated by Cao & Gu
(2019, arXiv:1905.13210, Appendix B and D.1-D.2; Allen-Zhu et al.'s own text recalled):

- forward perturbation: for every W in the ball ||W_l - W_l(0)|| <= omega (all l), omega
  small, ||h_{i,l} - h_{i,l}(0)|| <= O(omega L^{5/2} sqrt(log m));
- backward stability: ||B D_{i,L} W_L ... D_{i,a} W_a|| <= O(sqrt m) at initialization and in
  the ball, and the backward product moves by at most O(omega^{1/3} L^2 sqrt(m log m)).

The backward product B D_L W_L ... D_a W_a is the row vector b_{i,a-1} = d f(x_i) / d h_{i,a-1}
(the derivative of the output with respect to a hidden vector), computed here by the recursion
b_{i,L} = B, b_{i,l-1} = (b_{i,l} * 1{W_l h_{i,l-1} >= 0}) W_l.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .data import check_inputs


def _azls(model):
    if getattr(model, "parameterization", None) != "allen_zhu":
        raise ValueError("this function takes DeepReLU(parameterization='allen_zhu') "
                         f"(fixed A and B, trained W_1..W_L), not {type(model).__name__} "
                         f"with parameterization {getattr(model, 'parameterization', None)!r}")


def backward_vectors(model, X) -> torch.Tensor:
    """(L + 1, n, m): b_{i,l} = d f(x_i) / d h_{i,l} for l = 0..L of
    ``DeepReLU("allen_zhu")``, by the recursion b_{i,L} = B,
    b_{i,l-1} = (b_{i,l} * 1{W_l h_{i,l-1} >= 0}) W_l, so b_{i,a-1} = B D_{i,L} W_L ... D_{i,a}
    W_a: the backward products of Allen-Zhu et al.'s backward stability (norm about sqrt m at
    initialization). The convention relu'(0) = 1 of ``activation_patterns``. Chapter 10."""
    _azls(model)
    X = check_inputs(X).to(device=model.device, dtype=model.dtype)
    with torch.no_grad():
        _, _, outputs = model.forward_layers(X)     # pre-activations A x, W_1 h_0, ..., B h_L
        b = model.B.expand(X.shape[0], -1).clone()  # (n, m): b_L = B
        out = [b]
        for l in range(model.depth, 0, -1):         # outputs[l] = W_l h_{l-1}
            b = (b * (outputs[l] >= 0).to(b.dtype)) @ getattr(model, f"W{l}")
            out.append(b)
    return torch.stack(out[::-1]).cpu()


def perturbation_response(model, X, omegas, *, seed: int = 0) -> dict:
    """Chapter 10, forward perturbation and backward stability on one network: one Gaussian
    direction G_l per trained layer (``deep.random_perturbation``, seeded), scaled to
    ||W'_l||_2 = omega, for each omega of ``omegas``. Returns numpy arrays over ``omegas``:
    ``forward`` = max_{i,l} ||h_{i,l}(W + W') - h_{i,l}(W)|| (l = 1..L; h_0 = relu(A x) does not
    move), ``backward`` = max_{i,l} ||b_{i,l}(W + W') - b_{i,l}(W)|| / sqrt(m) (l = 0..L-1;
    b_L = B is fixed) and ``flips``, the largest number of sign changes in one layer for one
    input; and ``b_min``, ``b_max``: the smallest and largest ||b_{i,l}|| / sqrt(m)
    (``backward_vectors``, l = 0..L) over the inputs, the layers, W itself and every W + W'."""
    from .deep import perturbed, random_perturbation, sign_changes

    _azls(model)
    X = check_inputs(X).to(device=model.device, dtype=model.dtype)
    unit = random_perturbation(model, 1.0, seed=seed)    # ||G_l||_2 = 1 in every layer
    with torch.no_grad():
        h0 = torch.stack(model.forward_layers(X)[1][2:])  # h_1..h_L: inputs of W_2..W_L, B
    b0 = backward_vectors(model, X)
    sq = math.sqrt(model.m)
    out = {"forward": [], "backward": [], "flips": []}
    nb = [b0.norm(dim=2) / sq]
    for w in omegas:
        net = perturbed(model, {k: float(w) * v for k, v in unit.items()})
        with torch.no_grad():
            h = torch.stack(net.forward_layers(X)[1][2:])
        out["forward"].append(float((h - h0).norm(dim=2).max()))
        b = backward_vectors(net, X)
        nb.append(b.norm(dim=2) / sq)
        out["backward"].append(float((b - b0)[:-1].norm(dim=2).max()) / sq)
        out["flips"].append(float(sign_changes(net, model, X).max()))
    res = {k: np.array(v) for k, v in out.items()}
    nb = torch.stack(nb)
    res["b_min"], res["b_max"] = float(nb.min()), float(nb.max())
    return res
