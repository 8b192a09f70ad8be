"""Chapter 9, Fig. 9.3: the loss panel of ``plots.lazy_panels`` plots the recorded loss
1/2 ||alpha f - y||^2, not Chizat et al.'s L_alpha = that divided by alpha^2."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from overparam import plots  # noqa: E402
from overparam.data import sphere_data  # noqa: E402
from overparam.scaling import lazy_run  # noqa: E402


@pytest.mark.parametrize("alpha", [0.1, 10.0])
def test_recorded_loss_starts_at_half_norm_y_whatever_alpha(alpha):
    X, y = sphere_data(8, 5, seed=0, labels="teacher")
    run = lazy_run(X, y, m=20, alpha=alpha, lr=0.1, steps=2, record_every=1)
    half_y = 0.5 * float(torch.as_tensor(y).pow(2).sum())    # centred net: alpha f(W(0)) = 0
    assert run.loss[0] == pytest.approx(half_y, rel=1e-9)     # L_alpha would be half_y / alpha^2
    fig = plots.lazy_panels([run])
    title = fig.axes[0].get_title()
    assert r"\alpha f - y" in title and "L_" not in title
    assert np.isfinite(run.loss).all()
