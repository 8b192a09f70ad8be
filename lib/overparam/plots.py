"""The course's figures, as functions of a ``History``, a ``SweepResult`` or plain arrays.

Each function draws on ``ax`` (or a new figure) and returns the figure, so lessons stay thin
and widgets can reuse them.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def new_axes(ax=None, figsize=(5.5, 3.6)):
    """(fig, ax): the given axes' figure, or a new figure."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def legend(ax, **kwargs):
    """``ax.legend(**kwargs)`` with one entry per label (all chapters). Curves drawn with the
    same label (the seeds of one width, reference lines of one kind) share its entry; a band
    and a line with the same label (``seed_band(..., band_label=label)``) share one entry that
    shows both, the shaded band behind the line. Labels starting with "_" are left out, as
    matplotlib does. Returns the legend, or None when nothing is labelled."""
    from matplotlib.lines import Line2D

    handles, labels = ax.get_legend_handles_labels()
    groups = {}
    for h, lab in zip(handles, labels):
        kinds = groups.setdefault(lab, {})
        kinds.setdefault("line" if isinstance(h, Line2D) else type(h).__name__, h)
    if not groups:
        return None
    entries = [tuple(k.values()) if len(k) > 1 else next(iter(k.values()))
               for k in groups.values()]
    return ax.legend(entries, list(groups), **kwargs)


def loss_curves(histories, labels=None, *, ax=None, record="loss", logy=True, title=None):
    """One curve per History of ``record`` (default the training loss) against the step."""
    fig, ax = new_axes(ax)
    labels = labels if labels is not None else [None] * len(histories)
    for h, lab in zip(histories, labels):
        ax.plot(h.steps, getattr(h, record), label=lab)
    ax.set_xlabel("step k")
    ax.set_ylabel(record.replace("_", " "))
    if logy:
        ax.set_yscale("log")
    if any(lab is not None for lab in labels):
        ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return fig


# --- Chapters 1-4 ---
def sweep_loss_curves(result, *, ax=None, seed_index=None, logy=True, title=None):
    """Chapter 1: the training loss against the step, one colour per width of a
    ``sweep.SweepResult`` (every seed drawn thin, or only ``seed_index``)."""
    fig, ax = new_axes(ax)
    seeds = range(len(result.seeds)) if seed_index is None else [seed_index]
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(result.widths)))
    for i, (m, c) in enumerate(zip(result.widths, colors)):
        for s in seeds:                  # every seed labelled; legend() lists the width once
            ax.plot(result.steps, np.maximum(result.loss[i, s], 1e-30), color=c, lw=1.2,
                    alpha=0.8, label=f"$m = {m}$")
    ax.set_xlabel(r"step $k$")
    ax.set_ylabel(r"training loss $L(W(k))$")
    if logy:
        ax.set_yscale("log")
    legend(ax, fontsize="small", ncol=2)
    if title:
        ax.set_title(title)
    return fig


def path_loss(ts, losses, *, ax=None, label="loss on the straight path", title=None):
    """Chapter 1: the loss along a straight path between two networks
    (``landscape.loss_along_path``) with the chord between its ends, which a convex loss
    would never exceed."""
    ts, losses = np.asarray(ts, float), np.asarray(losses, float)
    fig, ax = new_axes(ax)
    ax.plot(ts, losses, "-", label=label)
    ax.plot([ts[0], ts[-1]], [losses[0], losses[-1]], "k--", lw=1, label="chord (convex bound)")
    ax.set_xlabel(r"$t$, on the segment $\theta(t) = (1 - t)\,\theta_A + t\,\theta_B$")
    ax.set_ylabel(r"training loss $L(\theta(t))$")
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return fig


def gd_step_check(model, X, y, lr, *, ax=None):
    """Chapter 2: the actual change of the predictions in one GD step against Du et al.'s
    prediction -eta H(k)(u(k) - y) (eq. (7'), eq. (7) for one step;
    ``landscape.gd_step_prediction``).
    The title gives the relative error, the flipped patterns per input (out of m) and, when a
    pattern flipped, Pearson's correlation of the error with the predicted change."""
    from .landscape import gd_step_prediction

    actual, predicted, flips = gd_step_prediction(model, X, y, lr)
    rel = float((actual - predicted).norm() / predicted.norm())
    fig, ax = new_axes(ax, figsize=(4.8, 3.8))
    # the error itself (actual - predicted): on the scale of the changes it would be invisible
    ax.axhline(0.0, color="k", ls="--", lw=1, label="actual = predicted")
    ax.plot(predicted.numpy(), (actual - predicted).numpy(), "o", ms=4, label=r"one input $x_i$")
    ax.xaxis.set_major_locator(plt.MaxNLocator(5))
    ax.set_xlabel(r"predicted change $-\eta\,[H(k)(u(k) - y)]_i$")
    ax.set_ylabel("actual minus predicted change")
    title = (rf"$\eta$ = {lr:.2g}: relative error {rel:.2g}" "\n"
             f"{flips * model.m:.2g} flips per input (of m = {model.m})")
    if flips > 0:            # the sign of the flip errors (meaningless when nothing flips)
        e, p = (actual - predicted).numpy(), predicted.numpy()
        title += f", correlation {np.corrcoef(e, p)[0, 1]:.2f}"
    ax.set_title(title, fontsize="small")
    ax.legend(fontsize="small")
    return fig


