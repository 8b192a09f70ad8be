"""Deep ReLU networks near initialization: the facts behind Allen-Zhu, Li & Song (2019)
(Chapters 10-12).

The model is ``DeepReLU(parameterization="allen_zhu")``: h_{i,0} = relu(A x_i),
h_{i,l} = relu(W_l h_{i,l-1}) (l = 1..L), f(x_i) = B h_{i,L}; A, W_l ~ N(0, 2/m), B ~ N(0, 1);
A and B fixed, W_1..W_L trained; loss F(W) = 1/2 sum_i (f(x_i) - y_i)^2 (``train``'s "square").

- ``azls_data``: unit inputs whose last coordinate is 1/sqrt(2) (the paper's data assumption);
- ``hidden_norms``, ``norm_growth``: ||h_{i,l}|| through the layers (forward stability);
- ``layer_gradients``: F and ||grad_{W_l} F||_F per trained layer (gradient lower bound);
- ``snapshot``, ``spectral_norm``, ``spectral_distance``, ``sign_changes``: ||W_l - W_l(0)||_2
  and how many ReLUs changed sign in each layer;
- ``random_perturbation``, ``adversarial_perturbation``, ``perturbed``: perturbations W' of a
  given spectral norm (random, or built to flip as many signs as possible);
- ``trajectory``: the above measured along a GD run (``train.train`` does the steps);
- ``semismoothness_gap``: F(W + W') - F(W) - <grad F(W), W'> for ||W'||_2 = r;
- ``azls_ntk``: the infinite-width NTK of the AZLS network (only W_1..W_L trained), built from
  ``kernels.deep_ntk`` and ``kernels.deep_nngp``;
- ``representation_distances``, ``predicted_distances``, ``separation_decay``: how the inputs'
  separation survives the layers (why delta <= O(1/L));
- ``path_lengths``, ``batch_size_runs``: the distance GD/SGD travels against the width and the
  batch size (the skeleton of the proof, Chapter 12); ``bootstrap_slopes``: the spread of a
  fitted exponent when the runs at different widths are independent;
- ``depth_kernel_summary``, ``ntk_fluctuation``: Theta^L as L grows, and its finite-width
  fluctuations.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch

from .data import check_inputs, sphere_data
from .device import as_tensor
from .kernels import _cosines_and_angles, _deep_recursion, deep_nngp, deep_ntk
from .train import _autograd_pass, loss_value, train


# --- data --------------------------------------------------------------------------------
def azls_data(n: int, d: int, *, seed: int = 0, labels: str = "gaussian"):
    """Allen-Zhu et al. (2019), data assumption: ||x_i|| = 1 with last coordinate 1/sqrt(2)
    (it plays the role of a bias). x_i = (z_i / sqrt 2, 1 / sqrt 2) with z_i uniform on the
    sphere S^{d-2} (``data.sphere_data(n, d - 1)``, same seed and labels). Chapter 12."""
    if not isinstance(d, int) or isinstance(d, bool) or d < 3:
        raise ValueError(f"d must be an integer >= 3 (d - 1 free coordinates and the bias), "
                         f"not {d!r}")
    Z, y = sphere_data(n, d - 1, seed=seed, labels=labels)
    X = torch.cat([Z / math.sqrt(2.0), torch.full((n, 1), 1 / math.sqrt(2.0), dtype=Z.dtype)], 1)
    return X, y


# --- forward stability (Chapter 10) ------------------------------------------------------
def hidden_norms(model, X) -> torch.Tensor:
    """||h_{i,l}|| for every ReLU layer l and input i, shape (layers, n): the norms of the
    post-activation vectors (for "allen_zhu", rows l = 0..L are h_0 = relu(A x), ..., h_L).
    Allen-Zhu et al. (2019), forward stability at init: with N(0, 2/m) all stay close to
    ||x|| = 1. Chapter 10."""
    with torch.no_grad():
        _, inputs, _ = model.forward_layers(X)
    return torch.stack([g.norm(dim=1) for g in inputs[1:]]).cpu()


def norm_growth(norms) -> float:
    """The per-layer growth factor of the squared norm, from a (layers, n) array of norms:
    exp(mean_i [log ||h_{i,last}||^2 - log ||h_{i,0}||^2] / (layers - 1)), a geometric mean.
    For N(0, s^2) weights, E||relu(W h)||^2 = (s^2 m / 2) ||h||^2, so it is close to s^2 m / 2
    (Chapter 10)."""
    norms = as_tensor(norms).to(torch.float64)
    if norms.ndim != 2 or norms.shape[0] < 2:
        raise ValueError("norms must have shape (layers, n) with at least two layers")
    logs = 2 * torch.log(norms)
    return float(torch.exp((logs[-1] - logs[0]).mean() / (norms.shape[0] - 1)))


# --- gradients (Chapter 11) ---------------------------------------------------------------
def layer_gradients(model, X, y):
    """(F, g): the loss F(W) = 1/2 sum_i (f(x_i) - y_i)^2 and g[l] = ||grad_{W_l} F||_F for each
    trained layer (a numpy array). Allen-Zhu et al. (2019), gradient bounds near init:
    ||grad F||^2 = sum_l g[l]^2 >= c F ("no spurious critical point"). Chapter 11."""
    X = check_inputs(X, y).to(device=model.device, dtype=model.dtype)
    y = as_tensor(y).to(device=model.device, dtype=model.dtype)
    params = [getattr(model, k) for k in model.trained_layers()]
    u, _, grads = _autograd_pass(model, params, X, y, "square", X.shape[0])
    return float(loss_value(u, y, "square")), np.array([float(g.norm()) for g in grads])


# --- distance from init and sign changes (Chapter 11) -------------------------------------
def snapshot(model) -> dict:
    """A copy {name: W_l} of the trained matrices: ``snapshot(model)`` before training is W(0),
    the reference of ``spectral_distance`` (Chapter 11)."""
    return {k: getattr(model, k).detach().clone() for k in model.trained_layers()}


def spectral_norm(D, *, iters: int = 300) -> float:
    """||D||_2 by power iteration on D^T D from a seeded start (matrix-vector products only: an
    SVD of an m x m matrix is slow on a busy laptop). Relative error ~1e-3 for a 256 x 256
    Gaussian matrix (the hardest case: the top singular values are close), far smaller for the
    nearly low-rank W(t) - W(0) of a GD run. Chapter 11."""
    D = as_tensor(D)
    g = torch.Generator().manual_seed(0)
    v = torch.randn(D.shape[1], generator=g, dtype=torch.float64).to(device=D.device, dtype=D.dtype)
    for _ in range(iters):
        w = D.T @ (D @ v)
        nw = w.norm()
        if float(nw) == 0.0:
            return 0.0
        v = w / nw
    return float((D @ v).norm())


def spectral_distance(model, init: dict) -> np.ndarray:
    """||W_l - W_l(0)||_2 (spectral norm) for each trained layer: the omega of Allen-Zhu et al.
    (2019), whose perturbation lemmas hold in the ball ||W_l - W_l(0)||_2 <= omega. Chapter 11."""
    with torch.no_grad():
        return np.array([spectral_norm(getattr(model, k) - init[k])
                         for k in model.trained_layers()])


def _trained_relu_layers(model):
    """Indices (into ``preactivations``) of the ReLU layers whose matrix is trained."""
    names = model.layer_names[:-1]
    return [k for k, name in enumerate(names) if model.trainable[name]]


def sign_changes(model, reference, X, *, reduce: str = "max") -> np.ndarray:
    """Number of ReLUs whose sign 1{(W_l h_{i,l-1})_r >= 0} differs between ``model`` and
    ``reference`` (a model with the same architecture, e.g. the one at init), per trained ReLU
    layer: the max over inputs i (``reduce="max"``) or the mean (``"mean"``). Allen-Zhu et al.
    (2019): ||W - W(0)||_2 <= omega changes at most O(m omega^{2/3} L) signs per layer. Ch. 11."""
    if reduce not in ("max", "mean"):
        raise ValueError(f"reduce must be 'max' or 'mean', not {reduce!r}")
    layers = _trained_relu_layers(model)
    p1, p0 = model.activation_patterns(X), reference.activation_patterns(X)
    out = []
    for k in layers:
        counts = (p1[k] != p0[k]).sum(dim=1).to(torch.float64)
        out.append(float(counts.max() if reduce == "max" else counts.mean()))
    return np.array(out)


def random_perturbation(model, omega: float, *, seed: int = 0) -> dict:
    """{name: W'_l}: a Gaussian direction in every trained layer scaled to ||W'_l||_2 = omega
    (a typical perturbation in the ball of Allen-Zhu et al.'s lemmas). Chapter 11."""
    g = torch.Generator().manual_seed(int(seed))
    out = {}
    for k in model.trained_layers():
        W = getattr(model, k)
        G = torch.randn(*W.shape, generator=g, dtype=torch.float64)
        G = G.to(device=W.device, dtype=W.dtype)
        out[k] = G * (omega / spectral_norm(G))
    return out


def adversarial_perturbation(model, X, omega: float, *, layer: int = 1, example: int = 0) -> dict:
    """{name: W'}: a rank-one change of the trained layer number ``layer`` (1-based) of spectral
    norm <= omega that flips as many signs of example ``example`` in that layer as it can: it
    pushes the k smallest pre-activations |z_r| = |(W_l h_{l-1})_r| across zero, W' = -1.01 z_S
    h^T / ||h||^2, with the largest k such that 1.01 ||z_S|| / ||h|| <= omega. Since the k
    smallest of m Gaussians have size ~ k/m^{3/2}, k ~ m omega^{2/3}: the worst case behind
    Allen-Zhu et al.'s O(m omega^{2/3}) sign-change bound. Chapter 11."""
    names = model.trained_layers()
    if not 1 <= layer <= len(names):
        raise ValueError(f"layer must be in 1..{len(names)}, not {layer!r}")
    name = names[layer - 1]
    k_idx = model.layer_names.index(name)
    with torch.no_grad():
        _, inputs, outputs = model.forward_layers(X[example:example + 1])
        h, z = inputs[k_idx][0], outputs[k_idx][0]
        order = torch.argsort(z.abs())
        cost = 1.01 * torch.sqrt(torch.cumsum(z[order] ** 2, 0)) / h.norm()
        k = int((cost <= omega).sum())
        zS = torch.zeros_like(z)
        zS[order[:k]] = z[order[:k]]
        Wp = -1.01 * torch.outer(zS, h) / h.norm() ** 2
    return {name: Wp}


def perturbed(model, delta: dict):
    """A copy of ``model`` with W_l + W'_l for every {name: W'_l} in ``delta``. Chapter 11."""
    new = copy.deepcopy(model)
    with torch.no_grad():
        for k, D in delta.items():
            getattr(new, k).add_(D)
    return new


# --- semi-smoothness (Chapter 11) ---------------------------------------------------------
def semismoothness_gap(model, X, y, radii, *, seed: int = 0, directions: int = 3) -> np.ndarray:
    """F(W + W') - F(W) - <grad F(W), W'> for random W' with ||W'_l||_2 = r in every trained
    layer, for each r in ``radii`` (max over ``directions`` random directions;
    ``landscape.taylor_remainder`` computes each gap). Allen-Zhu et al. (2019), semi-smoothness:
    the gap is at most O(omega^{1/3} L^2 sqrt(m log m)) ||W'|| sqrt(F) + O(n L^2 m) ||W'||^2
    (d_out = 1), first order in ||W'|| only because ReLU is not smooth. Chapter 11."""
    from .landscape import taylor_remainder

    return np.array([
        taylor_remainder(model, X, y, [random_perturbation(model, float(r), seed=seed + s)
                                       for s in range(directions)]).max()
        for r in radii])


# --- along a GD trajectory (Chapters 11-12) -------------------------------------------------
def trajectory(model, X, y, *, lr: float, steps: int, every: int = 10) -> dict:
    """Train ``model`` in place by full-batch GD (``train.train``, square loss) and measure,
    every ``every`` steps: ``step``, ``loss`` F, ``grad_sq`` ||grad F||^2, ``ratio``
    ||grad F||^2 / F, ``layer_grad`` (steps, L), ``distance`` ||W_l - W_l(0)||_2 (steps, L) and
    ``flips`` (steps, L), the max over inputs of the sign changes per layer since step 0.
    Allen-Zhu et al. (2019): the gradient lower bound, the small ball and the sign changes
    along the run. Chapters 11-12."""
    if not isinstance(every, int) or every < 1:
        raise ValueError(f"every must be an integer >= 1, not {every!r}")
    X = check_inputs(X, y).to(device=model.device, dtype=model.dtype)
    y = as_tensor(y).to(device=model.device, dtype=model.dtype)
    init, model0 = snapshot(model), copy.deepcopy(model)
    rows = {k: [] for k in ("step", "loss", "layer_grad", "distance", "flips")}

    def measure(k, net):                      # at steps 0, every, 2 every, ..., steps
        F, g = layer_gradients(net, X, y)
        rows["step"].append(k)
        rows["loss"].append(F)
        rows["layer_grad"].append(g)
        rows["distance"].append(spectral_distance(net, init))
        rows["flips"].append(sign_changes(net, model0, X))

    train(model, X, y, lr=lr, steps=steps, record=("loss",), record_every=every,
          progress=False, callback=measure)
    out = {k: np.array(v) for k, v in rows.items()}
    out["grad_sq"] = (out["layer_grad"] ** 2).sum(axis=1)
    out["ratio"] = out["grad_sq"] / out["loss"]
    return out


# --- the AZLS kernel (Chapter 12) -----------------------------------------------------------
def azls_ntk(X, Y=None, *, depth: int):
    """Infinite-width NTK of ``DeepReLU(parameterization="allen_zhu")`` divided by m/2 (the
    network is the NTK-parameterized net with L + 1 hidden layers, A = sqrt(2/m) V_1 and
    W_l = sqrt(2/m) V_{l+1}, so d f/d W_l = sqrt(m/2) d f/d V_{l+1}). Only W_1..W_L train, so
    from Arora et al.'s Theta^(L+1) = sum over layers k of Sigma^(k-1) prod_{h>=k} dot Sigma^h
    we remove the first layer's term Sigma^0 prod_{h=1}^{L+1} dot Sigma^h and the output
    layer's Sigma^(L+1). The empirical NTK of the AZLS net is ~ (m/2) azls_ntk (Chapter 12);
    this factor m is why the theorem's step size carries a 1/m."""
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
        raise ValueError(f"depth must be an integer >= 1 (trained layers W_1..W_L), not {depth!r}")
    rho, theta, scale, prod = _deep_recursion(X, Y, depth + 1, with_product=True)
    rho0 = _cosines_and_angles(X, Y, all_angles=False)[2]
    # first = Sigma^0 prod_{h=1}^{L+1} dot Sigma^h, the first layer's term, removed
    return (theta - rho - rho0 * prod).mul_(scale)


# --- separation through the layers: why delta <= O(1/L) (Chapter 12) -----------------------
def representation_distances(model, X) -> torch.Tensor:
    """(layers, n, n): the normalized distances ||h_{i,l}/||h_{i,l}|| - h_{j,l}/||h_{j,l}||||
    of the post-activation vectors (for "allen_zhu", l = 0..L: h_0 = relu(A x), ..., h_L).
    Allen-Zhu et al. (2019) need the inputs' delta-separation to survive the L layers at
    initialization; this measures it. Chapter 12."""
    X = check_inputs(X).to(device=model.device, dtype=model.dtype)
    with torch.no_grad():
        _, inputs, _ = model.forward_layers(X)
    out = []
    for h in inputs[1:]:
        u = h / h.norm(dim=1, keepdim=True).clamp_min(1e-300)
        out.append(torch.cdist(u, u))
    return torch.stack(out).cpu()


def predicted_distances(X, layers: int) -> torch.Tensor:
    """(layers, n, n): the infinite-width value of ``representation_distances`` for l = 0..
    layers-1. After k ReLU layers with N(0, 2/m) weights the cosine of two hidden vectors is
    rho^(k) = kappa_1 iterated k times on x_i^T x_j (the NNGP recursion ``kernels.deep_nngp``),
    so the distance is sqrt(2 - 2 rho^(l+1)). Chapter 12."""
    if not isinstance(layers, int) or isinstance(layers, bool) or layers < 1:
        raise ValueError(f"layers must be an integer >= 1, not {layers!r}")
    X = check_inputs(X)
    out = []
    for k in range(1, layers + 1):
        S = deep_nngp(X, depth=k)
        s = torch.sqrt(torch.diagonal(S))
        rho = (S / (s[:, None] * s[None, :])).clamp(-1.0, 1.0)
        rho.fill_diagonal_(1.0)
        out.append(torch.sqrt(2.0 - 2.0 * rho))
    return torch.stack(out).cpu()


def min_offdiagonal(D) -> np.ndarray:
    """min_{i != j} D[..., i, j] over the last two axes (e.g. the closest pair in each layer of
    ``representation_distances``). Chapter 12."""
    D = as_tensor(D).to(torch.float64)
    n = D.shape[-1]
    mask = torch.eye(n, dtype=torch.bool, device=D.device)
    return D.masked_fill(mask, math.inf).amin(dim=(-2, -1)).cpu().numpy()


def separation_decay(delta0: float, layers) -> np.ndarray:
    """The derived small-distance law of the kappa_1 map: two unit vectors at distance D have,
    after one ReLU layer, distance D (1 - D/(3 pi) + O(D^2)), so 1/D grows by about 1/(3 pi)
    per layer and D_l ~ D_0 / (1 + l D_0 / (3 pi)). D_L >= D_0 / 2 as long as L <= 3 pi / D_0:
    the reason for delta <= O(1/L). Chapter 12."""
    layers = np.asarray(layers, dtype=float)
    return delta0 / (1.0 + layers * delta0 / (3.0 * math.pi))


# --- the skeleton on numbers: path length against width (Chapter 12) -----------------------
def path_lengths(X, y, *, widths, depth: int, seeds, steps: int, lr_scale: float = 1.0,
                 target: float | None = None, device="cpu") -> dict:
    """Full-batch GD on ``DeepReLU("allen_zhu")`` with the stable step 1/lambda_max of the
    empirical NTK at init (``train.suggested_lr``) times ``lr_scale`` for each width and seed,
    for ``steps`` steps, or, with ``target``, until F <= target F(0) (at most ``steps``; compare
    widths at the same remaining loss, since a run stopped early has a shorter path). Returns
    arrays of shape (len(widths), len(seeds)): ``arc`` = sum_k eta ||grad F(W(k))||_F (the
    length of the path, which bounds every ||W_l(t) - W_l(0)||_2 along it), ``distance`` = max
    over steps and layers of ||W_l(t) - W_l(0)||_F, ``loss_ratio`` = F(T)/F(0), ``steps`` = T
    and ``lr``. Allen-Zhu et al. (2019): the proof bounds this path by n^3 log m / (delta sqrt m).
    Chapter 12."""
    from .models import DeepReLU
    from .train import suggested_lr

    X = check_inputs(X, y)
    if target is not None and not 0 < target < 1:
        raise ValueError(f"target is a fraction of F(0) in (0, 1) (or None), not {target!r}")
    widths, seeds = [int(m) for m in widths], [int(s) for s in seeds]
    shape = (len(widths), len(seeds))
    out = {k: np.zeros(shape) for k in ("arc", "distance", "loss_ratio", "steps", "lr")}
    for a, m in enumerate(widths):
        for b, s in enumerate(seeds):
            net = DeepReLU(X.shape[1], m, depth, parameterization="allen_zhu", seed=s,
                           device=device, dtype=X.dtype)
            lr = lr_scale * suggested_lr(net, X)["stable"]
            until = None
            if target is not None:
                with torch.no_grad():
                    F0 = float(loss_value(net(X.to(net.device)), as_tensor(y).to(net.device),
                                          "square"))
                until = {"loss": target * F0}
            h = train(net, X, y, lr=lr, steps=steps, record=("loss", "grad_norm", "radius"),
                      until=until, progress=False)
            out["arc"][a, b] = lr * float(np.sum(h.grad_norm[:-1]))
            out["distance"][a, b] = float(np.max(h.radius))
            out["loss_ratio"][a, b] = h.loss[-1] / h.loss[0]
            out["steps"][a, b] = h.steps[-1]
            out["lr"][a, b] = lr
    return out


def bootstrap_slopes(x, Y, *, reps: int = 2000, seed: int = 0) -> np.ndarray:
    """Slopes of log(median over seeds of Y) against log x when the seeds of different x are
    independent (networks of different widths share nothing): for each of ``reps`` resamples,
    draw the seeds of every x with replacement, independently per x, and fit the medians.
    ``Y`` has shape (len(x), seeds), positive. Returns the ``reps`` slopes (Chapter 12)."""
    x, Y = np.asarray(x, float), np.asarray(Y, float)
    if Y.ndim != 2 or Y.shape[0] != x.shape[0] or Y.shape[1] < 2:
        raise ValueError(f"Y must have shape (len(x), seeds >= 2) = ({x.shape[0]}, s), "
                         f"not {Y.shape}")
    if not (np.all(x > 0) and np.all(Y > 0)):
        raise ValueError("x and Y must be positive (the slope is fitted on a log-log scale)")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, Y.shape[1], size=(reps,) + Y.shape)          # (reps, len(x), seeds)
    med = np.median(np.take_along_axis(np.broadcast_to(Y, idx.shape), idx, axis=2), axis=2)
    u = np.log(x) - np.log(x).mean()
    return (np.log(med) - np.log(med).mean(axis=1, keepdims=True)) @ u / (u @ u)


def batch_size_runs(X, y, *, m: int, depth: int, batches, seeds, lr_full,
                    target: float = 1e-2, max_steps: int = 20000, sampling: str = "epoch",
                    device="cpu") -> dict:
    """SGD at one width with batch sizes b and step eta_b = (b/n) lr_full (the unbiased
    minibatch gradient, ``train``'s convention; b = n is GD with lr_full), each run until
    F <= target F(0). ``sampling`` is ``train``'s: "epoch" (reshuffle once per epoch) or
    "uniform" (an independent uniform b-subset at every step, the SGD the theorems analyse).
    Returns arrays (len(batches), len(seeds)): ``iterations`` (steps taken;
    max_steps if never reached), ``distance`` (max over layers of ||W_l - W_l(0)||_F when it
    stopped), ``examples`` = iterations * b. Allen-Zhu et al.'s SGD theorem (as we recall it):
    eta grows like b, T shrinks like 1/b, same width. ``lr_full`` is one float for every seed
    or a sequence of one per seed (e.g. each seed's own ``train.suggested_lr``). Chapter 12."""
    from .models import DeepReLU

    X = check_inputs(X, y)
    n = X.shape[0]
    batches, seeds = [int(b) for b in batches], [int(s) for s in seeds]
    if any(not 1 <= b <= n for b in batches):
        raise ValueError(f"batch sizes must lie in 1..n = {n}, not {batches}")
    shape = (len(batches), len(seeds))
    lrs = np.broadcast_to(np.asarray(lr_full, dtype=float), (len(seeds),))
    out = {k: np.zeros(shape) for k in ("iterations", "distance")}
    for a, b in enumerate(batches):
        for c, s in enumerate(seeds):
            net = DeepReLU(X.shape[1], m, depth, parameterization="allen_zhu", seed=s,
                           device=device, dtype=X.dtype)
            with torch.no_grad():
                F0 = float(loss_value(net(X.to(net.device)), as_tensor(y).to(net.device), "square"))
            h = train(net, X, y, lr=float(lrs[c]) * b / n, steps=max_steps,
                      batch_size=None if b == n else b, sampling=sampling,
                      record=("loss", "radius"), until={"loss": target * F0}, seed=s,
                      progress=False)
            out["iterations"][a, c] = h.steps[-1]
            out["distance"][a, c] = float(np.max(h.radius[-1]))
    out["examples"] = out["iterations"] * np.array(batches, dtype=float)[:, None]
    return out


# --- depth and the kernel (Chapter 12) --------------------------------------------------------
def depth_kernel_summary(X, depths) -> dict:
    """For each depth L of ``depths``, Theta^L / (L + 1) (``kernels.deep_ntk``, unit diagonal):
    ``off_min``, ``off_max`` (its off-diagonal entries), ``lam_min``, ``lam_max`` and ``cond``
    (= lam_max / lam_min). For ReLU without bias, Theta^L/(L+1) -> (3/4) I + (1/4) 1 1^T as
    L -> infinity for distinct unit inputs (Huang et al. 2020): lam_min -> 3/4,
    lam_max -> 3/4 + n/4. Chapter 12."""
    X = check_inputs(X)
    rows = {k: [] for k in ("off_min", "off_max", "lam_min", "lam_max", "cond")}
    n = X.shape[0]
    mask = ~torch.eye(n, dtype=torch.bool)
    for L in depths:
        K = deep_ntk(X, depth=int(L)).cpu() / (int(L) + 1)
        ev = torch.linalg.eigvalsh(0.5 * (K + K.T))
        rows["off_min"].append(float(K[mask].min()))
        rows["off_max"].append(float(K[mask].max()))
        rows["lam_min"].append(float(ev[0]))
        rows["lam_max"].append(float(ev[-1]))
        rows["cond"].append(float(ev[-1] / ev[0]))
    return {k: np.array(v) for k, v in rows.items()}


def ntk_fluctuation(X, *, depths, widths, seeds, device="cpu") -> np.ndarray:
    """||NTK_m - Theta^L||_F / ||Theta^L||_F for ``DeepReLU(parameterization="ntk")``
    (``kernels.empirical_ntk`` against ``kernels.deep_ntk``), shape (len(widths), len(depths),
    len(seeds)). The finite-width fluctuations grow with L/m (Hanin & Nica 2020). Ch. 12."""
    from .kernels import empirical_ntk
    from .models import DeepReLU

    X = check_inputs(X)
    out = np.zeros((len(widths), len(depths), len(seeds)))
    for a, m in enumerate(widths):
        for b, L in enumerate(depths):
            T = deep_ntk(X, depth=int(L))
            for c, s in enumerate(seeds):
                net = DeepReLU(X.shape[1], int(m), int(L), parameterization="ntk", seed=int(s),
                               device=device, dtype=X.dtype)
                E = empirical_ntk(net, X).to(T)
                out[a, b, c] = float(torch.linalg.norm(E - T) / torch.linalg.norm(T))
    return out


def depth_regression(X_train, y_train, X_test, y_test, depths) -> dict:
    """Kernel regression with Theta^L (``kernels.deep_ntk``, the trained infinitely wide
    NTK-parameterized net, ``linearize.ntk_regression``) for each depth L: ``mse`` (test mean
    squared error), ``std`` (spread of the test predictions) and ``constant`` (test error of
    the training mean, the best a constant predictor does here). As L grows, Theta^L/(L+1)
    forgets its inputs and the predictor tends to a constant away from the training points.
    Chapter 12."""
    from .linearize import ntk_regression

    Xtr, Xte = check_inputs(X_train, y_train), check_inputs(X_test, y_test)
    ytr = as_tensor(y_train).to(Xtr)
    yte = as_tensor(y_test).to(Xtr)
    mse, std = [], []
    for L in depths:
        p = ntk_regression(deep_ntk(Xtr, depth=int(L)), deep_ntk(Xte, Xtr, depth=int(L)), ytr)
        mse.append(float(((p - yte) ** 2).mean()))
        std.append(float(p.std()))
    return {"mse": np.array(mse), "std": np.array(std),
            "constant": float(((yte - ytr.mean()) ** 2).mean())}


# --- depth: the step size, the iterations and the width that trains (Chapter 12b) ------------
def depth_runs(X, y, *, depths, widths, seeds, steps: int, target: float = 1e-3,
               first_success: bool = False, device="cpu") -> dict:
    """Full-batch GD on ``DeepReLU("allen_zhu")`` for every depth L, width m and seed, with the
    stable step eta = 1/lambda_max of the empirical NTK at init (``train.suggested_lr``), until
    F <= target F(0) or ``steps`` steps. Returns arrays of shape (len(depths), len(widths),
    len(seeds)): ``lr`` (the step; its L-dependence is the largest usable step's, to set against
    the theorems' eta proportional to 1/L^2 (Allen-Zhu et al., as restated) and 1/L^9 (Zou et al.
    Thm 4.1)), ``iterations`` (the first recorded step with F <= target F(0); inf if the run
    never got there or diverged; also when the kernel at init is 0, ``lr`` NaN) and ``trained``
    (iterations finite). With ``first_success``
    the widths of one (L, seed) are tried in increasing order and the larger ones are skipped
    (NaN) once one trains: ``smallest_width`` (shape (len(depths), len(seeds))) is then the
    first width of ``widths`` that trains, inf if none. Chapter 12b (the depth picture)."""
    from .models import DeepReLU
    from .train import suggested_lr

    X = check_inputs(X, y)
    yt = as_tensor(y).to(X)
    if not 0 < target < 1:
        raise ValueError(f"target is a fraction of F(0) in (0, 1), not {target!r}")
    depths, widths, seeds = ([int(v) for v in a] for a in (depths, widths, seeds))
    if first_success and widths != sorted(widths):
        raise ValueError(f"with first_success the widths must increase, not {widths}")
    shape = (len(depths), len(widths), len(seeds))
    out = {"lr": np.full(shape, np.nan), "iterations": np.full(shape, np.nan)}
    for a, L in enumerate(depths):
        for c, s in enumerate(seeds):
            for b, m in enumerate(widths):
                net = DeepReLU(X.shape[1], m, L, parameterization="allen_zhu", seed=s,
                               device=device, dtype=X.dtype)
                try:
                    lr = suggested_lr(net, X)["stable"]
                except ZeroDivisionError:                        # a dead net: kernel 0
                    lr = math.nan
                with torch.no_grad():
                    F0 = float(loss_value(net(X.to(net.device)), yt.to(net.device), "square"))
                try:
                    if not math.isfinite(lr):
                        raise ValueError("no usable step: the kernel at init is 0")
                    h = train(net, X, yt, lr=lr, steps=steps, record=("loss",),
                              until={"loss": target * F0}, progress=False)
                    done = h.loss[-1] <= target * F0
                    it = float(h.steps[-1]) if done else math.inf
                except ValueError:                               # diverged: did not train
                    it = math.inf
                out["lr"][a, b, c], out["iterations"][a, b, c] = lr, it
                if first_success and math.isfinite(it):
                    break
    out["trained"] = np.isfinite(out["iterations"])
    if first_success:
        w = np.array(widths, dtype=float)
        first = np.argmax(out["trained"], axis=1)                       # (depths, seeds)
        out["smallest_width"] = np.where(out["trained"].any(axis=1), w[first], np.inf)
    return out


def azls_kernel_at_init(X, *, depths, m: int, seeds, device="cpu") -> dict:
    """The empirical NTK K of ``DeepReLU(d, m, L, "allen_zhu", seed=s)`` at initialization (the
    networks ``depth_runs`` trains), for every depth L and seed s: ``cond`` =
    lambda_max(K)/lambda_min(K), the condition number that sets GD's iteration count at the
    stable step 1/lambda_max (Chapter 5: contraction 1 - lambda_min/lambda_max per step), and
    ``deviation`` = ||K/(m/2) - azls_ntk||_F / ||azls_ntk||_F, the distance to the AZLS
    network's own infinite-width kernel (``azls_ntk``). Arrays of shape (len(depths),
    len(seeds)). Chapter 12b (the depth picture)."""
    from .kernels import empirical_ntk
    from .models import DeepReLU

    X = check_inputs(X)
    depths, seeds = [int(v) for v in depths], [int(v) for v in seeds]
    out = {k: np.zeros((len(depths), len(seeds))) for k in ("cond", "deviation")}
    for a, L in enumerate(depths):
        T = azls_ntk(X, depth=L)
        for c, s in enumerate(seeds):
            net = DeepReLU(X.shape[1], int(m), L, parameterization="allen_zhu", seed=s,
                           device=device, dtype=X.dtype)
            K = empirical_ntk(net, X).to(T)
            ev = torch.linalg.eigvalsh(K)
            out["cond"][a, c] = float(ev[-1] / ev[0])
            out["deviation"][a, c] = float(torch.linalg.norm(K / (m / 2) - T)
                                           / torch.linalg.norm(T))
    return out


def linearized_iterations(K, residual, step_fractions, *, target: float = 1e-2,
                          max_steps: int = 20000) -> np.ndarray:
    """Full-batch GD on the linearized model with kernel ``K`` (n x n, symmetric PSD) from the
    residual ``residual`` = f(x_i) - y_i, with steps eta = x / lambda_max(K) for each x in
    ``step_fractions``, without noise. Along an eigenvector u_i of K the residual shrinks by
    (1 - x lambda_i/lambda_max) per step, so F(k) = 1/2 sum_i (1 - x lambda_i/lambda_max)^(2k)
    (u_i^T r(0))^2. Returns, per x, the first k with F(k) <= target F(0) (``max_steps`` if none
    is reached by then). Chapter 12b (SGD's noiseless count: x = b/n gives the steps of size
    (b/n) eta_GD whose ratio to GD's count Bernoulli's inequality bounds below by n/b)."""
    lam, U = np.linalg.eigh(np.asarray(K, dtype=float))
    c2 = (U.T @ np.asarray(residual, dtype=float).reshape(-1)) ** 2      # residual, eigenbasis
    k = np.arange(max_steps + 1)[:, None]
    out = []
    for x in step_fractions:
        F = ((1 - float(x) * lam / lam[-1]) ** (2 * k) * c2).sum(axis=1)    # 2 F(k)
        hit = F <= target * F[0]
        out.append(int(np.argmax(hit)) if hit.any() else int(max_steps))
    return np.array(out)
