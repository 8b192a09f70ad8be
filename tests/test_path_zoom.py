"""Chapter 14's two-panel path figure (plots.path_vs_region(zoom=True))."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from overparam import plots  # noqa: E402


def test_zoom_panel_shows_the_measured_median_and_the_reference_slope():
    tw = np.logspace(1, 6, 20)
    widths = [16, 32, 64, 128]
    rng = np.random.default_rng(0)
    measured = np.exp(rng.normal(0.0, 0.2, (3, 4))) * np.array(widths) ** -0.5
    fig = plots.path_vs_region(widths, measured, theory_widths=tw, tau_lemmas=tw ** -1.0,
                              tau_proofs=tw ** -2.0, path_bound=tw ** -0.5,
                              run_bound=2 * measured, zoom=True)
    left, right = fig.axes[:2]
    assert len(left.lines) == 5                        # the one-panel figure, unchanged
    med = np.median(measured, axis=0)
    np.testing.assert_allclose(right.lines[0].get_ydata(), med)
    ref = right.lines[1].get_ydata()                   # c m^-1/2 through the first median
    np.testing.assert_allclose(ref, med[0] * np.sqrt(widths[0] / np.array(widths)))
    assert right.get_xscale() == right.get_yscale() == "log"