def lambda0_vs_angle(n, d, angle_deg, *, seed=0, ax=None):
    """Chapter 3: lambda_0 = lambda_min(H^infty) of ``data.close_pair_data(n, d, angle)``
    against the angle between inputs x_0 and x_1 (Du et al. Thm 3.1: lambda_0 > 0 if no two
    inputs are parallel or opposite), with the chosen angle marked. At angle 0 the figure shows the
    error ``data.check_inputs`` raises."""
    from .data import check_inputs, close_pair_data
    from .kernels import h_infinity, lambda_min

    def lam(deg):
        X, _ = close_pair_data(n, d, np.deg2rad(deg), seed=seed)
        return lambda_min(h_infinity(X))

    angles = np.logspace(-3, np.log10(90.0), 25)
    fig, ax = new_axes(ax)
    ax.loglog(angles, [lam(a) for a in angles], "-", label=f"$n = {n}$, $d = {d}$")
    ax.set_xlabel(r"angle between $x_0$ and $x_1$ (degrees)")
    ax.set_ylabel(r"$\lambda_0 = \lambda_{\min}(H^\infty)$")
    if angle_deg > 0:
        value = lam(angle_deg)
        ax.loglog([angle_deg], [max(value, 1e-300)], "o", color="C3",
                  label=rf"angle {angle_deg:.3g}$^\circ$: $\lambda_0$ = {value:.3g}")
    else:
        X, _ = close_pair_data(n, d, 0.0, seed=seed)
        try:
            check_inputs(X)
            msg = "check_inputs accepted the data"
        except ValueError as err:
            msg = str(err)
        words, lines = msg.split(), [""]
        for w in words:
            lines[-1] = (lines[-1] + " " + w).strip()
            if len(lines[-1]) > 55:
                lines.append("")
        ax.text(0.02, 0.02, "angle 0: check_inputs says\n" + "\n".join(lines),
                transform=ax.transAxes, fontsize=7, va="bottom", color="C3")
    ax.legend(fontsize="small", loc="upper left")
    return fig


def gram_vs_limit(model, X, *, axes=None):
    """Chapter 4: heatmaps of H(0) (``kernels.gram_matrix`` of a ``TwoLayerReLU``), of H^infty
    and of their difference, with ||H(0) - H^infty||_2 (Du et al. Lemma 3.1: O(1/sqrt m))."""
    from .kernels import gram_matrix, h_infinity

    H0 = gram_matrix(model, X).cpu().numpy()
    Hinf = h_infinity(X).cpu().numpy()
    if axes is None:
        fig, axes = plt.subplots(1, 3, figsize=(10, 3.4), layout="constrained")
    else:
        fig = axes[0].figure
    vmax = float(np.abs(Hinf).max())
    diff = H0 - Hinf
    dmax = max(float(np.abs(diff).max()), 1e-12)
    for ax, M, name, lim in zip(axes, (H0, Hinf, diff),
                                (f"$H(0)$, $m = {model.m}$", r"$H^\infty$",
                                 r"$H(0) - H^\infty$ (own scale)"), (vmax, vmax, dmax)):
        im = ax.imshow(M, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(name, fontsize="small")
        ax.set_xticks([])
        ax.set_yticks([])
        if M is Hinf:
            fig.colorbar(im, ax=list(axes[:2]), shrink=0.8)
    fig.colorbar(im, ax=axes[2], shrink=0.8)
    fig.suptitle(rf"$\|H(0) - H^\infty\|_2$ = {np.linalg.norm(diff, 2):.3g}", fontsize="small")
    return fig


# --- Chapters 13-14 ---
def loss_and_error(histories, labels=None, *, title=None, mark_zero_error=True):
    """Chapters 13-14: each History's training loss (log scale, left) and training error
    (right, fraction of i with y_i f(x_i) <= 0) against the step; a dotted line marks the first
    step with zero training error. Needs ``record=("loss", "error")``."""
    fig, (ax_loss, ax_err) = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
    loss_curves(histories, labels, ax=ax_loss, record="loss")
    loss_curves(histories, labels, ax=ax_err, record="error", logy=False)
    ax_loss.set_ylabel("training loss (mean logistic)")
    ax_loss.yaxis.set_minor_formatter(plt.NullFormatter())
    ax_err.set_ylabel("training error")
    if mark_zero_error:
        for k, h in enumerate(histories):
            hit = np.nonzero(np.asarray(h.error) <= 0)[0]
            if hit.size:
                ax_err.axvline(h.steps[hit[0]], color=f"C{k}", ls=":", lw=1,
                               label="first step with zero error")
        legend(ax_err, fontsize="small")
    if title:
        fig.suptitle(title, fontsize="medium")
    return fig


# --- Chapters 5-7 ---
FIGURE1_PANELS = {
    "loss": ("(a) training loss", r"$L(W(k))$", True),
    "flips": ("(b) activation patterns changed", "fraction of $(i, r)$", False),
    "radius": ("(c) distance from initialization", r"$\max_r \|w_r(k) - w_r(0)\|$", False),
    "lambda_min": ("(d) least eigenvalue of $H(k)$", r"$\lambda_{\min}(H(k))$", False),
}


def figure1(result, *, panels=("loss", "flips", "radius", "lambda_min"), widths=None,
            axes=None, mark_lambda0=False):
    """Chapter 6: Du et al. (2019), Figure 1 (panels a-c: loss, fraction of activation patterns
    changed, max_r ||w_r(k) - w_r(0)||) plus lambda_min(H(k)) against lambda_0 (panel d), one
    curve per width, from an ``overparam.experiments.figure1`` result. ``panels`` picks and
    orders the panels, ``widths`` the widths to draw (default all). ``mark_lambda0=True`` draws
    panel (d)'s lambda_0 and lambda_0/2 lines over the curves, labels lambda_0 outside the right
    end and gives panel (d) a legend of the two lines."""
    if isinstance(panels, str):
        panels = (panels,)
    unknown = [p for p in panels if p not in FIGURE1_PANELS]
    if unknown or not panels:
        raise ValueError(f"panels must be names from {tuple(FIGURE1_PANELS)}, not {unknown}")
    all_widths = [int(m) for m in result.widths]
    chosen = all_widths if widths is None else [int(m) for m in widths]
    missing = [m for m in chosen if m not in all_widths]
    if missing:
        raise ValueError(f"widths {missing} are not in the result (it has {all_widths})")
    if axes is None:
        shape = (2, 2) if len(panels) == 4 else (1, len(panels))
        size = (10, 7) if len(panels) == 4 else (4.8 * len(panels), 3.6)
        fig, axes = plt.subplots(*shape, figsize=size, layout="constrained", squeeze=False)
    axes = np.asarray(axes).ravel()
    fig = axes[0].figure
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(all_widths)))
    for ax, name in zip(axes, panels):
        title, ylabel, logy = FIGURE1_PANELS[name]
        values = getattr(result, name)
        steps = result.lambda_min_steps if name == "lambda_min" else result.steps
        for j, m in enumerate(all_widths):
            if m in chosen:
                ax.plot(steps, values[j], color=colors[j], label=f"$m$ = {m}")
        if name == "lambda_min":
            # thin red dashes behind the curves: the widest net's curve lies on lambda_0
            ax.axhline(result.lambda0, color="C3", lw=1, dashes=(2, 4), zorder=1,
                       label=r"$\lambda_0$")
            ax.axhline(result.lambda0 / 2, color="k", ls=":", lw=1, label=r"$\lambda_0/2$")
        if logy:
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("iteration $k$")
        ax.set_ylabel(ylabel)
    axes[0].legend(fontsize="small")
    if "lambda_min" in panels and panels[0] != "lambda_min":
        axes[list(panels).index("lambda_min")].legend(
            handles=axes[list(panels).index("lambda_min")].lines[-2:], fontsize="small")
    if mark_lambda0 and "lambda_min" in panels:
        ax = axes[list(panels).index("lambda_min")]
        lam0_line, half_line = ax.lines[-2:]          # drawn last above: lambda_0, lambda_0/2
        lam0_line.set(dashes=(3, 3), lw=1.2, zorder=5)     # gaps: the widest curve shows
        half_line.set_zorder(5)
        ax.annotate(r"$\lambda_0$", (1.01, result.lambda0), xycoords=("axes fraction", "data"),
                    ha="left", va="center", color="C3", annotation_clip=False)
        ax.legend(handles=[lam0_line, half_line], fontsize="small", loc="center right")
    return fig


