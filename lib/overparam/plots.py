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


def loglog_fit(x, y, *, ax=None, xlabel="", ylabel="", label="measured"):
    """Scatter y against x on log-log axes with the least-squares line; returns (fig, slope)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    fig, ax = new_axes(ax)
    ax.loglog(x, y, "o", label=label)
    ax.loglog(x, np.exp(intercept) * x ** slope, "--", label=f"fit: slope {slope:.2f}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    return fig, float(slope)
