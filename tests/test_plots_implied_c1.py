"""Chapter 13b: implied_constant_plot(..., implied=True) draws the implied constants C1 as given,
the same figure as passing kappa = C1 phi / n^3 without the flag."""
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from overparam import plots  # noqa: E402


def test_implied_flag_draws_c1_as_given_and_matches_the_kappa_form():
    rng = np.random.default_rng(1)
    phis, ns, n, phi = [0.1, 0.2, 0.4], [8, 16, 32], 16, 0.2
    c_phi = np.exp(rng.normal(6.0, 1.0, (4, 3)))               # C1 per (seed, phi)
    c_n = np.exp(rng.normal(6.0, 1.0, (4, 3)))                 # C1 per (seed, n)
    direct = plots.implied_constant_plot(phis, c_phi, ns, c_n, width=64, n=n, phi=phi,
                                         implied=True)
    kappa = plots.implied_constant_plot(phis, c_phi * np.array(phis) / n ** 3, ns,
                                        c_n * phi / np.array(ns, float) ** 3, width=64, n=n,
                                        phi=phi)
    for ax_d, ax_k, C in zip(direct.axes, kappa.axes, (c_phi, c_n)):
        np.testing.assert_allclose(ax_d.lines[0].get_ydata(), np.median(C, axis=0), rtol=1e-12)
        np.testing.assert_allclose(ax_d.lines[0].get_ydata(), ax_k.lines[0].get_ydata(),
                                   rtol=1e-12)
    matplotlib.pyplot.close("all")