def step_size_demo(X, y, *, lr_scale, width=2000, steps=60, seed=0, ax=None):
    """Chapter 5: GD with step eta = lr_scale / lambda_max(H^infty) on ``TwoLayerReLU(d, width)``:
    its loss curve against Theorem 4.1's bound L(0) (1 - eta lambda_0/2)^k (Du et al. 2019),
    or, when ``train`` stops a diverging run, its message."""
    import textwrap

    from .kernels import h_infinity, lambda_max, lambda_min
    from .models import TwoLayerReLU
    from .train import loss_value, train

    H = h_infinity(X)
    lam0, lmax = lambda_min(H), lambda_max(H)
    eta = lr_scale / lmax
    net = TwoLayerReLU(X.shape[1], width, seed=seed, dtype=X.dtype, device=X.device)
    loss0 = float(loss_value(net(X).detach(), y, "square"))
    fig, ax = new_axes(ax)
    k = np.arange(steps + 1)
    try:
        hist = train(net, X, y, lr=eta, steps=steps)
        ax.plot(hist.steps, hist.loss, label=rf"GD, $\eta$ = {lr_scale:g}/$\lambda_{{\max}}$")
    except ValueError as err:
        ax.text(0.03, 0.05, textwrap.fill(str(err), 60), transform=ax.transAxes, fontsize=8,
                color="C3", va="bottom")
    ax.plot(k, loss0 * (1 - eta * lam0 / 2) ** k, "k--", lw=1,
            label=r"Thm 4.1: $L(0)(1-\eta\lambda_0/2)^k$")
    ax.set_yscale("log")
    ax.set_ylim(1e-12, 1e4 * loss0)
    ax.set_xlabel(r"step $k$")
    ax.set_ylabel(r"training loss $L(W(k))$")
    ax.set_title(rf"$\eta\,\lambda_{{\max}}(H^\infty)$ = {lr_scale:g}")
    ax.legend(fontsize="small", loc="upper right")
    return fig


