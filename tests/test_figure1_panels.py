"""Chapter 6, panel (d) of plots.figure1: the widest network's lambda_min(H(k)) lies on lambda_0,
so the lambda_0 line must not hide it (drawn behind the curves, in gapped dashes)."""

from types import SimpleNamespace

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from overparam import plots  # noqa: E402


def _result():
    steps = np.arange(4)
    lam = np.array([[0.40, 0.42, 0.43, 0.44], [0.49, 0.5, 0.5, 0.5]])    # the widest on lambda_0
    return SimpleNamespace(widths=[10, 3000], steps=steps, lambda_min_steps=steps, lambda0=0.5,
                           loss=np.ones((2, 4)), flips=np.ones((2, 4)), radius=np.ones((2, 4)),
                           lambda_min=lam)


def test_the_lambda0_line_is_drawn_behind_the_widest_curve_in_gapped_dashes():
    fig = plots.figure1(_result(), panels="lambda_min")
    ax = fig.axes[0]
    by_label = {line.get_label(): line for line in ax.lines}
    ref, widest = by_label[r"$\lambda_0$"], by_label["$m$ = 3000"]
    assert ref.get_zorder() < widest.get_zorder()
    assert np.allclose(ref.get_ydata(), 0.5) and np.allclose(widest.get_ydata()[1:], 0.5)
    on, off = ref._unscaled_dash_pattern[1]
    assert off >= on                   # at least as much gap as dash: the curve shows through
    plt.close(fig)
