"""Tests of overparam.experiments (Chapter 6: Du et al. 2019, Figure 1) and of the figures of
Chapters 5-7 in overparam.plots, at tiny scale."""

import subprocess
import sys

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from overparam import plots  # noqa: E402
from overparam.data import sphere_data  # noqa: E402
from overparam.experiments import Figure1Result, figure1, smallest_width_that_trains  # noqa: E402
from overparam.kernels import h_infinity, lambda_max  # noqa: E402
from overparam.sweep import sweep  # noqa: E402

WIDTHS = (20, 200, 2000)


@pytest.fixture(scope="module")
def result():
    return figure1(n=20, d=10, widths=WIDTHS, epochs=30, device="cpu", dtype=torch.float64,
                   seed=0, progress=False)


def test_figure1_records_have_one_row_per_width(result):
    assert list(result.widths) == list(WIDTHS)
    assert list(result.steps) == list(range(31))
    for name in ("loss", "flips", "radius"):
        assert getattr(result, name).shape == (3, 31)
    # lambda_min(H(k)) every 10th step and at the last one (the default lambda_min_every=10)
    assert list(result.lambda_min_steps) == [0, 10, 20, 30]
    assert result.lambda_min.shape == (3, 4)
    assert result.flips[:, 0].tolist() == [0, 0, 0] and result.radius[:, 0].tolist() == [0, 0, 0]


def test_figure1_agrees_with_the_batched_sweep(result):
    """figure1 (one ``train`` per width) and ``sweep`` (all widths stacked) are two separate
    implementations of the same GD; they must give the same records."""
    X, y = sphere_data(20, 10, seed=0)
    sw = sweep(WIDTHS, [0], X, y, lr=result.lr, steps=30, record=("loss", "flips", "radius"),
               device="cpu")
    for name in ("loss", "flips", "radius"):
        np.testing.assert_allclose(getattr(result, name), getattr(sw, name)[:, 0], rtol=1e-6,
                                   atol=1e-12)


def test_figure1_default_step_is_inverse_lambda_max(result):
    X, _ = sphere_data(20, 10, seed=0)
    H = h_infinity(X)
    assert result.lr == pytest.approx(1 / lambda_max(H))
    assert result.lambda0 == pytest.approx(float(torch.linalg.eigvalsh(H)[0]))


def test_figure1_wider_nets_move_less_as_the_paper_says(result):
    """Du et al. Fig. 1 (b), (c): fewer patterns flip and weights move less as m grows; the
    radius shrinks like 1/sqrt(m) (Cor. 4.1), so a 10x wider net moves about 3.2x less."""
    assert np.all(np.diff(result.flips[:, -1]) < 0)
    assert np.all(np.diff(result.radius[:, -1]) < 0)
    ratio = result.radius[:-1, -1] / result.radius[1:, -1]
    assert np.all((ratio > 10 ** 0.5 / 2) & (ratio < 10 ** 0.5 * 2))
    assert np.all(np.diff(result.loss[:, -1]) < 0)          # wider trains faster here
    gap = np.abs(result.lambda_min[:, 0] - result.lambda0)  # H(0) -> H^infty (Lemma 3.1)
    assert gap[-1] < gap[0]


def test_figure1_result_saves_and_loads(result, tmp_path):
    result.save(tmp_path / "r.npz")
    back = Figure1Result.load(tmp_path / "r.npz")
    np.testing.assert_array_equal(back.loss, result.loss)
    assert back.n == 20 and back.dtype == "float64" and back.lr == result.lr
    assert "lambda_min(H)" in back.summary()


def test_figure1_rejects_bad_arguments():
    with pytest.raises(ValueError, match="widths"):
        figure1(n=5, d=3, widths=(), epochs=2, device="cpu")
    with pytest.raises(ValueError, match="epochs"):
        figure1(n=5, d=3, widths=(4,), epochs=0, device="cpu")
    with pytest.raises(ValueError, match="dtype"):
        figure1(n=5, d=3, widths=(4,), epochs=2, device="cpu", dtype=torch.int64)


def test_figure1_is_callable_after_importing_the_submodule():
    import importlib

    module = importlib.import_module("overparam.experiments.figure1")
    res = module(n=6, d=4, widths=(8,), epochs=2, device="cpu", progress=False)
    assert res.loss.shape == (1, 3)