def both_layers_demo(X, y, *, width, lr, steps=100, seed=0, ax=None):
    """Chapter 7: the same ``TwoLayerReLU(d, width, seed)`` trained with its output layer a
    fixed and with a trained too (Du et al. 2019, Thm 3.3), each against GD on its
    infinite-width linear model started from the network's u(0),
    u(k+1) = u(k) - lr K (u(k) - y) with K = H^infty or H^infty + G^infty."""
    from .kernels import two_layer_ntk
    from .linearize import train_linearized
    from .models import TwoLayerReLU
    from .train import train

    fig, ax = new_axes(ax)
    for i, both in enumerate((False, True)):
        net = TwoLayerReLU(X.shape[1], width, seed=seed, train_output=both, dtype=X.dtype,
                           device=X.device)
        K = two_layer_ntk(X, train_output=both)
        lin = train_linearized(net, X, y, lr=lr, steps=steps, K=K)
        hist = train(net, X, y, lr=lr, steps=steps)
        name = "W and output layer trained" if both else "W trained, output layer fixed"
        ax.plot(hist.steps, hist.loss, color=f"C{i}", label=name)
        kname = r"$H^\infty + G^\infty$" if both else r"$H^\infty$"
        ax.plot(lin["steps"], lin["loss"], color=f"C{i}", ls="--", lw=1,
                label=f"linear model with {kname}")
    ax.set_yscale("log")
    ax.set_xlabel("step $k$")
    ax.set_ylabel("training loss")
    ax.set_title(rf"$m$ = {width}, $\eta$ = {lr:.3g}")
    ax.legend(fontsize="small")
    return fig


# --- Chapter 8 ---
def linearization_slice(m, X, y, X_test, t_test, *, t_train=None, lr, steps, depth=1, seed=0,
                        ax=None):
    """Chapter 8: on a 1-D slice of the sphere (test inputs at angles ``t_test``), the trained
    ``DeepReLU(parameterization="ntk")`` of width m, its trained linearization, and GD with the
    infinite-width NTK ``kernels.deep_ntk`` (all from the same init, same lr and steps;
    ``linearize.network_vs_linearized``). Returns the figure."""
    from .kernels import deep_ntk
    from .linearize import network_vs_linearized
    from .models import DeepReLU

    net = DeepReLU(X.shape[1], int(m), depth, parameterization="ntk", seed=seed, device="cpu")
    r = network_vs_linearized(net, X, y, X_test, lr=lr, steps=steps,
                              ntk=lambda A, B: deep_ntk(A, B, depth=depth))
    fig, ax = new_axes(ax, figsize=(6.4, 3.6))
    t = np.asarray(t_test)
    ax.plot(t, r["init"], color="0.7", lw=1, label="network at init")
    ax.plot(t, r["network"], lw=2.2, label="trained network")
    ax.plot(t, r["linearized"], "--", lw=1.6, label="trained linearized model")
    ax.plot(t, r["kernel"], ":", lw=1.8, color="k",
            label=r"NTK model ($\Theta$, from this net's $f_0$)")
    if t_train is not None:
        ax.plot(np.asarray(t_train), np.asarray(y), "o", color="C3", label="training points")
    gap = np.abs(r["network"] - r["linearized"]).max()
    ax.set_title(rf"width $m$ = {int(m)}: $\max|f - f_{{\mathrm{{lin}}}}|$ = {gap:.2g}",
                 fontsize="medium")
    ax.set_xlabel(r"angle $t$ of $x = (\cos t, \sin t)$")
    ax.set_ylabel(r"output $f(x)$")
    ax.legend(fontsize="x-small", loc="best")
    return fig


# --- Chapters 10-12 ---
def norm_profile(depth: int = 10, gain: float = 2.0, *, m: int = 256, n: int = 8, seed: int = 0,
                 ax=None):
    """Chapter 10 (Allen-Zhu et al. 2019, forward stability): ||h_{i,l}|| against the layer l
    for n inputs of ``deep.azls_data`` through ``DeepReLU("allen_zhu")`` with entries of A and W_l
    drawn N(0, gain/m) (gain = 2 is the paper's), and the mean-field prediction
    (gain/2)^{(l+1)/2}: E||relu(W h)||^2 = (gain/2) ||h||^2 at each of the l + 1 ReLU layers
    (A rescaled too, so h_0 = relu(Ax) already has E||h_0||^2 = gain/2 for ||x|| = 1)."""
    from .deep import azls_data, hidden_norms
    from .models import DeepReLU

    X, _ = azls_data(n, 8, seed=seed)
    net = DeepReLU(8, m, int(depth), parameterization="allen_zhu", seed=seed, device="cpu",
                   init_variance=float(gain) / m)
    N = hidden_norms(net, X).numpy()
    fig, ax = new_axes(ax)
    layers = np.arange(N.shape[0])
    ax.semilogy(layers, N, color="C0", alpha=0.5, lw=1, label="one input $x_i$ each")
    ax.semilogy(layers, (gain / 2) ** ((layers + 1) / 2), "k--",
                label=r"$(\mathrm{gain}/2)^{(l+1)/2}$")
    ax.set_xlabel("layer l (0 = relu(Ax))")
    ax.set_ylabel(r"$\|h_{i,l}\|$")
    ax.set_title(f"entries N(0, {gain:g}/m), m = {m}, L = {int(depth)}")
    legend(ax, fontsize="small")
    return fig


