import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from overparam.ticks import _one_two_five, plain_log_ticks  # noqa: E402


def test_labels_only_one_two_five():
    assert [_one_two_five(v) for v in (0.02, 0.03, 0.05, 0.1, 0.4, 1.0, 2.0, 7.0)] == \
        ["0.02", "", "0.05", "0.1", "", "1", "2", ""]


def test_sets_both_formatters():
    fig, ax = plt.subplots()
    ax.set_yscale("log")
    ax.plot([1, 2], [0.02, 0.2])
    plain_log_ticks(ax)
    assert ax.yaxis.get_major_formatter()(0.05, 0) == "0.05"
    assert ax.yaxis.get_minor_formatter()(0.03, 0) == ""
    plt.close(fig)
