"""The networks of the course, as plain ``torch.nn.Module``s (Chapters 2, 7, 8-14).

Every model is a chain of bias-free linear maps with ReLU in between,
    h_1 = W_1 x,   h_{l+1} = W_{l+1} (c * relu(h_l)),   f(x) = h_last (a scalar),
which is all the papers need. The layers that the paper keeps fixed are *buffers*, not
parameters, so ``model.parameters()`` is exactly what gradient descent trains.

- ``TwoLayerReLU``: Du et al. (2019), eq. (1): f(W, a, x) = (1/sqrt m) sum_r a_r relu(w_r^T x),
  w_r(0) ~ N(0, I), a_r ~ unif{-1, +1}; a fixed unless ``train_output=True`` (their Thm 3.3).
- ``DeepReLU(parameterization="ntk")``: Jacot et al. / Arora et al. (2019): weights N(0, 1),
  c = sqrt(2/m), all L+1 layers trained; its NTK tends to ``kernels.deep_ntk``.
- ``DeepReLU(parameterization="allen_zhu")``: Allen-Zhu, Li & Song (2019): h_0 = relu(A x),
  h_l = relu(W_l h_{l-1}), f = B h_L; A, W_l ~ N(0, 2/m), B ~ N(0, 1/d_out) (d_out = 1);
  A and B fixed, W_1..W_L trained.
- ``DeepReLU(parameterization="zou")``: Zou, Cao, Zhou & Gu (2020): f = v^T relu(W_L ...
  relu(W_1 x)), W_l ~ N(0, 2/m) trained, v fixed with half +1 and half -1 entries. (The paper
  writes W_l^T with W_l of shape (m_{l-1}, m_l); we store the transpose, same distribution.)
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .device import DEFAULT_DTYPE, as_tensor, resolve_device

PARAMETERIZATIONS = ("ntk", "allen_zhu", "zou")


def _check_size(name, value, minimum=1):
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, not {value!r}")


class ReLUChain(nn.Module):
    """A chain of linear layers with ReLU in between; the common core of every model.

    ``layers`` is a list of ``(name, tensor, trainable)``; tensors are (out, in) matrices and
    the last one has one row. ``act_scale`` is the factor c applied after each ReLU.
    """

    def __init__(self, layers, act_scale: float, device, dtype):
        super().__init__()
        self.layer_names = []
        self.trainable = {}
        self.act_scale = float(act_scale)
        dev = resolve_device(device)
        for name, tensor, trainable in layers:
            t = tensor.to(device=dev, dtype=dtype)
            if trainable:
                self.register_parameter(name, nn.Parameter(t))
            else:
                self.register_buffer(name, t)
            self.layer_names.append(name)
            self.trainable[name] = trainable

    # --- the forward pass, written once -------------------------------------------------
    def layer_matrix(self, name: str) -> torch.Tensor:
        """The (out, in) matrix of layer ``name`` (a vector output layer is one row)."""
        t = getattr(self, name)
        return t[None, :] if t.ndim == 1 else t

    def _prepare(self, X) -> torch.Tensor:
        ref = getattr(self, self.layer_names[0])
        X = as_tensor(X)
        if X.ndim != 2 or X.shape[1] != self.in_features:
            raise ValueError(
                f"the model takes inputs of shape (n, {self.in_features}); got {tuple(X.shape)}"
            )
        return X.to(device=ref.device, dtype=ref.dtype)

    def forward_layers(self, X):
        """Forward pass keeping every layer's input g_l and output h_l = g_l W_l^T.

        Returns ``(f, inputs, outputs)`` with f of shape (n,). The empirical NTK uses
        ``inputs``/``outputs`` (one backward pass gives every example's kernel); the
        activation patterns are the signs of the hidden ``outputs``.
        """
        g = self._prepare(X)
        inputs, outputs = [], []
        last = len(self.layer_names) - 1
        for k, name in enumerate(self.layer_names):
            inputs.append(g)
            h = g @ self.layer_matrix(name).T
            outputs.append(h)
            if k < last:
                g = torch.relu(h) * self.act_scale if self.act_scale != 1.0 else torch.relu(h)
        return outputs[-1][:, 0], inputs, outputs

    def forward(self, X) -> torch.Tensor:
        return self.forward_layers(X)[0]

    def preactivations(self, X) -> list:
        """The hidden pre-activations h_l(x) of every ReLU layer, each (n, width)."""
        with torch.no_grad():
            return self.forward_layers(X)[2][:-1]

    def activation_patterns(self, X) -> list:
        """1{h_l(x) >= 0} for every ReLU layer (Du et al. use the convention relu'(0) = 1)."""
        return [h >= 0 for h in self.preactivations(X)]

    def trained_layers(self) -> list:
        """Names of the layers that gradient descent trains, in forward order."""
        return [name for name in self.layer_names if self.trainable[name]]

    @property
    def in_features(self) -> int:
        return self.layer_matrix(self.layer_names[0]).shape[1]

    @property
    def device(self) -> torch.device:
        return getattr(self, self.layer_names[0]).device

    @property
    def dtype(self) -> torch.dtype:
        return getattr(self, self.layer_names[0]).dtype


class TwoLayerReLU(ReLUChain):
    """Du et al. (2019), eq. (1): f(W, a, x) = (1/sqrt m) sum_{r=1}^m a_r relu(w_r^T x).

    w_r(0) ~ N(0, I_d) (rows of ``W``, shape (m, d)); a_r ~ unif{-1, +1} (``a``, shape (m,)).
    Only W trains (Chapters 2-6) unless ``train_output=True`` (Chapter 7, Thm 3.3).
    """

    def __init__(self, d: int, m: int, *, seed: int = 0, train_output: bool = False,
                 dtype: torch.dtype = DEFAULT_DTYPE, device="auto"):
        _check_size("d", d)
        _check_size("m", m)
        g = torch.Generator().manual_seed(int(seed))
        W = torch.randn(m, d, generator=g, dtype=torch.float64)
        a = torch.randint(0, 2, (m,), generator=g).to(torch.float64) * 2 - 1
        super().__init__([("W", W, True), ("a", a, bool(train_output))],
                         act_scale=1 / math.sqrt(m), device=device, dtype=dtype)
        self.m, self.d, self.train_output, self.seed = m, d, bool(train_output), seed

    def extra_repr(self) -> str:
        return f"d={self.d}, m={self.m}, train_output={self.train_output}"


def _deep_layers(d, m, depth, parameterization, g):
    def normal(shape, var):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * math.sqrt(var)

    if parameterization == "ntk":
        layers = [("W1", normal((m, d), 1.0), True)]
        layers += [(f"W{l}", normal((m, m), 1.0), True) for l in range(2, depth + 1)]
        layers += [(f"W{depth + 1}", normal((1, m), 1.0), True)]
        return layers, math.sqrt(2.0 / m)
    if parameterization == "allen_zhu":
        layers = [("A", normal((m, d), 2.0 / m), False)]
        layers += [(f"W{l}", normal((m, m), 2.0 / m), True) for l in range(1, depth + 1)]
        layers += [("B", normal((1, m), 1.0), False)]
        return layers, 1.0
    # zou
    layers = [("W1", normal((m, d), 2.0 / m), True)]
    layers += [(f"W{l}", normal((m, m), 2.0 / m), True) for l in range(2, depth + 1)]
    v = torch.cat([torch.ones(m - m // 2), -torch.ones(m // 2)]).to(torch.float64)
    layers += [("v", v, False)]
    return layers, 1.0


class DeepReLU(ReLUChain):
    """A deep fully connected ReLU network in one of three papers' parameterizations.

    ``depth`` = L is the number of *trained* hidden weight matrices in the paper's own counting:
      - ``"ntk"``: L hidden layers, L+1 trained matrices (Arora et al. 2019, eq. (3));
      - ``"allen_zhu"``: fixed A, trained W_1..W_L, fixed B (Allen-Zhu et al. 2019, Sec. 2);
      - ``"zou"``: trained W_1..W_L, fixed +-1 output vector v (Zou et al. 2020, Sec. 3).

    ``init_variance`` (Chapter 10; ``"allen_zhu"`` and ``"zou"`` only): the variance of the
    entries of the hidden matrices (A and W_l, resp. W_l) instead of the papers' 2/m; the output
    layer is unchanged. The default None keeps 2/m. Same seed, same draws, rescaled.
    """

    def __init__(self, d: int, m: int, depth: int, *, parameterization: str = "ntk",
                 seed: int = 0, dtype: torch.dtype = DEFAULT_DTYPE, device="auto",
                 init_variance: float | None = None):
        _check_size("d", d)
        _check_size("m", m, minimum=2 if parameterization == "zou" else 1)
        _check_size("depth", depth)
        if parameterization not in PARAMETERIZATIONS:
            raise ValueError(
                f"parameterization must be one of {PARAMETERIZATIONS}, not {parameterization!r}"
            )
        g = torch.Generator().manual_seed(int(seed))
        layers, act_scale = _deep_layers(d, m, depth, parameterization, g)
        if init_variance is not None:
            if parameterization == "ntk":
                raise ValueError("init_variance applies to the 'allen_zhu' and 'zou' "
                                 "parameterizations (entries N(0, 2/m)), not to 'ntk'")
            if not isinstance(init_variance, (int, float)) or isinstance(init_variance, bool) \
                    or not math.isfinite(init_variance) or init_variance <= 0:
                raise ValueError(f"init_variance must be a positive number, not {init_variance!r}")
            gain = math.sqrt(init_variance * m / 2.0)
            layers = [(name, t * gain if k < len(layers) - 1 else t, tr)
                      for k, (name, t, tr) in enumerate(layers)]
        super().__init__(layers, act_scale=act_scale, device=device, dtype=dtype)
        self.d, self.m, self.depth = d, m, depth
        self.parameterization, self.seed = parameterization, seed

    def extra_repr(self) -> str:
        return (f"d={self.d}, m={self.m}, depth={self.depth}, "
                f"parameterization={self.parameterization!r}")