def sign_changes_per_layer(omega: float = 0.1, depth: int = 4, *, m: int = 256, n: int = 8,
                           seed: int = 0, ax=None):
    """Chapter 11 widget: sign changes per layer (max over inputs) after a random perturbation
    of every W_l and after an adversarial one of W_1 only, both of spectral norm omega, with
    the reference m omega^{2/3}."""
    from .deep import (adversarial_perturbation, azls_data, perturbed, random_perturbation,
                       sign_changes)
    from .models import DeepReLU

    X, _ = azls_data(n, 8, seed=seed)
    net = DeepReLU(8, m, int(depth), parameterization="allen_zhu", seed=seed, device="cpu")
    rand = sign_changes(perturbed(net, random_perturbation(net, omega, seed=seed)), net, X)
    adv = sign_changes(perturbed(net, adversarial_perturbation(net, X, omega, layer=1)), net, X)
    fig, ax = new_axes(ax)
    layers = np.arange(1, int(depth) + 1)
    ax.bar(layers - 0.2, rand, width=0.4, label="random W' in every layer")
    ax.bar(layers + 0.2, adv, width=0.4, label="adversarial W' in layer 1")
    ax.axhline(m * omega ** (2 / 3), color="k", ls=":", label=r"$m\,\omega^{2/3}$")
    ax.set_xlabel("layer l")
    ax.set_ylabel("sign changes")
    ax.set_title(f"omega = {omega:g}, m = {m}")
    ax.legend(fontsize="small")
    return fig


# --- Trends over seeds (Chapters 6-9, 15) ---
def seed_slopes(x, Y, *, logx=True, logy=True):
    """The least-squares slope of (log) Y[:, s] against (log) x for every seed s; ``Y`` has
    shape (len(x), seeds). Returns a numpy array of one slope per seed."""
    x, Y = np.asarray(x, float), np.asarray(Y, float)
    if Y.ndim != 2 or Y.shape[0] != x.shape[0]:
        raise ValueError(f"Y must have shape (len(x), seeds) = ({x.shape[0]}, s), "
                         f"not {Y.shape}")
    u = np.log(x) if logx else x
    V = np.log(Y) if logy else Y
    return np.array([np.polyfit(u, V[:, s], 1)[0] for s in range(Y.shape[1])])


def seed_band(ax, x, Y, *, label=None, color=None, ls="-", marker=None, ms=None, lw=None,
              alpha=0.25, band_label=None):
    """The course's one drawer of a trend over seeds: the median over seeds (rows of ``Y``,
    shape (seeds, len(x))) as a line and the min-max band over seeds as a shaded area in the
    line's colour; NaN entries are ignored. The band is drawn first, so ``band_label`` comes
    before ``label`` in the legend; with ``band_label=label``, ``legend`` shows both in one
    entry (the figures of Chapters 1 and 12-14 do so); without ``band_label`` the band is not
    in the legend (the caller's legend lists the median). Returns the median's line."""
    Y = np.asarray(Y, dtype=float)
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            med, lo, hi = np.nanmedian(Y, 0), np.nanmin(Y, 0), np.nanmax(Y, 0)
    # the band goes first, so that a labelled band precedes its median in the legend (lessons
    # 9 and 15 pick band_fit's legend entries by position), and takes the median's colour
    band = ax.fill_between(x, lo, hi, color="none", alpha=alpha, lw=0, label=band_label)
    line, = ax.plot(x, med, ls=ls, marker=marker, ms=ms, lw=lw, color=color, label=label)
    band.set_color(line.get_color())
    return line


def band_fit(x, Y, *, ax=None, xlabel="", ylabel="", label="median over seeds", color="C0",
             logx=True, logy=True, fit=True):
    """Y[:, s] against x for every seed s as the median (markers and line) with the min-max
    band over seeds, and the least-squares line through the median, on log-log axes by default.
    The legend lists the band ("min-max over k seeds") before the median, once however many
    curves share the axes. Returns (fig, slopes): ``seed_slopes`` of the seeds (an empty array
    when ``fit=False``)."""
    x, Y = np.asarray(x, float), np.asarray(Y, float)
    slopes = seed_slopes(x, Y, logx=logx, logy=logy) if fit else np.array([])
    fig, ax = new_axes(ax)
    med = seed_band(ax, x, Y.T, label=label, color=color, marker="o",
                    band_label=f"min-max over {Y.shape[1]} seeds").get_ydata()
    if fit:
        u, v = (np.log(x) if logx else x), (np.log(med) if logy else med)
        s, c = np.polyfit(u, v, 1)
        line = s * u + c
        ax.plot(x, np.exp(line) if logy else line, "--", color="k", lw=1,
                label=f"slopes: median {np.median(slopes):.2f}, "
                      f"[{slopes.min():.2f}, {slopes.max():.2f}]")
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(plt.NullFormatter())   # no crowded minor labels
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    legend(ax, fontsize="x-small")
    return fig, slopes


# --- seeds: median and band (Chapters 10-11) ---
def median_band(x, Y, *, ax=None, label=None, color=None, fit_range=None, marker="o"):
    """Like ``band_fit`` but for several curves on one axes (no fit line, one legend entry per
    curve), with seeds along the *first* axis: Y has shape (seeds, len(x)). Draws the median
    over seeds (line and markers) and the min-max band on log-log axes. Returns (fig, slopes),
    ``seed_slopes`` of each seed (only the x in ``fit_range`` = (lo, hi), inclusive, when
    given), so a lesson prints the median slope with its spread across seeds."""
    x = np.asarray(x, float)
    Y = np.atleast_2d(np.asarray(Y, float))
    if Y.shape[1] != x.size:
        raise ValueError(f"Y must have shape (seeds, {x.size}), got {Y.shape}")
    if not (np.all(x > 0) and np.all(Y > 0)):
        raise ValueError("median_band draws log-log axes: x and Y must be positive")
    keep = np.ones(x.size, bool) if fit_range is None else (x >= fit_range[0]) & (x <= fit_range[1])
    if keep.sum() < 2:
        raise ValueError("fit_range must contain at least two x values")
    slopes = seed_slopes(x[keep], Y[:, keep].T)
    fig, ax = new_axes(ax)
    seed_band(ax, x, Y, label=label, color=color, marker=marker, ms=4)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_minor_formatter(plt.NullFormatter())      # no crowded 2x10^2, 3x10^2, ...
    if x.max() / x.min() < 100:                            # a short sweep: label its own x values
        ax.set_xticks(x, [f"{v:g}" for v in x])
    return fig, slopes


