"""Chapter 6, plots.figure1(..., mark_lambda0=True): the lambda_0 and lambda_0/2 lines go over the
curves, lambda_0 is labelled at the right end outside the axes, and panel (d)'s legend names the
two lines; without the option the figure is unchanged."""

from types import SimpleNamespace

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from overparam import plots  # noqa: E402


def _result():
    steps = np.arange(4)
    lam = np.array([[0.40, 0.42, 0.43, 0.44], [0.49, 0.5, 0.5, 0.5]])
    return SimpleNamespace(widths=[10, 3000], steps=steps, lambda_min_steps=steps, lambda0=0.5,
                           loss=np.ones((2, 4)), flips=np.ones((2, 4)), radius=np.ones((2, 4)),
                           lambda_min=lam)


def test_mark_lambda0_draws_the_lines_over_the_curves_and_labels_lambda0():
    fig = plots.figure1(_result(), mark_lambda0=True)
    ax = fig.axes[3]
    by_label = {line.get_label(): line for line in ax.lines}
    ref, half, widest = by_label[r"$\lambda_0$"], by_label[r"$\lambda_0/2$"], by_label["$m$ = 3000"]
    assert ref.get_zorder() > widest.get_zorder() and half.get_zorder() > widest.get_zorder()
    texts = [t for t in ax.texts if t.get_text() == r"$\lambda_0$"]
    assert len(texts) == 1 and texts[0].xy == (1.01, 0.5)          # right of the axes, at lambda_0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [r"$\lambda_0$", r"$\lambda_0/2$"]
    plt.close(fig)


def test_without_mark_lambda0_nothing_is_annotated():
    fig = plots.figure1(_result())
    assert not fig.axes[3].texts
    plt.close(fig)