def test_cli_writes_a_png(tmp_path):
    out, npz = tmp_path / "fig1.png", tmp_path / "fig1.npz"
    proc = subprocess.run(
        [sys.executable, "-m", "overparam.experiments.figure1", "--n", "12", "--d", "6",
         "--widths", "10", "50", "--epochs", "5", "--device", "cpu", "--dtype", "float64",
         "--no-progress", "--out", str(out), "--save", str(npz)],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "RuntimeWarning" not in proc.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Figure1Result.load(npz).loss.shape == (2, 6)
    assert "figure saved" in proc.stdout


def test_smallest_width_that_trains():
    """One neuron cannot interpolate 20 generic labels; a wide net can."""
    X, y = sphere_data(20, 10, seed=0)
    lr = 1 / lambda_max(h_infinity(X))
    m, res = smallest_width_that_trains(X, y, [1, 2000], lr=lr, steps=100, seeds=(0, 1))
    assert m == 2000 and res.loss.shape == (2, 2, 2)
    none, _ = smallest_width_that_trains(X, y, [1], lr=lr, steps=10, seeds=(0,))
    assert none is None


def test_plots_figure1_draws_the_panels(result):
    fig = plots.figure1(result)
    assert len(fig.axes) == 4
    lam_ax = fig.axes[3]
    assert any(np.allclose(line.get_ydata(), result.lambda0) for line in lam_ax.lines)
    fig1 = plots.figure1(result, panels="radius", widths=[2000])
    assert len(fig1.axes) == 1 and len(fig1.axes[0].lines) == 1
    with pytest.raises(ValueError, match="panels"):
        plots.figure1(result, panels=("nope",))
    with pytest.raises(ValueError, match="not in the result"):
        plots.figure1(result, widths=[7])
    plt.close("all")


def test_step_size_demo_shows_the_divergence_message():
    X, y = sphere_data(20, 10, seed=0)
    ok = plots.step_size_demo(X, y, lr_scale=1.0, width=200, steps=20)
    curve = ok.axes[0].lines[0].get_ydata()
    assert curve[-1] < 1e-2 * curve[0]
    bad = plots.step_size_demo(X, y, lr_scale=6.0, width=200, steps=60)
    assert any("diverged" in t.get_text() for t in bad.axes[0].texts)
    plt.close("all")


def test_both_layers_demo_draws_networks_and_linear_models():
    X, y = sphere_data(20, 10, seed=0)
    fig = plots.both_layers_demo(X, y, width=500, lr=0.3, steps=20)
    assert len(fig.axes[0].lines) == 4
    plt.close("all")


def test_figure1_lambda_min_is_that_of_the_gram_matrix_at_the_recorded_steps():
    from overparam.kernels import gram_matrix, lambda_min
    from overparam.models import TwoLayerReLU

    res = figure1(n=12, d=6, widths=(50,), epochs=7, device="cpu", dtype=torch.float64,
                  progress=False, lambda_min_every=3)
    assert list(res.lambda_min_steps) == [0, 3, 6, 7]
    X, _ = sphere_data(12, 6, seed=0)
    net0 = TwoLayerReLU(6, 50, seed=0, device="cpu")
    assert res.lambda_min[0, 0] == pytest.approx(lambda_min(gram_matrix(net0, X)), rel=1e-10)
    with pytest.raises(ValueError, match="lambda_min_every"):
        figure1(n=5, d=3, widths=(4,), epochs=2, device="cpu", lambda_min_every=0)


def test_figure1_in_the_span_of_the_inputs_follows_train_exactly():
    """method="kernel" (one n x n x m product a step) and method="train" (overparam.train) are
    the same GD in exact arithmetic: in float64 every record agrees to rounding, lambda_min(H(k))
    (certified Lanczos vs a full eigvalsh of gram_matrix) included."""
    kw = dict(n=30, d=12, widths=(15, 300, 3000), epochs=40, device="cpu", dtype=torch.float64,
              seed=1, progress=False, lambda_min_every=7)
    a, b = figure1(**kw, method="kernel"), figure1(**kw, method="train")
    assert list(a.lambda_min_steps) == list(b.lambda_min_steps) == [0, 7, 14, 21, 28, 35, 40]
    np.testing.assert_array_equal(a.flips, b.flips)
    for name in ("loss", "radius", "lambda_min"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-9, atol=1e-13)
    assert np.all(a.loss[:, -1] < 0.03 * a.loss[:, 0])                # it did train


def test_figure1_float32_loss_follows_float64_down_to_its_rounding_floor():
    """The float32 run's residual norm ||u(k) - y|| = sqrt(2 L(k)) (its loss summed in float64)
    stays within the float32 rounding of the predictions, sqrt(2 loss_floor), of the float64
    run's at every step, while the loss falls through 14 orders of magnitude; the float64
    run's floor is float64 rounding, below 1e-26. (Two layouts of the same GD in float32, ``train``'s,
    flatten well above this floor: Chapter 6's panel (a) at the paper's scale.)"""
    kw = dict(n=40, d=40, widths=(200, 5000), epochs=150, device="cpu", seed=0,
              progress=False, lambda_min_every=150)
    r64, r32 = figure1(**kw, dtype=torch.float64), figure1(**kw, dtype=torch.float32)
    assert np.all(r64.loss_floor < 1e-26) and np.all(r32.loss_floor < 1e-10)
    assert np.all(r32.loss_floor > 0)
    assert r64.loss[:, -1].max() < 1e-20 < 1e-13 * r64.loss[:, 0].min()
    for j in range(2):
        gap = np.abs(np.sqrt(r32.loss[j]) - np.sqrt(r64.loss[j]))
        assert gap.max() <= 1.5 * np.sqrt(r32.loss_floor[j]), (j, gap.max(), r32.loss_floor[j])
        assert r32.loss[j].min() < 10 * r32.loss_floor[j]      # it kept falling to the floor


def test_figure1_paper_widths_preset():
    from overparam.experiments.figure1 import PAPER_WIDTHS

    res = figure1(n=6, d=4, widths="paper", epochs=1, device="cpu", progress=False)
    assert tuple(res.widths) == PAPER_WIDTHS == (500, 1000, 2000, 4000, 8000)
    with pytest.raises(ValueError, match="paper"):
        figure1(n=6, d=4, widths="all", epochs=1, device="cpu")
    with pytest.raises(ValueError, match="method"):
        figure1(n=6, d=4, widths=(5,), epochs=1, device="cpu", method="fast")


def test_cli_paper_widths(tmp_path, capsys):
    from overparam.experiments.figure1 import main

    res = main(["--n", "6", "--d", "4", "--widths", "paper", "--epochs", "1", "--device", "cpu",
                "--no-progress", "--out", str(tmp_path / "f.png")])
    assert tuple(res.widths) == (500, 1000, 2000, 4000, 8000)
    assert "loss floor" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--widths", "many", "--out", str(tmp_path / "g.png")])