# --- Chapters 13-14 (Zou et al.): the region against the width ------------------------------
def loss_error_band(runs: dict, *, title=None, per_epoch=None):
    """Chapters 13-14: training loss L_S (left, log scale) and training error (right) against
    the step, for each label of ``runs`` (a list of Histories, one per seed, recorded at the
    same steps): median over seeds and min-max band. ``per_epoch`` (a dict label -> b/n)
    plots against epochs k b / n instead of iterations k."""
    fig, (ax_l, ax_e) = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
    for k, (name, hists) in enumerate(runs.items()):
        steps = np.asarray(hists[0].steps, dtype=float)
        if per_epoch is not None:
            steps = steps * per_epoch[name]
        seed_band(ax_l, steps, [h.loss for h in hists], label=name, color=f"C{k}",
                  band_label=name)
        seed_band(ax_e, steps, [h.error for h in hists], label=name, color=f"C{k}",
                  band_label=name)
    ax_l.set_yscale("log")
    ax_l.set_ylabel(r"training loss $L_S$")
    ax_e.set_ylabel("training error")
    for ax in (ax_l, ax_e):
        ax.set_xlabel(r"iteration $k$" if per_epoch is None else r"epochs $kB/n$")
    legend(ax_l, fontsize="small")
    if title:
        fig.suptitle(title, fontsize="medium")
    return fig


def gradient_bound_trajectories(tracks, *, n, width, phi, ax=None):
    """Chapter 13: along GD runs (``classification.RunTracker`` results, one per seed), the
    squared gradient of the last hidden layer ||grad_{W_L} L_S||_F^2 and over all layers,
    against the loss L_S, with Zou et al.'s Theorem 5.3(vii) lower bound
    (m phi / n^5)(sum_i l')^2 at C1 = 1, evaluated at the same points."""
    fig, ax = new_axes(ax, figsize=(6, 4))
    names = (r"$\|\nabla_W L_S\|_F^2$, all layers",
             r"$\|\nabla_{W_L} L_S\|_F^2$, last hidden layer",
             r"bound $(m\phi/n^5)(\Sigma_i\,\ell'_i)^2$ with $C_1 = 1$")
    for r in tracks:                                  # one curve per seed, one entry per name
        ax.loglog(r["loss"], r["all"], color="C1", lw=1, label=names[0])
        ax.loglog(r["loss"], r["last"], color="C0", lw=1, label=names[1])
        ax.loglog(r["loss"], width * phi / n ** 5 * r["dloss_sum"] ** 2, color="C3", ls="--",
                  lw=1, label=names[2])
    ax.set_xlabel(r"training loss $L_S$ ($\leftarrow$ training runs right to left)")
    ax.set_ylabel("squared gradient norm")
    legend(ax, fontsize="small")
    return fig


