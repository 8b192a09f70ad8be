"""Chapter 7: moves_table summarizes both_layers_moves (medians over seeds, per-seed slopes)."""

import numpy as np
from overparam.both_layers import MOVES_ROWS, both_layers_moves, moves_table
from overparam.data import sphere_data


def test_moves_table_medians_units_and_slopes():
    X, y = sphere_data(8, 5, seed=0)
    widths, seeds, lam0 = [50, 200], [0, 1, 2], 0.3
    table, per_seed = moves_table(X, y, widths, seeds, lr=0.05, lambda0=lam0, steps=5)
    direct = [[both_layers_moves(X, y, m, lr=0.05, steps=5, seed=s) for s in seeds]
              for m in widths]
    # medians of the raw runs, H's moves in units of lambda0/4
    for label, key, unit, fit in MOVES_ROWS:
        for i, m in enumerate(widths):
            raw = np.median([r[key] for r in direct[i]])
            expect = raw / (lam0 / 4) if unit else raw
            assert np.isclose(table.loc[label, f"m = {m}"], expect, rtol=1e-12)
        # two widths: each seed's slope is the ratio of logs
        if fit:
            s = np.log(per_seed[key][1] / per_seed[key][0]) / np.log(widths[1] / widths[0])
            assert np.isclose(table.loc[label, "median slope"], np.median(s), rtol=1e-9)
        else:
            assert np.isnan(table.loc[label, "median slope"])