def implied_constant_plot(phis, kappa_phi, ns, kappa_n, *, width, n, phi, implied=False):
    """Chapter 13: from kappa = min over a run of n^2 ||grad_{W_L} L_S||_F^2 / (m (sum_i l')^2)
    (arrays (seeds, len(phis)) at n = ``n`` and (seeds, len(ns)) at phi = ``phi``), the constant
    C1 = kappa n^3 / phi that Zou et al.'s Theorem 5.3(vii) (kappa >= C1 phi / n^3) needs,
    against phi (left) and against n (right): median and min-max band over seeds. The theorem
    asks for one absolute C1 > 0: a band falling towards zero would show the bound failing.
    ``implied=True``: the two arrays are the implied constants C1 themselves, drawn as given."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
    c_phi, c_n = np.asarray(kappa_phi, dtype=float), np.asarray(kappa_n, dtype=float)
    if not implied:                                      # C1 = kappa n^3 / phi
        c_phi = c_phi * n ** 3 / np.asarray(phis, dtype=float)
        c_n = c_n * np.asarray(ns, dtype=float) ** 3 / phi
    for ax, x, C, name in ((a1, phis, c_phi, r"separation $\phi$"),
                           (a2, ns, c_n, r"number of examples $n$")):
        x = np.asarray(x, dtype=float)
        name_c = "implied $C_1$ (median, min-max over seeds)"
        seed_band(ax, x, C, marker="o", label=name_c, band_label=name_c)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
        lo, hi = ax.get_ylim()
        decades = range(int(np.floor(np.log10(lo))) - 1, int(np.ceil(np.log10(hi))) + 2)
        cands = [c * 10.0 ** k for k in decades for c in (1, 2, 3, 5, 7)]
        if sum(lo <= t <= hi for t in cands) < 3:           # a narrow range: every 1..9 x 10^k
            cands = [c * 10.0 ** k for k in decades for c in range(1, 10)]
        _plain_log_ticks(ax.yaxis, cands)
        ticks = list(ax.get_yticks())            # two labels at least: widen to show them
        top = 10.0 ** np.floor(np.log10(hi))
        top *= np.floor(2 * hi / top) / 2        # hi rounded down to 1, 1.5, 2, 2.5, ... x 10^k
        if max(ticks) < top / 1.2:               # label the top of the data (e.g. 1500, 2000)
            ticks = sorted(set(ticks) | {top})
            ax.yaxis.set_ticks(ticks, [f"{v:g}" for v in ticks])
        ax.set_ylim(min(lo, min(ticks)), max(hi, max(ticks)))
        ax.set_xlabel(name)
        ax.set_ylabel(r"implied $C_1$")
        legend(ax, fontsize="x-small")
    a1.set_title(rf"$m = {width}$, $n = {n}$", fontsize="medium")
    a2.set_title(rf"$m = {width}$, $\phi = {phi:g}$", fontsize="medium")
    return fig


def path_vs_region(widths, measured, *, theory_widths, tau_lemmas, tau_proofs, path_bound,
                   run_bound=None, ax=None, zoom: bool = False):
    """Chapter 14: against the width m, the measured distance max_k max_l ||W_l(k) - W_l(0)||_2
    of GD runs (``measured``: (seeds, len(widths)), median and band), the path-length bound of
    Zou et al.'s proof at the theorem's K eta (``path_bound`` on ``theory_widths``), the
    perturbation levels tau of Theorem 5.3 and of the proofs (constants 1), and optionally
    Lemma 5.5's bound at the runs' own k eta (``run_bound``, (seeds, len(widths))).
    ``zoom=True`` (a new figure only) adds a right panel, ``_path_zoom_panel``: the measured
    distances alone on the measured widths, with an m^-1/2 reference line; ``fig.axes[0]`` is
    then the full-range panel."""
    if zoom:
        if ax is not None:
            raise ValueError("zoom=True draws its own two-panel figure: pass ax=None")
        fig, (ax, right) = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained",
                                        gridspec_kw={"width_ratios": [1.6, 1]})
        _path_zoom_panel(right, widths, measured)
    fig, ax = new_axes(ax, figsize=(7, 4.2))
    tw = np.asarray(theory_widths, dtype=float)
    ax.loglog(tw, path_bound, "C3-", label="path-length bound at the theorem's $K\\eta$")
    ax.loglog(tw, tau_lemmas, "C2--", label=r"$\tau$ of Theorem 5.3 (lemmas)")
    ax.loglog(tw, tau_proofs, "C4:", label=r"$\tau = n^{-9}L^{-17}\phi^3$ (proofs)")
    if run_bound is not None:
        name = r"Lemma 5.5's bound at the runs' own $k\eta$"
        seed_band(ax, widths, run_bound, color="C1", marker="s", label=name, band_label=name)
    name = r"measured $\max_{k,l}\|W_l(k)-W_l(0)\|_2$"
    seed_band(ax, widths, measured, color="C0", marker="o", label=name, band_label=name)
    ax.set_xlabel(r"width $m$")
    ax.set_ylabel(r"spectral distance from $W(0)$")
    legend(ax, fontsize="x-small", loc="lower left")
    return fig


# --- Chapter 12 (Allen-Zhu et al.): the skeleton, depth, batch size -------------------------
def skeleton_plot(bounds, widths, arc, *, ax=None):
    """Chapter 12: against the width m (log-log), the lemmas' validity radius
    ``bounds.validity_radius(m)`` (step 1), the proof's path bound ``bounds.path_bound(m)``
    (step 2), their crossing ``bounds.crossing_width()`` (step 3), and the measured path length
    ``arc`` ((len(widths), seeds): median and min-max band) with the line of slope -1/2 through
    its median at the widest width, extended to the crossing."""
    fig, ax = new_axes(ax, figsize=(7, 4.2))
    widths = np.asarray(widths, float)
    arc = np.asarray(arc, float)
    mc = bounds.crossing_width()
    grid = np.logspace(np.log10(widths[0]), np.log10(mc) + 2, 200)
    ax.loglog(grid, [bounds.path_bound(m) for m in grid], "C3-",
              label=r"path bound $n^3\log m/(\delta\sqrt{m})$")
    ax.loglog(grid, [bounds.validity_radius(m) for m in grid], "C2--",
              label=r"validity radius $\delta^{3/2}/(n^{9/2}L^6\log^3 m)$")
    ax.axvline(mc, color="0.5", lw=0.8, ls=":", label="crossing width")
    mant, expo = f"{mc:.1e}".split("e")
    ax.annotate(rf"crossing: $m \approx {mant}\times 10^{{{int(expo)}}}$",
                (mc, bounds.path_bound(mc)), textcoords="offset points", xytext=(-4, 12),
                ha="right", fontsize="x-small")
    seed_band(ax, widths, arc.T, color="C0", marker="o", label="measured path length",
              band_label="measured path length")
    med = np.median(arc[-1])
    ext = grid[grid >= widths[-1]]
    ax.loglog(ext, med * (ext / widths[-1]) ** -0.5, "C0:", lw=1,
              label=r"measured, extended with slope $-1/2$")
    ax.set_xlabel(r"width $m$")
    ax.set_ylabel(r"distance from $W(0)$")
    legend(ax, fontsize="x-small", loc="lower left")
    return fig


def depth_kernel_plot(depths, summary: dict, n: int):
    """Chapter 12: Theta^L/(L+1) against the depth L (log scale): left, the smallest and
    largest off-diagonal entries with the limit 1/4; right, lambda_min, lambda_max and the
    condition number with their limits 3/4, 3/4 + n/4 and 1 + n/3
    (``deep.depth_kernel_summary``)."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
    d = np.asarray(depths, float)
    ax = axes[0]
    ax.fill_between(d, summary["off_min"], summary["off_max"], color="C0", alpha=0.3, lw=0,
                    label="off-diagonal entries (min to max)")
    ax.axhline(0.25, color="k", ls="--", lw=1, label="limit 1/4")
    ax.set_xscale("log")
    ax.set_xlabel(r"depth $L$")
    ax.set_ylabel(r"$\Theta^{(L)}_{ij}/(L+1)$, $i \neq j$")
    ax.legend(fontsize="x-small")
    ax = axes[1]
    ax.loglog(d, summary["lam_min"], "C0o-", ms=3, label=r"$\lambda_{\min}/(L+1)$")
    ax.loglog(d, summary["lam_max"], "C1s-", ms=3, label=r"$\lambda_{\max}/(L+1)$")
    ax.loglog(d, summary["cond"], "C2^-", ms=3, label=r"condition number")
    for v, c in ((0.75, "C0"), (0.75 + n / 4, "C1"), (1 + n / 3, "C2")):
        ax.axhline(v, color=c, ls="--", lw=0.8,
                   label=r"limits $3/4$, $3/4 + n/4$, $1 + n/3$")
    ax.set_xlabel(r"depth $L$")
    ax.set_ylabel("value (dashed: the limits)")
    legend(ax, fontsize="x-small")
    return fig


def depth_generalization_plot(depths, test_mse, constant_mse, prediction_std, *, ax=None):
    """Chapter 12: kernel regression with Theta^L on teacher tasks against the depth L, one
    column per data seed (arrays (len(depths), seeds), median and min-max band): the test mean
    squared error and the standard deviation of the test predictions; ``constant_mse`` (one
    per seed) is the test error of the best constant, drawn at its median."""
    fig, ax = new_axes(ax)
    d = np.asarray(depths, float)
    for values, c, mk, name in ((test_mse, "C0", "o", "test error of kernel regression"),
                                (prediction_std, "C1", "s", "std of the test predictions")):
        seed_band(ax, d, np.asarray(values, float).T, color=c, marker=mk, label=name,
                  band_label=name)
    ax.axhline(float(np.median(constant_mse)), color="C3", ls="--", lw=1,
               label="test error of a constant (median)")
    ax.set_xscale("log")
    ax.set_xlabel(r"depth $L$")
    ax.set_ylabel("mean squared error / std")
    legend(ax, fontsize="x-small")
    return fig


def _plain_log_ticks(axis, candidates):
    """Chapter 12: on a log axis, label only those of ``candidates`` inside the data range, as
    plain numbers (no mixed 10^k and minor labels); at least two are kept."""
    lo, hi = sorted(axis.get_view_interval())
    ticks = [v for v in candidates if lo <= v <= hi]
    if len(ticks) < 2:
        ticks = sorted(candidates, key=lambda v: abs(np.log(v) - np.log(np.sqrt(lo * hi))))[:2]
    axis.set_ticks(sorted(ticks), [f"{v:g}" for v in sorted(ticks)])
    axis.set_minor_formatter(plt.NullFormatter())


def batch_size_plot(batches, runs: dict):
    """Chapter 12: SGD at one width with step (b/n) eta: left, the iterations to reach the
    target against b (median and band) with the shape 1/b of the recalled SGD theorem through
    the median at the largest b (b = n is GD); right, the distance travelled
    (``deep.batch_size_runs``)."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
    b = np.asarray(batches, float)
    it = np.asarray(runs["iterations"], float)
    seed_band(axes[0], b, it.T, color="C0", marker="o", label="measured", band_label="measured")
    axes[0].plot(b, np.median(it[-1]) * b[-1] / b, "k--", lw=1,
                 label=r"$\propto 1/b$ (the theorem's shape)")
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set_xlabel(r"batch size $b$")
    _plain_log_ticks(axes[0].yaxis, [5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000])
    axes[0].set_ylabel("iterations to the target")
    legend(axes[0], fontsize="x-small")
    seed_band(axes[1], b, np.asarray(runs["distance"], float).T, color="C1", marker="s",
              label="measured", band_label="measured")
    axes[1].set_ylim(0, None)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xticks(b, [f"{v:g}" for v in b])
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
    axes[1].set_xlabel(r"batch size $b$")
    axes[1].set_ylabel(r"$\max_l\|W_l - W_l(0)\|_F$ at the target")
    legend(axes[1], fontsize="x-small")
    return fig


def _path_zoom_panel(ax, widths, measured, slope: float = -0.5):
    """Chapter 14, ``path_vs_region(zoom=True)``'s right panel: the measured distance
    max_k max_l ||W_l(k) - W_l(0)||_2 (median and min-max band over seeds) on the measured
    widths, with a reference line c m^slope through the median at the smallest width."""
    x, Y = np.asarray(widths, float), np.asarray(measured, float)
    med = seed_band(ax, x, Y, color="C0", marker="o", label="measured (median)",
                    band_label="measured (median)").get_ydata()
    ax.loglog(x, med[0] * (x / x[0]) ** slope, "k--", lw=0.8, label=rf"$\propto m^{{{slope:g}}}$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(x, [f"{w:g}" for w in x])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_xlabel(r"width $m$")
    ax.set_ylabel(r"$\max_{k,l}\|W_l(k)-W_l(0)\|_2$")
    ax.set_title("zoom: the measured widths", fontsize="medium")
    legend(ax, fontsize="x-small")
